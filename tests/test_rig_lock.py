"""Two runs never share a watch: the second one to ask for a hardware rig is refused at once,
told who holds it."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pytest_vela.rig.lock import SYSTEM_LOCKS, lock_dir
from pytest_vela.rig.sim_process import SimulatorProcess
from pytest_vela.rigfile.schema import RigSettings
from tests.support.leftovers import sim_run_dir

HOLDER = """
import time
from pathlib import Path

def test_holds_the_watch(watch):
    Path("holding").write_text("yes")
    while not Path("release").exists():
        time.sleep(0.05)
"""


@pytest.fixture
def desk_watch() -> Iterator[str]:
    """A watch on a serial port, as far as the harness can tell: the simulator's pty."""
    with sim_run_dir() as run_dir:
        sim = SimulatorProcess(RigSettings(kind="sim"), run_dir)
        yield sim.start()
        sim.stop()


def test_a_second_run_is_refused_a_locked_rig(
    pytester: pytest.Pytester, desk_watch: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VELA_LOCK_DIR", str(tmp_path / "locks"))
    pytester.mkdir("rigs").joinpath("desk.toml").write_text(
        f"kind = 'hardware'\n[serial]\nport = '{desk_watch}'\n[ble]\nname = 'Vela-desk'\n"
    )
    pytester.makepyfile(test_hold=HOLDER)
    first = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-q",
            "--rig",
            "desk",
            "test_hold.py",
        ],
        cwd=pytester.path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while not (pytester.path / "holding").exists() and first.poll() is None:
            assert time.monotonic() < deadline, "the first run never got the watch"
            time.sleep(0.05)
        pytester.makepyfile(test_second="def test_wants_the_watch(watch):\n    pass\n")
        second = pytester.runpytest_subprocess(
            "-p", "no:cacheprovider", "--rig", "desk", "test_second.py"
        )
        second.assert_outcomes(errors=1)
        second.stdout.fnmatch_lines([f"*LockError: rig 'desk' is in use by pid {first.pid}*"])
    finally:
        (pytester.path / "release").write_text("now")
        out, _ = first.communicate(timeout=30)
    assert first.returncode == 0, out
    locks = tmp_path / "locks"
    assert not (locks / "desk.owner").exists()  # its holder's note goes with the lock
    assert (locks.stat().st_mode & 0o7777) == 0o1777  # any user of the host may lock a rig


def test_locks_live_in_the_systems_lock_directory(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VELA_LOCK_DIR")
    if os.access(SYSTEM_LOCKS, os.W_OK | os.X_OK):
        assert lock_dir() == SYSTEM_LOCKS / "pytest-vela"
    else:  # a host without /run/lock: the temporary directory
        assert lock_dir() == Path(tempfile.gettempdir()) / "pytest-vela-locks"
    monkeypatch.setenv("VELA_LOCK_DIR", "/srv/farm/locks")
    assert lock_dir() == Path("/srv/farm/locks")
