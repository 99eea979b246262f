"""The simulated watch as a BLE peripheral: an ``org.bluez`` service on a private bus.

Unmodified bleak sees an adapter that discovers one device, connects to it, resolves its
bridge service and gets notifications — the same D-Bus conversation it has with BlueZ on a
host with a real watch. Faults (watch-side drop, refused connects, latency, MTU change) are
injected here, below bleak, so the harness's real error paths run.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Callable

from dbus_fast import BusType, DBusError, Message, MessageType, Variant
from dbus_fast.aio import MessageBus
from dbus_fast.constants import NameFlag, RequestNameReply

from pytest_vela.common.tasks import BackgroundTasks
from pytest_vela.errors import SimulatorError, VelaError
from pytest_vela.sim.bluez.delay import DelayLine
from pytest_vela.sim.bluez.gatt import BridgeGatt
from pytest_vela.sim.bluez.objects import (
    ERR_DOES_NOT_EXIST,
    ERR_FAILED,
    ERR_INVALID_ARGS,
    Adapter,
    Device,
)

log = logging.getLogger(__name__)

BLUEZ = "org.bluez"
ADDRESS = re.compile(r"^([0-9A-Fa-f]{2}:){5}[0-9A-Fa-f]{2}$")
MTU_MIN, MTU_MAX = 23, 517


class NotConnected(VelaError):
    """The central is not connected or not subscribed to TX: nothing can be notified."""


def _noop(*_: object) -> None:
    return None


class BluezPeripheral:
    """One adapter (``/org/bluez/<adapter>``) that discovers one device: the watch.

    Callbacks run on the event loop and must not block: ``on_connect()``,
    ``on_disconnect(reason)`` (``"central"``, ``"peripheral"`` or ``"stopped"``),
    ``on_subscribe(bool)`` (the central called StartNotify/StopNotify on TX; a disconnect ends
    the subscription without a call), ``on_write(data)``.
    """

    def __init__(
        self,
        bus_address: str,
        name: str,
        address: str,
        service_uuid: str,
        rx_uuid: str,
        tx_uuid: str,
        mtu: int = 247,
        *,
        adapter: str = "hci0",
        adapter_address: str = "00:00:5E:00:53:01",
        advertise_interval: float = 0.05,
        flow_window: int = 32,
    ) -> None:
        if not ADDRESS.match(address):
            raise ValueError(f"BLE address {address!r} is not of the form AA:BB:CC:DD:EE:FF")
        _check_mtu(mtu)
        self.bus_address = bus_address
        self.name = name
        self.address = address.upper()
        self.service_uuid = service_uuid.lower()
        self.rx_uuid = rx_uuid.lower()
        self.tx_uuid = tx_uuid.lower()
        self.advertise_interval = advertise_interval
        self.flow_window = flow_window
        self.adapter_path = f"/org/bluez/{adapter}"
        self.device_path = f"{self.adapter_path}/dev_{self.address.replace(':', '_')}"

        self.on_connect: Callable[[], None] = _noop
        self.on_disconnect: Callable[[str], None] = _noop
        self.on_subscribe: Callable[[bool], None] = _noop
        self.on_write: Callable[[bytes], None] = _noop

        self._mtu = mtu
        self._refuse = 0
        self._bus: MessageBus | None = None
        self._adapter = Adapter(self, adapter_address, f"vela-sim-{adapter}")
        self._device = Device(self, self.adapter_path, self.address, name, [self.service_uuid])
        self._device_exported = False
        self._discovery_sessions = 0
        self._advertiser: asyncio.Task[None] | None = None
        self._background = BackgroundTasks()
        self._gatt = BridgeGatt(
            self, self.device_path, self.service_uuid, self.rx_uuid, self.tx_uuid
        )
        self._rx_line = DelayLine()
        self._tx_line = DelayLine()
        self._tx_lock = asyncio.Lock()
        self._unsynced = 0
        self.notifications = 0

    # -- lifecycle ------------------------------------------------------------------------

    async def start(self) -> None:
        """Connect to the bus, export the adapter and take the name ``org.bluez``."""
        bus = MessageBus(bus_address=self.bus_address, bus_type=BusType.SYSTEM)
        try:
            await bus.connect()
        except (OSError, ValueError) as exc:
            raise SimulatorError(
                f"the simulated watch cannot reach its D-Bus at {self.bus_address}: {exc}"
            ) from exc
        self._bus = bus
        bus.export(self.adapter_path, self._adapter)
        reply = await bus.request_name(BLUEZ, NameFlag.DO_NOT_QUEUE)
        if reply not in (RequestNameReply.PRIMARY_OWNER, RequestNameReply.ALREADY_OWNER):
            bus.disconnect()
            self._bus = None
            raise SimulatorError(
                f"{BLUEZ} is already owned on {self.bus_address}: another simulated watch or "
                "a real bluetoothd is on this bus"
            )

    async def stop(self) -> None:
        """Disconnect the central (if any), leave the bus. Idempotent."""
        bus = self._bus
        if bus is None:
            return
        if self._device.connected:
            await self._link_down("stopped")
        self._stop_advertising()
        self._bus = None
        bus.disconnect()
        with contextlib.suppress(Exception):
            fut = bus.wait_for_disconnect()  # type: ignore[no-untyped-call]
            await asyncio.wait_for(asyncio.shield(fut), 2.0)

    async def wait_closed(self) -> None:
        """Return when the bus connection ends (the daemon went away, or ``stop``)."""
        if self._bus is not None:
            with contextlib.suppress(Exception):
                # shielded: cancelling a waiter must not cancel dbus-fast's own future
                await asyncio.shield(self._bus.wait_for_disconnect())  # type: ignore[no-untyped-call]

    # -- state ----------------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        return self._device.connected

    @property
    def subscribed(self) -> bool:
        return self._device.connected and self._gatt.tx.notifying

    @property
    def mtu(self) -> int:
        return self._mtu

    @property
    def latency_ms(self) -> float:
        return self._tx_line.delay * 1000

    # -- faults ---------------------------------------------------------------------------

    def refuse_next_connects(self, n: int) -> None:
        """Fail the next ``n`` Connect calls with ``org.bluez.Error.Failed``."""
        if n < 0:
            raise ValueError("n must be ≥ 0")
        self._refuse = n

    def set_latency(self, ms: float) -> None:
        """Delay each write, notification and connect by ``ms`` (order is kept)."""
        if ms < 0:
            raise ValueError("latency must be ≥ 0 ms")
        self._rx_line.delay = self._tx_line.delay = ms / 1000

    def set_mtu(self, mtu: int) -> None:
        """Change the ATT MTU now (as after an MTU exchange) and for later connections."""
        _check_mtu(mtu)
        self._mtu = mtu
        self._gatt.set_mtu(mtu)

    async def drop(self) -> None:
        """Watch-side disconnect: the central sees the link vanish."""
        if self._device.connected:
            await self._link_down("peripheral")

    # -- data -----------------------------------------------------------------------------

    async def notify(self, data: bytes) -> None:
        """Notify ``data`` on TX. With latency set, it is queued in order and this returns."""
        if not self.subscribed:
            state = "not connected" if not self._device.connected else "not subscribed to TX"
            raise NotConnected(f"cannot notify: the central is {state}")
        if len(data) > self._mtu - 3:
            raise ValueError(f"notification of {len(data)} bytes exceeds MTU {self._mtu} - 3")
        payload = bytes(data)

        async def emit() -> None:
            await self._emit_value(payload)

        if self._tx_line.delay <= 0 and self._tx_line.idle:
            await emit()
        else:
            self._tx_line.submit(emit)

    async def _emit_value(self, data: bytes) -> None:
        tx = self._gatt.tx
        async with self._tx_lock:
            if not (self._device.connected and tx.notifying):
                return  # the link went down while this waited
            tx.value = data
            tx.emit_properties_changed({"Value": data})
            self.notifications += 1
            self._unsynced += 1
            if self._unsynced >= self.flow_window:
                self._unsynced = 0
                await self._sync()

    async def _sync(self) -> None:
        """Round trip to the daemon, so it has read every signal sent before.

        dbus-fast treats EAGAIN on its socket as fatal; without this a notification flood
        fills the socket buffer faster than the daemon drains it and the bus connection dies.
        """
        bus = self._bus
        if bus is None:
            return
        reply = await bus.call(
            Message(
                destination="org.freedesktop.DBus",
                path="/org/freedesktop/DBus",
                interface="org.freedesktop.DBus.Peer",
                member="Ping",
            )
        )
        if reply.message_type == MessageType.ERROR:
            log.warning("flow-control ping failed: %s %s", reply.error_name, reply.body)

    # -- Controller (called by the D-Bus objects) -----------------------------------------

    def start_discovery(self) -> None:
        self._discovery_sessions += 1
        if self._discovery_sessions > 1:
            return
        if not self._device_exported and self._bus is not None:
            self._bus.export(self.device_path, self._device)
            self._device_exported = True
        self._adapter.discovering = True
        self._adapter.emit_properties_changed({"Discovering": True})
        self._advertiser = asyncio.get_running_loop().create_task(self._advertise())

    def stop_discovery(self) -> None:
        if self._discovery_sessions == 0:
            raise DBusError(ERR_FAILED, "No discovery started")
        self._discovery_sessions -= 1
        if self._discovery_sessions == 0:
            self._stop_advertising()

    def remove_device(self, path: str) -> None:
        if path != self.device_path or not self._device_exported:
            raise DBusError(ERR_DOES_NOT_EXIST, "Does Not Exist")
        if self._device.connected:
            self._background.spawn(self._remove_after_disconnect())
            return
        self._unexport_device()

    async def _remove_after_disconnect(self) -> None:
        await self._link_down("central")
        self._unexport_device()

    async def connect(self) -> None:
        if self._device.connected:
            return
        if self._rx_line.delay > 0:
            await asyncio.sleep(self._rx_line.delay)
        if self._refuse > 0:
            self._refuse -= 1
            raise DBusError(ERR_FAILED, "Connection refused by the simulated watch (fault)")
        if self._device.connected:
            return
        device = self._device
        device.connected = True
        device.emit_properties_changed({"Connected": True})
        self._gatt.export(self._bus, self._mtu)
        device.services_resolved = True
        device.emit_properties_changed({"ServicesResolved": True})
        self._call(self.on_connect)

    async def disconnect(self) -> None:
        if self._device.connected:
            await self._link_down("central")

    async def write(self, data: bytes, options: dict[str, Variant]) -> None:
        if not self._device.connected:
            raise DBusError(ERR_FAILED, "Not connected")
        if len(data) > self._mtu - 3:
            raise DBusError(ERR_INVALID_ARGS, "Invalid Length")

        async def deliver() -> None:
            self._call(self.on_write, data)

        await self._rx_line.run(deliver)

    def set_notifying(self, on: bool) -> None:
        tx = self._gatt.tx
        if tx.notifying == on:
            return
        tx.notifying = on
        tx.emit_properties_changed({"Notifying": on})
        self._call(self.on_subscribe, on)

    # -- internals ------------------------------------------------------------------------

    async def _link_down(self, reason: str) -> None:
        lost = ConnectionAbortedError(f"link down ({reason})")
        self._rx_line.discard(lost)
        self._tx_line.discard(lost)
        device = self._device
        device.services_resolved = False
        device.emit_properties_changed({"ServicesResolved": False})
        device.connected = False
        device.emit_properties_changed({"Connected": False})
        self._gatt.unexport(self._bus)
        self._call(self.on_disconnect, reason)
        if self._discovery_sessions and (self._advertiser is None or self._advertiser.done()):
            self._advertiser = asyncio.get_running_loop().create_task(self._advertise())

    async def _advertise(self) -> None:
        """Repeated advertisement reports (RSSI changes) while discovering.

        bleak's find_device_by_name starts scanning before it listens, so a single report
        would be missed; BlueZ emits one per received advertisement.
        """
        step = 0
        while self._discovery_sessions and self._bus is not None:
            if not self._device.connected:
                step += 1
                self._device.rssi = -50 - (step % 2)
                self._device.emit_properties_changed({"RSSI": self._device.rssi})
            await asyncio.sleep(self.advertise_interval)

    def _stop_advertising(self) -> None:
        if self._advertiser is not None:
            self._advertiser.cancel()
            self._advertiser = None
        if self._adapter.discovering:
            self._adapter.discovering = False
            self._discovery_sessions = 0
            self._adapter.emit_properties_changed({"Discovering": False})

    def _unexport_device(self) -> None:
        if self._bus is not None and self._device_exported:
            self._bus.unexport(self.device_path)
        self._device_exported = False

    @staticmethod
    def _call(fn: Callable[..., None], *args: object) -> None:
        try:
            fn(*args)
        except Exception:
            log.exception("peripheral callback %r failed", fn)


def _check_mtu(mtu: int) -> None:
    if not MTU_MIN <= mtu <= MTU_MAX:
        raise ValueError(f"ATT MTU {mtu} is outside {MTU_MIN}..{MTU_MAX}")
