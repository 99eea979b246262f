"""A watch on the desk: its lock, a preflight of the app project, the port of its rig file
and its reset wiring."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from pytest_vela.console.port import Console
from pytest_vela.device.power import PowerControl, power_control
from pytest_vela.rig.backends.base import Reach, RigBackend
from pytest_vela.rig.lock import RigLock
from pytest_vela.rig.provisioning import preflight
from pytest_vela.rigfile.loader import Rig
from pytest_vela.rigfile.schema import BleSettings


class HardwareBackend(RigBackend):
    kind: ClassVar[str] = "hardware"
    spreads_over_workers: ClassVar[bool] = False
    simulator = None
    bus_address = None

    def __init__(self, rig: Rig) -> None:
        self.rig = rig
        self._lock = RigLock(rig.name)

    @property
    def ble(self) -> BleSettings:
        return self.rig.settings.ble

    def reach(self) -> Reach:
        port = self.rig.settings.serial.port or ""
        ble = self.ble.address or self.ble.name
        return Reach(f"serial {port}, BLE {ble}", port, {"port": port})

    def holder(self) -> str | None:
        return self._lock.holder()

    def start(self, logs: Path, stamp: str) -> str:
        preflight(self.rig, logs, stamp)
        self._lock.acquire()
        port = self.rig.settings.serial.port
        assert port, "validated: a hardware rig has serial.port"
        return port

    def power(self, console: Console) -> PowerControl:
        return power_control(self.rig.settings.reset, console)

    def agent_rpk(self) -> Path | None:
        return self.rig.settings.app.rpk

    def stop(self) -> None:
        self._lock.release()
