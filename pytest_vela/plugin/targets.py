"""What the run's tests are parametrized over — rigs by name and pools of identical rigs
(``--rig pool:NAME``) — and which rig a test of each runs on.

A rig's tests run on it. A pool's run on the rig of the pool this process holds
(``rig/pool.py``): its first free one at the start, the next free one when it is taken out of
the run — or, for a pool of labgrid places reserved by tags, the place the coordinator
allocates. The pools' claims live in a directory the run shares, made by the process that
starts the run (the controller under xdist, which hands it to its workers) and removed at its
end.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from pytest_vela.common.processes import run_dir
from pytest_vela.rig.backends import as_pool_member, pool_seats
from pytest_vela.rig.pool import Pool, PoolClaims, Seats
from pytest_vela.rigfile.loader import POOL, Rig, load_rig, pool_members

CLAIMS = "vela_pool_claims"  # the workerinput key of the claims' directory
CLAIMS_PREFIX = "vela-pools-"


class Targets:
    def __init__(
        self,
        names: list[str],
        rig_dir: Path,
        claims_dir: Path | None,
        out_of_run: Callable[[str], str | None],
        start: Callable[[str], str | None],
        worker: str | None = None,
        say: Callable[[str], None] = print,
    ) -> None:
        #: Every rig a test may run on, by name (a pool's members among them).
        self.rigs: dict[str, Rig] = {}
        #: The parametrization: each target's rigs (a rig: itself; a pool: its members).
        self.members: dict[str, list[str]] = {}
        seats: dict[str, Seats] = {}
        for name in names:
            if name.startswith(POOL):
                found = pool_members(name.removeprefix(POOL), rig_dir)
                seats[name] = pool_seats(name.removeprefix(POOL), found, say)
                found = [as_pool_member(rig) for rig in found]
            else:
                found = [load_rig(name, rig_dir)]
            self.members[name] = [rig.name for rig in found]
            for rig in found:  # a rig also named by itself is run as such
                if rig.name not in self.rigs or not name.startswith(POOL):
                    self.rigs[rig.name] = rig
        self.owns_claims = claims_dir is None
        self.claims_dir = claims_dir
        if claims_dir is None and self.pools_asked:
            self.claims_dir = run_dir(CLAIMS_PREFIX)
        # The n-th xdist worker ("gw<n>") tries the n-th rig of a pool first.
        index = (worker or "gw0").removeprefix("gw")
        first = int(index) if index.isdigit() else 0
        claims = PoolClaims(self.claims_dir) if self.claims_dir is not None else None
        self._claims = claims
        self.pools: dict[str, Pool] = {
            name: Pool(
                name.removeprefix(POOL), members, claims, out_of_run, start, first, seats[name]
            )
            for name, members in self.members.items()
            if name.startswith(POOL) and claims is not None
        }

    @property
    def pools_asked(self) -> bool:
        return any(name.startswith(POOL) for name in self.members)

    @property
    def ids(self) -> list[str]:
        return list(self.members)

    def rig_for(self, target: str) -> str | None:
        """The rig a test of ``target`` runs on now; None when its pool has none left."""
        pool = self.pools.get(target)
        return pool.rig() if pool is not None else target

    def with_app(self, update: Callable[[Rig], Rig]) -> None:
        self.rigs = {name: update(rig) for name, rig in self.rigs.items()}

    def close(self) -> None:
        if self._claims is not None:
            self._claims.close()
        if self.owns_claims and self.claims_dir is not None:
            shutil.rmtree(self.claims_dir, ignore_errors=True)
