"""The simulated watch process: a pty console running the nsh-like shell, a control channel,
the quick-app host (a node process running the installed apps' bundles) on the interconnect
platform model, and (given a bus address) the BLE bridge peripheral with its relay.

Run as ``python -m pytest_vela.sim --settings FILE --run-dir DIR``; it prints one JSON line
(``port``, ``pty``, ``control``) once it is ready, then boots.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

from pytest_vela.agent.project import shipped_rpk
from pytest_vela.common.tasks import BackgroundTasks
from pytest_vela.rigfile.schema import RigSettings
from pytest_vela.sim import appdata
from pytest_vela.sim.apps import AppRuntime, unpack
from pytest_vela.sim.bluez.bridge import BridgePeripheral
from pytest_vela.sim.bluez.peripheral import BluezPeripheral
from pytest_vela.sim.control import ControlServer, Handler
from pytest_vela.sim.filestore import FileStore
from pytest_vela.sim.platform import InterconnectPlatform, WatchClock
from pytest_vela.sim.pty_port import PtyPort
from pytest_vela.sim.quickapp.host import HostUnavailable, NodeAppHost
from pytest_vela.sim.relay import BridgeRelay
from pytest_vela.sim.shell import Shell, ShellConfig
from pytest_vela.wire.control import ControlOp


class SimulatedWatch:
    def __init__(self, settings: RigSettings, run_dir: Path, bus: str | None = None) -> None:
        self.settings = settings
        self.run_dir = run_dir
        self.bus = bus
        self.stopped = asyncio.Event()
        self.clock = WatchClock()
        store = FileStore(run_dir / "fs")
        self.platform = InterconnectPlatform(settings.sim.interconnect)
        self.host = NodeAppHost(self.clock.epoch_ns, lambda _message: None)
        self.store = store
        self.apps = AppRuntime(
            store,
            self.platform,
            self.host,
            self._app_log,
            device=settings.sim.device.model_dump(),
        )
        self.relay = BridgeRelay(
            self.platform, self.clock, lambda: self.apps.running, settings.app.package
        )
        self.apps.intercept = self.relay.from_app
        self.bridge: BridgePeripheral | None = None
        agent = shipped_rpk()
        if agent is not None:
            # The agent comes with the watch, under the rig's package name.
            unpack(store, agent, settings.app.package)
        self.port = PtyPort(
            run_dir / "ttyVELA0", settings.serial.baud, settings.sim.pace, self._on_input
        )
        self.shell = Shell(
            self.port.write,
            store,
            ShellConfig(
                prompt=settings.serial.prompt,
                boot_line=settings.sim.boot_line,
                boot_ms=settings.sim.boot_ms,
                dialect=settings.sim.dialect,
                line_end=settings.sim.line_end,
            ),
            self.apps,
            on_boot=self._booted,
            write_now=self.port.write_from_thread,
        )
        self.control = ControlServer(run_dir / "control.sock", self._handlers())
        self._background = BackgroundTasks()

    def _on_input(self, data: bytes) -> None:
        self.shell.feed(data)

    def _app_log(self, level: str, text: str) -> None:
        self.shell.app_log(level, text)

    async def _booted(self) -> None:
        """A reboot ends the BLE link, as on a real watch, and restarts the runtime's rules."""
        self.platform.watch_booted()
        if self.bridge is not None:
            await self.bridge.peripheral.drop()

    async def _start_bridge(self) -> None:
        ble = self.settings.ble
        assert self.bus is not None and ble.name and ble.address
        peripheral = BluezPeripheral(
            self.bus,
            ble.name,
            ble.address,
            ble.service_uuid,
            ble.rx_uuid,
            ble.tx_uuid,
            ble.mtu,
            adapter=ble.adapter,
        )
        bridge = BridgePeripheral(peripheral, ble.max_message_bytes)
        bridge.on_connect = self.relay.bridge_up
        bridge.on_disconnect = lambda _reason: self.relay.bridge_down()
        bridge.on_message = self.relay.on_message
        self.relay.attach(bridge.send_message)
        await bridge.start()
        self.bridge = bridge

    def _handlers(self) -> dict[ControlOp, Handler]:
        return {
            ControlOp.PING: self._ping,
            ControlOp.CRASH: self._crash,
            ControlOp.HANG: self._hang,
            ControlOp.GARBAGE: self._garbage,
            ControlOp.INSTALL_BUSY: self._install_busy,
            ControlOp.UNPLUG: self._unplug,
            ControlOp.REPLUG: self._replug,
            ControlOp.POWER_CYCLE: self._power_cycle,
            ControlOp.CLEAR_FAULTS: self._clear_faults,
            ControlOp.DROP_LINK: self._drop_link,
            ControlOp.FAIL_NEXT_CONNECTS: self._fail_next_connects,
            ControlOp.SET_LATENCY: self._set_latency,
            ControlOp.SET_MTU: self._set_mtu,
            ControlOp.SET_MESSAGE_LIMIT: self._set_message_limit,
            ControlOp.SET_STORAGE: self._set_storage,
            ControlOp.GET_STORAGE: self._get_storage,
            ControlOp.PUT_FILE: self._put_file,
            ControlOp.READ_FILE: self._read_file,
            ControlOp.ANSWER_DIALOGS: self._answer_dialogs,
            ControlOp.SETTLE_APP: self._settle_app,
        }

    async def _ping(self) -> dict[str, Any]:
        return {
            "boots": self.shell.boots,
            "hung": self.shell.faults.hung,
            "plugged": self.port.plugged,
            "apps": self.apps.running_apps(),
        }

    async def _crash(self) -> None:
        self._background.spawn(self.shell.crash())

    async def _hang(self) -> None:
        self.shell.faults.hung = True

    async def _garbage(self, n: int) -> None:
        await self.shell.garbage(int(n))

    async def _install_busy(self, n: int) -> None:
        self.shell.faults.install_busy = int(n)

    async def _unplug(self, replug_after_ms: int | None = None) -> None:
        self.port.unplug()
        if replug_after_ms is not None:
            asyncio.get_running_loop().call_later(replug_after_ms / 1000, self._replug_now)

    def _replug_now(self) -> None:
        if not self.port.plugged:
            self.port.plug()

    async def _replug(self) -> dict[str, Any]:
        self._replug_now()
        return {"pty": self.port.pty_path}

    async def _power_cycle(self) -> None:
        """What a relay or DTR reset does: everything stops, then a cold boot."""
        self.shell.faults.hung = False
        self._background.spawn(self.shell.reboot())

    async def _clear_faults(self) -> None:
        """Back to a healthy watch between tests: answering, plugged, installer free, the BLE
        link without added latency or refusals, the runtime's own message limit."""
        self.shell.faults.hung = False
        self.shell.faults.install_busy = 0
        self.apps.dialogs.clear()
        self._replug_now()
        self.platform.reset_message_limit()
        if self.bridge is not None:
            peripheral = self.bridge.peripheral
            peripheral.refuse_next_connects(0)
            peripheral.set_latency(0)
            if peripheral.mtu != self.settings.ble.mtu:
                peripheral.set_mtu(self.settings.ble.mtu)

    def _peripheral(self) -> BluezPeripheral:
        if self.bridge is None:
            raise TypeError("this simulated watch has no BLE bridge (started without a bus)")
        return self.bridge.peripheral

    async def _drop_link(self) -> None:
        await self._peripheral().drop()

    async def _fail_next_connects(self, n: int) -> None:
        self._peripheral().refuse_next_connects(int(n))

    async def _set_latency(self, ms: float) -> None:
        self._peripheral().set_latency(float(ms))

    async def _set_mtu(self, mtu: int) -> None:
        self._peripheral().set_mtu(int(mtu))

    async def _set_message_limit(self, nbytes: int) -> None:
        self.platform.message_limit = int(nbytes)

    # --- an app's own data (appdata): set up by tests, read back by them ---

    async def _set_storage(self, package: str, values: dict[str, str]) -> None:
        appdata.write_storage(self.store, package, values)

    async def _get_storage(self, package: str) -> dict[str, Any]:
        return {"values": appdata.read_storage(self.store, package)}

    async def _put_file(self, package: str, uri: str, data: str) -> None:
        appdata.put_file(self.store, package, uri, base64.b64decode(data))

    async def _read_file(self, package: str, uri: str) -> dict[str, Any]:
        found = appdata.file_path(self.store, package, uri).read_bytes()
        return {"data": base64.b64encode(found).decode()}

    async def _answer_dialogs(self, answers: list[int | None]) -> None:
        self.apps.dialogs.add(list(answers))

    async def _settle_app(self, package: str, within_ms: float, limit_ms: float) -> dict[str, Any]:
        idle = await self.apps.settle(package, within_ms / 1000, limit_ms / 1000)
        return {"idle": idle}

    async def _start_host(self) -> str | None:
        """Start the quick-app host; why apps cannot run (said once, in this log), or None."""
        try:
            await self.host.start()
        except HostUnavailable as exc:
            print(f"vela-sim: {exc}; no app can be launched", file=sys.stderr, flush=True)
            return str(exc)
        return None

    async def run(self) -> None:
        self.port.plug()
        if self.bus is not None:
            await self._start_bridge()
        await self.control.start()
        self.shell.start()
        unavailable = await self._start_host()
        print(
            json.dumps(
                {
                    "port": str(self.port.link_path),
                    "pty": self.port.pty_path,
                    "control": str(self.control.path),
                    "pid": os.getpid(),
                    "apps": self.host.version or None,
                    "apps_unavailable": unavailable,
                }
            ),
            flush=True,
        )
        await self.shell.boot_sequence()
        await self.stopped.wait()
        await self.shell.stop()
        await self.host.stop()
        await self.control.stop()
        if self.bridge is not None:
            with contextlib.suppress(Exception):
                await self.bridge.stop()
        self.port.close()


async def _main(settings: RigSettings, run_dir: Path, bus: str | None) -> None:
    sim = SimulatedWatch(settings, run_dir, bus)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        loop.add_signal_handler(sig, sim.stopped.set)
    await sim.run()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pytest_vela.sim")
    parser.add_argument("--settings", type=Path, required=True, help="rig settings as JSON")
    parser.add_argument("--run-dir", type=Path, required=True)
    parser.add_argument("--bus", default=None, help="D-Bus address for the BLE bridge")
    args = parser.parse_args(argv)
    settings = RigSettings.model_validate_json(args.settings.read_text())
    args.run_dir.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_main(settings, args.run_dir, args.bus))
    return 0


if __name__ == "__main__":
    sys.exit(main())
