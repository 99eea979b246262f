"""The hardware code path, end to end: a rig of kind "hardware" whose serial port and BLE
peripheral happen to be a simulated watch run by hand (``pytest-vela sim``). The plugin then
takes the lock, opens the port by its path, finds the watch by name through BlueZ's D-Bus API
and runs the conformance suite unchanged — everything but the radio and the cable."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture
def watch_on_the_desk() -> Iterator[dict[str, str]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "pytest_vela.cli", "sim"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    seen = ""
    deadline = time.monotonic() + 30
    while "Ctrl-C stops it." not in seen:
        assert proc.poll() is None and time.monotonic() < deadline, seen
        seen += proc.stdout.readline()
    port = re.search(r"console port: (\S+)", seen)
    bus = re.search(r"DBUS_SYSTEM_BUS_ADDRESS='([^']+)'", seen)
    name = re.search(r"BLE bridge '([^']+)'", seen)
    assert port and bus and name, seen
    yield {"port": port[1], "bus": bus[1], "name": name[1]}
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=30)


def test_the_conformance_suite_passes_on_a_hardware_rig(
    pytester: pytest.Pytester,
    watch_on_the_desk: dict[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pytester.mkdir("rigs").joinpath("desk.toml").write_text(
        "kind = 'hardware'\n"
        f"[serial]\nport = '{watch_on_the_desk['port']}'\n"
        "[reset]\nmethod = 'dtr'\n"  # a pty has no DTR: a hard reset falls back to reboot
        f"[ble]\nname = '{watch_on_the_desk['name']}'\n"
    )
    monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", watch_on_the_desk["bus"])
    monkeypatch.setenv("VELA_LOCK_DIR", str(tmp_path / "locks"))
    suite = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--rig", "desk", "--pyargs", "pytest_vela.conformance"
    )
    suite.assert_outcomes(passed=20)
    logs = pytester.path / "reports" / "desk" / "logs"
    assert "> am start com.vela.agent" in next(logs.glob("console-*.log")).read_text()

    pytester.makepyfile(test_hard="def test_hard_reset(watch):\n    watch.reset(hard=True)\n")
    hard = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--rig", "desk", "test_hard.py")
    hard.assert_outcomes(passed=1)
    newest = max(logs.glob("console-*.log"), key=lambda p: p.stat().st_mtime).read_text()
    assert "DTR not supported on this port (ENOTTY): rebooting from the shell" in newest
