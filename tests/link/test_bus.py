"""The private dbus-daemon: start, stop, clear errors, no orphans."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from pytest_vela.errors import SimulatorError
from pytest_vela.rig.private_bus import PrivateBus, bus_config


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is dead for our purposes
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split()[2] != "Z"


def wait_dead(pid: int, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not alive(pid):
            return True
        time.sleep(0.02)
    return False


def test_config_ships_with_the_package() -> None:
    text = bus_config().read_text()
    assert "<auth>EXTERNAL</auth>" in text


def test_start_stop_removes_process_and_directory() -> None:
    bus = PrivateBus()
    address = bus.start()
    assert address.startswith("unix:path=") and "guid=" in address
    assert bus.environ() == {"DBUS_SYSTEM_BUS_ADDRESS": address}
    pid, directory = bus.pid, bus.directory
    assert pid is not None and directory is not None and (directory / "bus").exists()
    bus.stop()
    bus.stop()
    assert wait_dead(pid)
    assert not directory.exists()
    with pytest.raises(SimulatorError, match="not running"):
        bus.environ()


def test_missing_dbus_daemon_says_how_to_install() -> None:
    with pytest.raises(SimulatorError, match=r"not found on PATH.*apt-get install dbus-daemon"):
        PrivateBus(executable="dbus-daemon-that-does-not-exist").start()


def test_bad_config_is_reported_with_daemon_output(tmp_path: Path) -> None:
    broken = tmp_path / "broken.conf"
    broken.write_text("<busconfig><nonsense/></busconfig>")
    bus = PrivateBus(config=broken)
    with pytest.raises(SimulatorError, match="did not start"):
        bus.start()
    assert not bus.running and bus.directory is None


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGINT])
def test_daemon_does_not_outlive_a_killed_parent(tmp_path: Path, how: signal.Signals) -> None:
    """A stand-in for pytest starts a bus, then dies abruptly (SIGKILL) or by Ctrl-C."""
    script = tmp_path / "parent.py"
    script.write_text(
        textwrap.dedent(
            """
            import sys, time
            from pytest_vela.rig.private_bus import PrivateBus
            bus = PrivateBus()
            bus.start()
            print(bus.pid, bus.directory, flush=True)
            time.sleep(60)
            """
        )
    )
    parent = subprocess.Popen(
        [sys.executable, str(script)], stdout=subprocess.PIPE, text=True, cwd=os.getcwd()
    )
    try:
        assert parent.stdout is not None
        pid_text, directory = parent.stdout.readline().split()
        daemon = int(pid_text)
        assert alive(daemon)
        parent.send_signal(how)
        parent.wait(10)
        assert wait_dead(daemon), "dbus-daemon outlived its parent"
        if how == signal.SIGINT:
            assert not Path(directory).exists(), "Ctrl-C runs the cleanup"
    finally:
        parent.kill()
        parent.wait()
