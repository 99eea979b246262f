"""What every kind of rig backend offers the rest of the harness.

A backend brings a rig's transports up and says how to reach them — the console port, the
BLE peripheral, the bus bleak talks to, how to cut the watch's power — and describes itself:
how it is reached, who holds it now, whether each xdist worker can have one of its own. The
session, the watch, the link client, the terminal header, ``pytest-vela rigs`` and the xdist
scheduler ask the backend; none of them asks which kind a rig is. A new kind of rig is one new
class here and one line in ``make_backend``. Each backend subclasses ``RigBackend``, so the type
checker holds it to every member, and it keeps the defaults of ``serve`` and ``clear_faults``
(nothing to do) unless it has something to add.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar, Protocol

from pytest_vela.console.port import Console
from pytest_vela.device.power import PowerControl
from pytest_vela.device.watch import Watch
from pytest_vela.rig.sim_process import SimulatorProcess
from pytest_vela.rigfile.schema import BleSettings


@dataclass(frozen=True)
class Reach:
    """How a rig is reached: ``summary`` for the terminal header, ``where`` for the console or
    place column of ``pytest-vela rigs``, ``details`` for its JSON."""

    summary: str
    where: str
    details: dict[str, str] = field(default_factory=dict)


class RigBackend(Protocol):
    #: The rig file's kind this backend serves ("hardware", "sim", …).
    kind: ClassVar[str]
    #: Each xdist worker can start one of its own, so a lone rig's tests may be spread.
    spreads_over_workers: ClassVar[bool]

    def reach(self) -> Reach:
        """How this rig is reached (no I/O: the header and the rigs list ask it)."""
        ...

    def holder(self) -> str | None:
        """Who holds this rig now (a run's lock, a labgrid place's owner); None when it is
        free or cannot be held. ``RigError`` when that cannot be found out."""
        ...

    def start(self, logs: Path, stamp: str) -> str:
        """Bring the rig's transports up; return the console's port (a path or a URL)."""
        ...

    def power(self, console: Console) -> PowerControl:
        """How this rig cuts and restores the watch's power."""
        ...

    def serve(self, watch: Watch) -> None:
        """The watch on this rig is built: a backend that learns of the watch's fate by itself
        (a process rig: its program's end) tells it; the others have nothing to add."""
        return None

    @property
    def ble(self) -> BleSettings | None:
        """The bridge peripheral to connect to; None for a rig without BLE."""
        ...

    @property
    def bus_address(self) -> str | None:
        """The D-Bus system bus where the rig's BlueZ is; None: the host's own."""
        ...

    @property
    def simulator(self) -> SimulatorProcess | None:
        """The simulated watch, for fault injection; None on any other rig."""
        ...

    def clear_faults(self) -> None:
        """Undo injected faults before the next test (nothing to undo on hardware)."""
        return None

    def settle_app(self, package: str, within: float, limit: float) -> bool:
        """Wait until the watch says the app ``package`` has nothing left to do within
        ``within`` seconds (at most ``limit``); whether it could say. A watch that cannot tell
        (any but a simulated one) returns False at once: the caller waits for its console to
        go quiet instead."""
        return False

    def agent_rpk(self) -> Path | None:
        """The agent's package, to install it again when it went missing; None if unknown."""
        ...

    def stop(self) -> None: ...
