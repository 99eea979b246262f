"""The ``org.bluez`` D-Bus objects bleak reads: adapter, device, GATT service tree.

Only what bleak 3.1's BlueZ backend touches is modelled (see docs/ble.md). Property getters are
named exactly like the D-Bus properties because dbus-fast reads a property with
``getattr(interface, getter.__name__)``. Behaviour lives in ``BluezPeripheral``; these classes
hold state and forward method calls to it through the small ``Controller`` protocol.
"""

# No ``from __future__ import annotations`` here: dbus-fast reads these annotations at
# runtime, and a postponed ``-> None`` would reach it as the string "None".
from typing import Annotated, Protocol

from dbus_fast import DBusError, Variant
from dbus_fast.annotations import (
    DBusBool,
    DBusBytes,
    DBusDict,
    DBusInt16,
    DBusObjectPath,
    DBusSignature,
    DBusStr,
    DBusUInt16,
    DBusUInt32,
)
from dbus_fast.constants import PropertyAccess
from dbus_fast.service import ServiceInterface, dbus_method, dbus_property

DBusStrList = Annotated[list[str], DBusSignature("as")]
DBusPathList = Annotated[list[str], DBusSignature("ao")]

READ = PropertyAccess.READ
CCCD_UUID = "00002902-0000-1000-8000-00805f9b34fb"

ERR_FAILED = "org.bluez.Error.Failed"
ERR_NOT_PERMITTED = "org.bluez.Error.NotPermitted"
ERR_NOT_SUPPORTED = "org.bluez.Error.NotSupported"
ERR_INVALID_ARGS = "org.bluez.Error.InvalidArguments"
ERR_DOES_NOT_EXIST = "org.bluez.Error.DoesNotExist"


class Controller(Protocol):
    """What the D-Bus objects ask of the peripheral."""

    def start_discovery(self) -> None: ...
    def stop_discovery(self) -> None: ...
    def remove_device(self, path: str) -> None: ...
    async def connect(self) -> None: ...
    async def disconnect(self) -> None: ...
    async def write(self, data: bytes, options: dict[str, Variant]) -> None: ...
    def set_notifying(self, on: bool) -> None: ...


class Adapter(ServiceInterface):
    """``org.bluez.Adapter1`` at ``/org/bluez/hciN``: powered, central role."""

    def __init__(self, ctl: Controller, address: str, name: str) -> None:
        super().__init__("org.bluez.Adapter1")
        self._ctl = ctl
        self._address = address
        self._name = name
        self.discovering = False

    @dbus_property(access=READ)
    def Address(self) -> DBusStr:
        return self._address

    @dbus_property(access=READ)
    def AddressType(self) -> DBusStr:
        return "public"

    @dbus_property(access=READ)
    def Name(self) -> DBusStr:
        return self._name

    @dbus_property(access=READ)
    def Alias(self) -> DBusStr:
        return self._name

    @dbus_property(access=READ)
    def Class(self) -> DBusUInt32:
        return 0

    @dbus_property(access=READ)
    def Powered(self) -> DBusBool:
        return True

    @dbus_property(access=READ)
    def Discoverable(self) -> DBusBool:
        return False

    @dbus_property(access=READ)
    def Pairable(self) -> DBusBool:
        return False

    @dbus_property(access=READ)
    def Discovering(self) -> DBusBool:
        return self.discovering

    @dbus_property(access=READ)
    def UUIDs(self) -> DBusStrList:
        return []

    @dbus_property(access=READ)
    def Roles(self) -> DBusStrList:
        return ["central", "peripheral"]

    @dbus_method()
    def SetDiscoveryFilter(self, properties: DBusDict) -> None:
        return None

    @dbus_method()
    def GetDiscoveryFilters(self) -> DBusStrList:
        return ["UUIDs", "RSSI", "Pathloss", "Transport", "DuplicateData", "Discoverable"]

    @dbus_method()
    def StartDiscovery(self) -> None:
        self._ctl.start_discovery()

    @dbus_method()
    def StopDiscovery(self) -> None:
        self._ctl.stop_discovery()

    @dbus_method()
    def RemoveDevice(self, device: DBusObjectPath) -> None:
        self._ctl.remove_device(device)


class Device(ServiceInterface):
    """``org.bluez.Device1``: the simulated watch as the adapter sees it."""

    def __init__(
        self, ctl: Controller, adapter_path: str, address: str, name: str, uuids: list[str]
    ) -> None:
        super().__init__("org.bluez.Device1")
        self._ctl = ctl
        self._adapter_path = adapter_path
        self._address = address
        self._name = name
        self._uuids = uuids
        self.connected = False
        self.services_resolved = False
        self.rssi = -50

    @dbus_property(access=READ)
    def Address(self) -> DBusStr:
        return self._address

    @dbus_property(access=READ)
    def AddressType(self) -> DBusStr:
        return "public"

    @dbus_property(access=READ)
    def Name(self) -> DBusStr:
        return self._name

    @dbus_property(access=READ)
    def Alias(self) -> DBusStr:
        return self._name

    @dbus_property(access=READ)
    def Adapter(self) -> DBusObjectPath:
        return self._adapter_path

    @dbus_property(access=READ)
    def Connected(self) -> DBusBool:
        return self.connected

    @dbus_property(access=READ)
    def ServicesResolved(self) -> DBusBool:
        return self.services_resolved

    @dbus_property(access=READ)
    def Paired(self) -> DBusBool:
        return False

    @dbus_property(access=READ)
    def Bonded(self) -> DBusBool:
        return False

    @dbus_property(access=READ)
    def Trusted(self) -> DBusBool:
        return False

    @dbus_property(access=READ)
    def Blocked(self) -> DBusBool:
        return False

    @dbus_property(access=READ)
    def LegacyPairing(self) -> DBusBool:
        return False

    @dbus_property(access=READ)
    def RSSI(self) -> DBusInt16:
        return self.rssi

    @dbus_property(access=READ)
    def UUIDs(self) -> DBusStrList:
        return self._uuids

    @dbus_method()
    async def Connect(self) -> None:
        await self._ctl.connect()

    @dbus_method()
    async def Disconnect(self) -> None:
        await self._ctl.disconnect()

    @dbus_method()
    def Pair(self) -> None:
        raise DBusError(ERR_NOT_SUPPORTED, "pairing is not simulated")

    @dbus_method()
    def CancelPairing(self) -> None:
        raise DBusError(ERR_DOES_NOT_EXIST, "no pairing in progress")


