"""A pool of identical rigs (``pool = "NAME"`` in their files, ``--rig pool:NAME``): each test
runs once, on whichever rig of the pool this process holds.

A process holds one rig of each pool at a time. Its rigs are claimed with locks in a directory
the whole run shares (each xdist worker holds its own rig: the ``n``-th worker tries the
``n``-th rig first), and a rig that is taken out of the run (quarantined, or never up) is let
go for the next free one — so a farm of ten identical watches runs a suite once across them,
and a watch that keeps failing costs its tests no more than a rerun elsewhere.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from filelock import FileLock, Timeout


class PoolClaims:
    """The rigs this process has claimed, by a lock on a file each in ``directory`` (the
    run's; the kernel lets go of a dead process's claims)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._held: dict[str, FileLock] = {}

    def claim(self, rig: str) -> bool:
        """Hold ``rig`` unless another process of the run does; whether it is held now."""
        if rig in self._held:
            return True
        self.directory.mkdir(parents=True, exist_ok=True)
        lock = FileLock(self.directory / f"{rig}.claim", timeout=0)
        try:
            lock.acquire()
        except Timeout:
            return False
        self._held[rig] = lock
        return True

    def release(self, rig: str) -> None:
        lock = self._held.pop(rig, None)
        if lock is not None:
            lock.release(force=True)

    def close(self) -> None:
        for rig in list(self._held):
            self.release(rig)


class Pool:
    """One pool's rigs and which of them this process holds."""

    def __init__(
        self,
        name: str,
        members: list[str],
        claims: PoolClaims,
        out_of_run: Callable[[str], str | None],
        start: Callable[[str], str | None],
        first: int = 0,
    ) -> None:
        self.name = name
        self.members = members
        self._claims = claims
        self._out = out_of_run  # why a rig is out of the run (quarantined, down), or None
        self._start = start  # bring a rig up; why it cannot come up, or None
        self._first = first % len(members)
        self.current: str | None = None

    def rig(self) -> str | None:
        """The rig to run the next test on: the one held, unless it is out of the run, else
        the next free one that comes up; None when every rig of the pool is out, down or held
        by others."""
        if self.current is not None and self._out(self.current) is None:
            return self.current
        if self.current is not None:
            self._claims.release(self.current)
            self.current = None
        order = self.members[self._first :] + self.members[: self._first]
        for member in order:
            if self._out(member) is not None or not self._claims.claim(member):
                continue
            if self._start(member) is None:
                self.current = member
                return member
            self._claims.release(member)  # down (a place held elsewhere, no port): the next
        return None

    def exhausted(self) -> str:
        """Why no rig of the pool is left for this process."""
        why = [f"{m}: {self._out(m) or 'held by another worker'}" for m in self.members]
        return f"pool {self.name!r} has no rig left for this worker ({'; '.join(why)})"
