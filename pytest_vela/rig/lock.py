"""A hardware rig's lock: two runs never drive one watch."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from filelock import FileLock, Timeout

from pytest_vela.errors import LockError

SYSTEM_LOCKS = Path("/run/lock")  # the system's directory for lock files (FHS), a tmpfs


def lock_dir() -> Path:
    """Where rig locks live: ``$VELA_LOCK_DIR``; by default the system's lock directory
    (``/run/lock/pytest-vela``: emptied at boot, like the locks it holds, and shared by every
    user of a farm host), else ``<tmp>/pytest-vela-locks`` where there is none."""
    given = os.environ.get("VELA_LOCK_DIR")
    if given:
        return Path(given)
    if os.access(SYSTEM_LOCKS, os.W_OK | os.X_OK):
        return SYSTEM_LOCKS / "pytest-vela"
    return Path(tempfile.gettempdir()) / "pytest-vela-locks"


def _make_shared(directory: Path) -> None:
    """The lock directory, writable by every user of the host (sticky, as /tmp is)."""
    try:
        directory.mkdir(parents=True)
    except FileExistsError:
        return
    os.chmod(directory, 0o1777)


class RigLock:
    """An OS file lock (released by the kernel when the holder dies) plus a note of who holds
    it, so that a refused run can say whom to ask."""

    def __init__(self, rig: str) -> None:
        self.rig = rig
        self.path = lock_dir() / f"{rig}.lock"
        self._lock: FileLock | None = None

    @property
    def owner_path(self) -> Path:
        return self.path.with_suffix(".owner")

    def holder(self) -> str | None:
        """Who holds the lock now, or None when it is free."""
        probe = FileLock(self.path)
        try:
            probe.acquire(timeout=0)
        except Timeout:
            return self._owner_note()
        probe.release()
        return None

    def _owner_note(self) -> str:
        try:
            return self.owner_path.read_text().strip() or "another run"
        except OSError:
            return "another run"

    def acquire(self) -> None:
        _make_shared(self.path.parent)
        lock = FileLock(self.path)
        try:
            lock.acquire(timeout=0)
        except Timeout:
            raise LockError(
                f"rig {self.rig!r} is in use by {self._owner_note()} (lock {self.path}); wait "
                "for it or pick another rig"
            ) from None
        self.owner_path.write_text(
            f"pid {os.getpid()} on {os.uname().nodename} since {time.strftime('%H:%M:%S')}\n"
        )
        self._lock = lock

    def release(self) -> None:
        if self._lock is not None:
            self.owner_path.unlink(missing_ok=True)  # before the lock: a new holder writes its own
            self._lock.release()
            self._lock = None