class GattService(ServiceInterface):
    """``org.bluez.GattService1``: the bridge service."""

    def __init__(self, uuid: str, device_path: str, handle: int) -> None:
        super().__init__("org.bluez.GattService1")
        self._uuid = uuid
        self._device_path = device_path
        self._handle = handle

    @dbus_property(access=READ)
    def UUID(self) -> DBusStr:
        return self._uuid

    @dbus_property(access=READ)
    def Primary(self) -> DBusBool:
        return True

    @dbus_property(access=READ)
    def Device(self) -> DBusObjectPath:
        return self._device_path

    @dbus_property(access=READ)
    def Includes(self) -> DBusPathList:
        return []

    @dbus_property(access=READ)
    def Handle(self) -> DBusUInt16:
        return self._handle


class GattCharacteristic(ServiceInterface):
    """``org.bluez.GattCharacteristic1``: RX (central writes) or TX (watch notifies)."""

    def __init__(
        self,
        ctl: Controller,
        uuid: str,
        service_path: str,
        handle: int,
        flags: list[str],
        mtu: int,
    ) -> None:
        super().__init__("org.bluez.GattCharacteristic1")
        self._ctl = ctl
        self._uuid = uuid
        self._service_path = service_path
        self._handle = handle
        self._flags = flags
        self.value = b""
        self.notifying = False
        self.mtu = mtu

    @dbus_property(access=READ)
    def UUID(self) -> DBusStr:
        return self._uuid

    @dbus_property(access=READ)
    def Service(self) -> DBusObjectPath:
        return self._service_path

    @dbus_property(access=READ)
    def Value(self) -> DBusBytes:
        return self.value

    @dbus_property(access=READ)
    def Notifying(self) -> DBusBool:
        return self.notifying

    @dbus_property(access=READ)
    def Flags(self) -> DBusStrList:
        return self._flags

    @dbus_property(access=READ)
    def MTU(self) -> DBusUInt16:
        return self.mtu

    @dbus_property(access=READ)
    def Handle(self) -> DBusUInt16:
        return self._handle

    @dbus_method()
    def ReadValue(self, options: DBusDict) -> DBusBytes:
        if "read" not in self._flags:
            raise DBusError(ERR_NOT_PERMITTED, "Read not permitted")
        return self.value

    @dbus_method()
    async def WriteValue(self, value: DBusBytes, options: DBusDict) -> None:
        if not {"write", "write-without-response"} & set(self._flags):
            raise DBusError(ERR_NOT_PERMITTED, "Write not permitted")
        await self._ctl.write(bytes(value), options)

    @dbus_method()
    def StartNotify(self) -> None:
        if "notify" not in self._flags:
            raise DBusError(ERR_NOT_SUPPORTED, "Operation is not supported")
        self._ctl.set_notifying(True)

    @dbus_method()
    def StopNotify(self) -> None:
        if "notify" not in self._flags:
            raise DBusError(ERR_NOT_SUPPORTED, "Operation is not supported")
        self._ctl.set_notifying(False)


class GattDescriptor(ServiceInterface):
    """``org.bluez.GattDescriptor1``: the TX characteristic's CCCD (read-only, as in BlueZ)."""

    def __init__(self, char: GattCharacteristic, char_path: str, handle: int) -> None:
        super().__init__("org.bluez.GattDescriptor1")
        self._char = char
        self._char_path = char_path
        self._handle = handle

    @dbus_property(access=READ)
    def UUID(self) -> DBusStr:
        return CCCD_UUID

    @dbus_property(access=READ)
    def Characteristic(self) -> DBusObjectPath:
        return self._char_path

    @dbus_property(access=READ)
    def Value(self) -> DBusBytes:
        return self._cccd()

    @dbus_property(access=READ)
    def Flags(self) -> DBusStrList:
        return ["read"]

    @dbus_property(access=READ)
    def Handle(self) -> DBusUInt16:
        return self._handle

    def _cccd(self) -> bytes:
        return b"\x01\x00" if self._char.notifying else b"\x00\x00"

    @dbus_method()
    def ReadValue(self, options: DBusDict) -> DBusBytes:
        return self._cccd()

    @dbus_method()
    def WriteValue(self, value: DBusBytes, options: DBusDict) -> None:
        raise DBusError(ERR_NOT_PERMITTED, "Write not permitted")
