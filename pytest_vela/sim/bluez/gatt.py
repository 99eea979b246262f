"""The watch's bridge service as BlueZ presents it: a GATT object tree under the device.

bleak derives handles and the device from the object paths, so they follow BlueZ's layout
``<device>/serviceXXXX/charYYYY[/descZZZZ]``. The objects are made anew for every connection
and removed on disconnect, as BlueZ does for an unbonded device.
"""

from __future__ import annotations

from dbus_fast.aio import MessageBus

from pytest_vela.sim.bluez.objects import (
    Controller,
    GattCharacteristic,
    GattDescriptor,
    GattService,
)

SERVICE_HANDLE, RX_HANDLE, TX_HANDLE, CCCD_HANDLE = 0x0010, 0x0011, 0x0013, 0x0015


class BridgeGatt:
    """The bridge service with its RX (write) and TX (notify, with CCCD) characteristics."""

    def __init__(
        self, ctl: Controller, device_path: str, service_uuid: str, rx_uuid: str, tx_uuid: str
    ) -> None:
        self._ctl = ctl
        self._device_path = device_path
        self._uuids = (service_uuid, rx_uuid, tx_uuid)
        self.service_path = f"{device_path}/service{SERVICE_HANDLE:04x}"
        self.rx_path = f"{self.service_path}/char{RX_HANDLE:04x}"
        self.tx_path = f"{self.service_path}/char{TX_HANDLE:04x}"
        self.cccd_path = f"{self.tx_path}/desc{CCCD_HANDLE:04x}"
        self.exported = False
        self._build(247)

    def _build(self, mtu: int) -> None:
        service_uuid, rx_uuid, tx_uuid = self._uuids
        self.service = GattService(service_uuid, self._device_path, SERVICE_HANDLE)
        self.rx = GattCharacteristic(
            self._ctl,
            rx_uuid,
            self.service_path,
            RX_HANDLE,
            ["write", "write-without-response"],
            mtu,
        )
        self.tx = GattCharacteristic(
            self._ctl, tx_uuid, self.service_path, TX_HANDLE, ["notify"], mtu
        )
        self.cccd = GattDescriptor(self.tx, self.tx_path, CCCD_HANDLE)

    def export(self, bus: MessageBus | None, mtu: int) -> None:
        """Fresh objects per connection, as BlueZ does for an unbonded device."""
        if bus is None or self.exported:
            return
        self._build(mtu)
        bus.export(self.service_path, self.service)
        bus.export(self.rx_path, self.rx)
        bus.export(self.tx_path, self.tx)
        bus.export(self.cccd_path, self.cccd)
        self.exported = True

    def unexport(self, bus: MessageBus | None) -> None:
        if bus is None or not self.exported:
            return
        self.tx.notifying = False
        for path in (self.cccd_path, self.tx_path, self.rx_path, self.service_path):
            bus.unexport(path)
        self.exported = False

    def set_mtu(self, mtu: int) -> None:
        for char in (self.rx, self.tx):
            char.mtu = mtu
            if self.exported:
                char.emit_properties_changed({"MTU": mtu})
