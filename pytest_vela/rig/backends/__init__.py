"""The rig's backends, one class per kind of rig, chosen once by ``make_backend``.

Each kind's module is imported when a rig of that kind is made: a run of simulated rigs (each
xdist worker of a farm, and its controller) does not pay for the locks, relays and preflight
checks of hardware and process rigs.
"""

from __future__ import annotations

from collections.abc import Callable

from pytest_vela.rig.backends.base import Reach, RigBackend
from pytest_vela.rigfile.loader import Rig

__all__ = ["Reach", "RigBackend", "make_backend"]


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
