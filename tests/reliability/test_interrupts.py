"""A run that is interrupted — Ctrl-C at a terminal, a job's SIGTERM, a SIGKILL — ends in a
clear message and leaves nothing behind: the next run finds no processes and no directories
of it, and passes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.leftovers import run_dirs, wait_gone
from tests.support.rigs import FAST_SIM, write_rig

SLEEPER = """
import os, time
from pathlib import Path

def test_waits(interconnect):
    Path("ready").write_text(str(os.getpid()))
    time.sleep(60)
"""

QUICK = """
def test_quick(interconnect):
    assert interconnect.send({"n": 1}).ok
"""


def start_run(root: Path) -> subprocess.Popen[str]:
    """pytest in a process group of its own, as a shell starts a job at a terminal."""
    (root / "ready").unlink(missing_ok=True)
    proc = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "test_sleep.py"],
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while not (root / "ready").exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert (root / "ready").exists(), proc.communicate(timeout=10)[0]
    return proc


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    write_rig(tmp_path / "rigs", "sim", FAST_SIM)
    (tmp_path / "test_sleep.py").write_text(SLEEPER)
    (tmp_path / "test_quick.py").write_text(QUICK)
    return tmp_path


@pytest.mark.parametrize("how", ["ctrl-c", "sigterm"])
def test_an_interrupt_ends_cleanly_and_leaves_nothing(project: Path, how: str) -> None:
    proc = start_run(project)
    try:
        if how == "ctrl-c":
            os.killpg(proc.pid, signal.SIGINT)  # the terminal signals the whole group
        else:
            proc.send_signal(signal.SIGTERM)  # a CI job's timeout
        out, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert "Traceback" not in out, out  # no dbus-fast / bleak noise from a bus that died first
    assert "EOFError" not in out and "BrokenPipeError" not in out, out
    assert ("KeyboardInterrupt" if how == "ctrl-c" else "terminated") in out, out
    assert wait_gone(proc.pid) == []
    assert run_dirs(proc.pid) == []


def test_a_killed_run_is_cleaned_up_by_the_next_one(project: Path) -> None:
    proc = start_run(project)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert wait_gone(proc.pid) == []  # helpers die with their parent
    after = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "test_quick.py"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "1 passed" in after.stdout, after.stdout + after.stderr
    assert run_dirs(proc.pid) == []  # swept by the next run


# Delivers the signal to the run itself just as its rigs begin to shut down.
SIGNAL_AT_SHUTDOWN = """
import os
import signal

from pytest_vela.rig.session import RigSession

_close = RigSession.close


def _close_as_the_signal_comes(self):
    os.kill(os.getpid(), signal.{name})
    _close(self)


RigSession.close = _close_as_the_signal_comes
"""


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_an_interrupt_while_the_rigs_shut_down_waits_for_them(
    project: Path, sig: signal.Signals
) -> None:
    (project / "conftest.py").write_text(SIGNAL_AT_SHUTDOWN.format(name=sig.name))
    proc = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "test_quick.py"],
        cwd=project,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    out, _ = proc.communicate(timeout=120)
    assert "1 passed" in out, out
    assert ("KeyboardInterrupt" if sig is signal.SIGINT else "terminated by SIGTERM") in out, out
    assert wait_gone(proc.pid) == []
    assert run_dirs(proc.pid) == [], out  # the simulated watch's, the private bus's
