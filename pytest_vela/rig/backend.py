"""What kind of rig this is, decided once: a watch on the desk, a simulated watch, or a watch
OS running as a host program (``process_backend``).

A backend brings up the rig's transports and says how to reach them: the console port, the BLE
peripheral, the bus bleak talks to, and how to cut the watch's power. Everything above it
(the session, the watch, the agent client) is the same for both kinds.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from pytest_vela.agent.project import shipped_rpk
from pytest_vela.common.processes import run_dir
from pytest_vela.console.port import Console
from pytest_vela.device.apps import rpk_package
from pytest_vela.device.power import PowerControl, power_control
from pytest_vela.rig.lock import RigLock
from pytest_vela.rig.private_bus import PrivateBus
from pytest_vela.rig.process_backend import ProcessBackend
from pytest_vela.rig.provisioning import preflight
from pytest_vela.rig.sim_process import SimulatorProcess
from pytest_vela.rigfile.loader import Rig
from pytest_vela.rigfile.schema import BleSettings, RigSettings

RUN_DIR_PREFIX = "vela-sim-"


class RigBackend(Protocol):
    def start(self, logs: Path, stamp: str) -> str:
        """Bring the rig's transports up; return the console's port (a path or a URL)."""
        ...

    def power(self, console: Console) -> PowerControl:
        """How this rig cuts and restores the watch's power."""
        ...

    @property
    def ble(self) -> BleSettings:
        """The bridge peripheral to connect to."""
        ...

    @property
    def bus_address(self) -> str | None:
        """The D-Bus system bus where the rig's BlueZ is; None: the host's own."""
        ...

    @property
    def simulator(self) -> SimulatorProcess | None:
        """The simulated watch, for fault injection; None on hardware."""
        ...

    def clear_faults(self) -> None:
        """Undo injected faults before the next test (nothing to undo on hardware)."""
        ...

    def agent_rpk(self) -> Path | None:
        """The agent's package, to install it again when it went missing; None if unknown."""
        ...

    def stop(self) -> None: ...


def make_backend(rig: Rig, say: Callable[[str], None] | None = None) -> RigBackend:
    """The backend for ``rig``'s kind: the one place that tells simulated from hardware from a
    host program (``process``), and a watch on the desk from one on a labgrid place (``say``
    tells the person at the terminal what the backend waits for or takes over)."""
    if rig.kind == "sim":
        return SimulatedBackend(rig)
    if rig.kind == "process":
        return ProcessBackend(rig)
    if rig.settings.labgrid is not None:
        # labgrid itself is imported only when such a rig is made.
        from pytest_vela.rig.labgrid_place import LabgridBackend

        return LabgridBackend(rig, say)
    return HardwareBackend(rig)


class HardwareBackend:
    """A real watch: its lock, a preflight of the app project, its port and reset wiring."""

    simulator = None
    bus_address = None

    def __init__(self, rig: Rig) -> None:
        self.rig = rig
        self._lock = RigLock(rig.name)

    @property
    def ble(self) -> BleSettings:
        return self.rig.settings.ble

    def start(self, logs: Path, stamp: str) -> str:
        preflight(self.rig, logs, stamp)
        self._lock.acquire()
        port = self.rig.settings.serial.port
        assert port, "validated: a hardware rig has serial.port"
        return port

    def power(self, console: Console) -> PowerControl:
        return power_control(self.rig.settings.reset, console)

    def clear_faults(self) -> None:
        return None

    def agent_rpk(self) -> Path | None:
        return self.rig.settings.app.rpk

    def stop(self) -> None:
        self._lock.release()


class SimPowerCycle:
    """A simulated watch's hard reset: cut and restore its power through the control channel."""

    def __init__(self, sim: SimulatorProcess) -> None:
        self.sim = sim

    def hard_reset(self) -> None:
        self.sim.control("power_cycle")


def with_sim_identity(settings: RigSettings, name: str) -> RigSettings:
    """A simulated watch advertises as ``Vela-<rig>`` at an address derived from the name."""
    digest = hashlib.sha256(name.encode()).digest()
    address = "C0:" + ":".join(f"{b:02X}" for b in digest[:5])
    ble = settings.ble.model_copy(
        update={
            "name": settings.ble.name or f"Vela-{name}",
            "address": settings.ble.address or address,
        }
    )
    return settings.model_copy(update={"ble": ble})


class SimulatedBackend:
    """A simulated watch process with its private system bus, where it plays BlueZ; the rig's
    BLE client is pointed at that bus, so bleak takes exactly the code path it takes on a host
    and other rigs of the same run keep theirs."""

    def __init__(self, rig: Rig) -> None:
        self.rig = rig
        self.settings = with_sim_identity(rig.settings, rig.name)
        self._run_dir: Path | None = None
        self._bus: PrivateBus | None = None
        self._sim: SimulatorProcess | None = None

    @property
    def ble(self) -> BleSettings:
        return self.settings.ble

    @property
    def simulator(self) -> SimulatorProcess | None:
        return self._sim

    @property
    def bus_address(self) -> str | None:
        return self._bus.address if self._bus is not None else None

    def start(self, logs: Path, stamp: str) -> str:
        self._bus = PrivateBus()
        self._bus.start()
        assert self._bus.address is not None
        # Named after this process, so that a later run can tell a dead run's leftovers.
        self._run_dir = run_dir(RUN_DIR_PREFIX)
        self._sim = SimulatorProcess(
            self.settings, self._run_dir, self._bus.address, log_path=logs / f"sim-{stamp}.log"
        )
        return self._sim.start()

    def power(self, console: Console) -> PowerControl:
        assert self._sim is not None, "started"
        return SimPowerCycle(self._sim)

    def clear_faults(self) -> None:
        if self._sim is not None:
            self._sim.control("clear_faults")

    def agent_rpk(self) -> Path | None:
        """The agent the simulated watch came with (shipped with the plugin), or the rig's."""
        if self.settings.app.rpk is not None:
            return self.settings.app.rpk
        shipped = shipped_rpk()
        if shipped is not None and rpk_package(shipped) == self.settings.app.package:
            return shipped
        return None

    def stop(self) -> None:
        if self._sim is not None:
            self._sim.stop()
            self._sim = None
        if self._bus is not None:
            self._bus.stop()
            self._bus = None
        if self._run_dir is not None:
            shutil.rmtree(self._run_dir, ignore_errors=True)
            self._run_dir = None
