"""The rig's backends, one class per kind of rig, chosen once by ``make_backend``.

Each kind's module is imported when a rig of that kind is made: a run of simulated rigs (each
xdist worker of a farm, and its controller) does not pay for the locks, relays and preflight
checks of hardware and process rigs.
"""

from __future__ import annotations

from collections.abc import Callable

from pytest_vela.rig.backends.base import Reach, RigBackend
from pytest_vela.rig.pool import InOrder, Seats
from pytest_vela.rigfile.loader import Rig

__all__ = ["Reach", "RigBackend", "as_pool_member", "make_backend", "pool_seats"]


def make_backend(rig: Rig, say: Callable[[str], None] | None = None) -> RigBackend:
    """The backend for ``rig``: the one place that tells its kind, and a watch on the desk
    from one on a labgrid place (``say`` tells the person at the terminal what the backend
    waits for or takes over)."""
    if rig.kind == "sim":
        from pytest_vela.rig.backends.simulated import SimulatedBackend

        return SimulatedBackend(rig)
    if rig.kind == "process":
        from pytest_vela.rig.backends.process import ProcessBackend

        return ProcessBackend(rig)
    if rig.settings.labgrid is not None:
        # labgrid itself is imported only when such a rig is made.
        from pytest_vela.rig.backends.labgrid_place import LabgridBackend

        return LabgridBackend(rig, say)
    from pytest_vela.rig.backends.hardware import HardwareBackend

    return HardwareBackend(rig)


def pool_seats(pool: str, members: list[Rig], say: Callable[[str], None]) -> Seats:
    """How ``pool`` finds its next rig: the place a labgrid reservation by the tags of its rig
    files gets allocated, or else its members in turn."""
    labgrid = members[0].settings.labgrid
    if labgrid is not None and labgrid.tags:
        from pytest_vela.rig.backends.labgrid_pool import TaggedPlaces

        return TaggedPlaces(pool, members, say)
    return InOrder()


def as_pool_member(rig: Rig) -> Rig:
    """``rig`` as a pool runs it: its labgrid place is never waited for — a held one is passed
    over for the next member (``labgrid.wait`` is for a rig run by name), and in a pool reserved
    by tags the pool's reservation has done the waiting."""
    labgrid = rig.settings.labgrid
    if labgrid is None or not labgrid.wait:
        return rig
    return rig.with_settings(labgrid=labgrid.model_copy(update={"wait": 0.0}))
