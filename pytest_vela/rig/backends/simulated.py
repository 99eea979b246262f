"""A simulated watch: its process with a private system bus, where it plays BlueZ.

The rig's BLE client is pointed at that bus, so bleak takes exactly the code path it takes on a
host and other rigs of the same run keep theirs. Each xdist worker can start one of its own.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path
from typing import ClassVar

from pytest_vela.agent.project import shipped_rpk
from pytest_vela.common.processes import run_dir
from pytest_vela.console.port import Console
from pytest_vela.device.apps import rpk_package
from pytest_vela.device.power import PowerControl
from pytest_vela.errors import SimulatorError
from pytest_vela.rig.backends.base import Reach, RigBackend
from pytest_vela.rig.private_bus import PrivateBus
from pytest_vela.rig.sim_process import SimulatorProcess
from pytest_vela.rigfile.loader import Rig
from pytest_vela.rigfile.schema import BleSettings, RigSettings
from pytest_vela.wire.control import ControlOp

RUN_DIR_PREFIX = "vela-sim-"
SETTLE_GRACE = 2.0  # seconds beyond a settle's limit for the watch's answer


class SimPowerCycle:
    """A simulated watch's hard reset: cut and restore its power through the control channel."""

    def __init__(self, sim: SimulatorProcess) -> None:
        self.sim = sim

    def hard_reset(self) -> None:
        self.sim.control(ControlOp.POWER_CYCLE)


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


class SimulatedBackend(RigBackend):
    kind: ClassVar[str] = "sim"
    spreads_over_workers: ClassVar[bool] = True

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

    def reach(self) -> Reach:
        return Reach(
            "simulated watch (pty console, private BlueZ bus)",
            "simulated (a pty and a private bus, started for each run)",
        )

    def holder(self) -> str | None:
        return None  # a run starts a simulated watch of its own

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
            self._sim.control(ControlOp.CLEAR_FAULTS)

    def settle_app(self, package: str, within: float, limit: float) -> bool:
        """The simulated watch's app host knows what the app has pending (calls awaiting an
        answer, queued callbacks, one-shot timers): it answers once none is due soon."""
        if self._sim is None:
            return False
        try:
            self._sim.control(
                ControlOp.SETTLE_APP,
                timeout=limit + SETTLE_GRACE,
                package=package,
                within_ms=within * 1000,
                limit_ms=limit * 1000,
            )
        except SimulatorError:
            return False  # a watch gone or faulty: its console tells the rest
        return True

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
