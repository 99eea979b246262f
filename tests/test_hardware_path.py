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

from tests.support.rigs import FAST_SIM


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
    # No link profile declared: the run tells it; the test of the documented one only skips.
    suite.assert_outcomes(passed=25, skipped=1)
    logs = pytester.path / "reports" / "desk" / "logs"
    assert "> am start com.vela.agent" in next(logs.glob("console-*.log")).read_text()

    pytester.makepyfile(test_hard="def test_hard_reset(watch):\n    watch.reset(hard=True)\n")
    hard = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--rig", "desk", "test_hard.py")
    hard.assert_outcomes(passed=1)
    newest = max(logs.glob("console-*.log"), key=lambda p: p.stat().st_mtime).read_text()
    assert "DTR not supported on this port (ENOTTY): rebooting from the shell" in newest


@pytest.mark.parametrize("order", ["sim,desk", "desk,sim"])
def test_a_simulated_rig_and_a_hardware_rig_share_one_run(
    pytester: pytest.Pytester,
    watch_on_the_desk: dict[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    order: str,
) -> None:
    """The simulated rig's BlueZ is on a private bus of its own; the desk's watch is behind
    the host's system bus. Either order, each rig's BLE client reaches its own."""
    rigs = pytester.mkdir("rigs")
    rigs.joinpath("desk.toml").write_text(
        "kind = 'hardware'\n"
        f"[serial]\nport = '{watch_on_the_desk['port']}'\n"
        f"[ble]\nname = '{watch_on_the_desk['name']}'\n"
    )
    rigs.joinpath("sim.toml").write_text(FAST_SIM)
    monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", watch_on_the_desk["bus"])
    monkeypatch.setenv("VELA_LOCK_DIR", str(tmp_path / "locks"))
    pytester.makepyfile(
        test_both="""
        from pytest_vela import ReadyState

        def test_link(interconnect, peer, rig):
            assert interconnect.get_ready_state() == ReadyState.CONNECTED
            peer.send({"rig": rig.name})
            assert interconnect.events.wait_for("message", timeout=5)
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--rig", order, "-v")
    result.assert_outcomes(passed=2)
    for name in ("sim", "desk"):
        result.stdout.fnmatch_lines([f"*test_link?{name}? PASSED*"])


def test_two_simulated_rigs_share_one_process(pytester: pytest.Pytester) -> None:
    """Each simulated rig plays BlueZ on its own private bus, and each rig's client is
    pointed at its own: no worker per rig needed."""
    rigs = pytester.mkdir("rigs")
    for name in ("sim", "sim2"):
        rigs.joinpath(f"{name}.toml").write_text(FAST_SIM)
    pytester.makepyfile(
        test_two="""
        def test_send(interconnect):
            assert interconnect.send({"n": 1}).ok
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--rig", "sim,sim2")
    result.assert_outcomes(passed=2)


def test_a_run_after_a_killed_one_takes_the_watch_over(
    pytester: pytest.Pytester,
    watch_on_the_desk: dict[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """BlueZ keeps the watch connected when the run that connected it is killed; the next
    run finds it connected, lets it go, and connects as usual."""
    pytester.mkdir("rigs").joinpath("desk.toml").write_text(
        "kind = 'hardware'\n"
        f"[serial]\nport = '{watch_on_the_desk['port']}'\n"
        f"[ble]\nname = '{watch_on_the_desk['name']}'\n"
    )
    monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", watch_on_the_desk["bus"])
    monkeypatch.setenv("VELA_LOCK_DIR", str(tmp_path / "locks"))
    pytester.makepyfile(
        test_hold="""
        import time
        from pathlib import Path

        def test_holds(interconnect):
            Path("connected").write_text("yes")
            time.sleep(60)
        """,
        test_link="""
        def test_link(interconnect):
            assert interconnect.send({"n": 1}).ok
        """,
    )
    held = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--rig", "desk", "test_hold.py"],
        cwd=pytester.path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while not (pytester.path / "connected").exists() and time.monotonic() < deadline:
        assert held.poll() is None
        time.sleep(0.05)
    held.send_signal(signal.SIGKILL)
    held.wait()
    after = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--rig", "desk", "test_link.py")
    after.assert_outcomes(passed=1)
