"""A pool of identical rigs (``pool = "NAME"`` in their files, ``--rig pool:NAME``): each test
runs once, on whichever rig of the pool this process holds.

A process holds one rig of each pool at a time. Its rigs are claimed with locks in a directory
the whole run shares (each xdist worker holds its own rig: the ``n``-th worker tries the
``n``-th rig first), and a rig that is taken out of the run (quarantined, or never up) is let
go for the next free one — so a farm of ten identical watches runs a suite once across them,
and a watch that keeps failing costs its tests no more than a rerun elsewhere.

Which rig comes next is the pool's ``Seats``: its members in turn (``InOrder``), or, for a pool
of labgrid places reserved by tags, whichever place the coordinator allocates
(``backends/labgrid_pool.TaggedPlaces``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Generator
from pathlib import Path
from typing import Protocol

from filelock import FileLock, Timeout

from pytest_vela.errors import RigConfigError, RigError, first_line


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


class Seats(Protocol):
    """How a pool finds its next rig."""

    def offer(self, order: list[str], usable: Callable[[str], bool]) -> Generator[str]:
        """Members to try in turn (``order``: this process's own order of them), until the
        pool has one up and closes the generator; ``usable`` tells a member still in the run.
        A ``RigConfigError`` is the pool's fault for the rest of the run."""
        ...

    def why_none(self) -> str | None:
        """Why the last offer had no rig, when the members' own states do not say it."""
        ...


class InOrder:
    """Rigs named one by one: each one in the run, in turn (a held one fails to start, and is
    passed over for the next)."""

    def offer(self, order: list[str], usable: Callable[[str], bool]) -> Generator[str]:
        yield from (member for member in order if usable(member))

    def why_none(self) -> str | None:
        return None


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
        seats: Seats | None = None,
    ) -> None:
        self.name = name
        self.members = members
        self._claims = claims
        self._out = out_of_run  # why a rig is out of the run (quarantined, down), or None
        self._start = start  # bring a rig up; why it cannot come up, or None
        self._first = first % len(members)
        self._seats = seats or InOrder()
        self.current: str | None = None
        #: A fault of the pool's set-up found on the way (a place no rig file names): every
        #: later test of the pool fails with it.
        self.fault: RigConfigError | None = None
        self._trouble: str | None = None  # why the last search failed (a coordinator away)

    def rig(self) -> str | None:
        """The rig to run the next test on: the one held, unless it is out of the run, else
        the next free one that comes up; None when every rig of the pool is out, down or held
        by others."""
        if self.fault is not None:
            return None
        if self.current is not None and self._out(self.current) is None:
            return self.current
        if self.current is not None:
            self._claims.release(self.current)
            self.current = None
        self._trouble = None
        order = self.members[self._first :] + self.members[: self._first]
        try:
            with contextlib.closing(
                self._seats.offer(order, lambda member: self._out(member) is None)
            ) as offered:
                for member in offered:
                    if not self._claims.claim(member):
                        continue
                    if self._start(member) is None:
                        self.current = member
                        return member
                    self._claims.release(member)  # down (a place held elsewhere): the next
        except RigConfigError as exc:
            self.fault = exc
        except RigError as exc:
            self._trouble = f"{type(exc).__name__}: {first_line(exc)}"
        return None

    def exhausted(self) -> str:
        """Why no rig of the pool is left for this process."""
        if self.fault is not None:
            return str(self.fault)
        found = self._seats.why_none() or self._trouble
        if found is None:
            why = [f"{m}: {self._out(m) or 'held by another worker'}" for m in self.members]
        else:
            why = [found, *(f"{m}: {self._out(m)}" for m in self.members if self._out(m))]
        return f"pool {self.name!r} has no rig left for this worker ({'; '.join(why)})"
