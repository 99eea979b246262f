"""A hardware rig's lock: two runs never drive one watch."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from filelock import FileLock, Timeout

from pytest_vela.errors import LockError


def lock_dir() -> Path:
    """Where rig locks live: ``$VELA_LOCK_DIR``, default ``<tmp>/pytest-vela-locks``."""
    return Path(
        os.environ.get("VELA_LOCK_DIR") or Path(tempfile.gettempdir()) / "pytest-vela-locks"
    )


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
        self.path.parent.mkdir(parents=True, exist_ok=True)
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
            self._lock.release()
            self._lock = None
