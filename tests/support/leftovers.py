"""What a pytest run may leave behind: helper processes and run directories."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from pytest_vela.common.processes import run_dir
from pytest_vela.rig.backends.simulated import RUN_DIR_PREFIX

RUN_DIR_PREFIXES = ("vela-sim-", "vela-dbus-", "vela-process-")


def _cmdlines() -> list[bytes]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                found.append((entry / "cmdline").read_bytes())
            except OSError:
                continue
    return found


def orphan_run_dirs(parent: int) -> list[Path]:
    """``parent``'s run directories that no running helper process uses any more."""
    in_use = b"\0".join(_cmdlines())
    return [path for path in run_dirs(parent) if str(path).encode() not in in_use]


def helper_processes(parent: int) -> list[int]:
    """The simulated watches and private buses that the pytest process ``parent`` started:
    both live in directories named after it."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        simulator = b"pytest_vela.sim" in argv and any(
            f"vela-sim-{parent}-".encode() in a for a in argv
        )
        private_bus = any(b"dbus-daemon" in a for a in argv[:1]) and any(
            f"vela-dbus-{parent}-".encode() in a for a in argv
        )
        if simulator or private_bus:
            found.append(int(entry.name))
    return found


def run_dirs(parent: int) -> list[Path]:
    """The run directories named after the pytest process ``parent``."""
    found: list[Path] = []
    for base in {Path(tempfile.gettempdir()), Path("/tmp")}:
        for prefix in RUN_DIR_PREFIXES:
            found.extend(base.glob(f"{prefix}{parent}-*"))
    return found


@contextlib.contextmanager
def sim_run_dir() -> Iterator[Path]:
    """A run directory for a simulated watch a test starts itself: short enough for its
    control socket's path (tmp_path may not be), named like the plugin's, removed after."""
    path = run_dir(RUN_DIR_PREFIX)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def wait_gone(parent: int, bound: float = 15.0) -> list[int]:
    """Wait until ``parent``'s helper processes are gone; the ones still there after it."""
    deadline = time.monotonic() + bound
    while (left := helper_processes(parent)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return left
