"""What a pytest run may leave behind: helper processes and run directories."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

RUN_DIR_PREFIXES = ("vela-sim-", "vela-dbus-")


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


def wait_gone(parent: int, bound: float = 15.0) -> list[int]:
    """Wait until ``parent``'s helper processes are gone; the ones still there after it."""
    deadline = time.monotonic() + bound
    while (left := helper_processes(parent)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return left
