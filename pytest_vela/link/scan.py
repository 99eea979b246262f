"""Is the watch's bridge peripheral there? One scan, for a quick health check of a rig."""

from __future__ import annotations

from bleak import BleakScanner
from bleak.args.bluez import BlueZScannerArgs
from bleak.backends.device import BLEDevice

from pytest_vela.common.loop import LoopThread
from pytest_vela.errors import BleError
from pytest_vela.link.system_bus import system_bus
from pytest_vela.rigfile.schema import BleSettings


async def find_watch(settings: BleSettings, timeout: float) -> BLEDevice | None:
    """The watch named by ``ble.address`` (else ``ble.name``), seen advertising through the
    rig's ``ble.adapter`` within ``timeout`` s; None when it is not."""
    adapter: BlueZScannerArgs = {"adapter": settings.adapter}
    if settings.address:
        return await BleakScanner.find_device_by_address(
            settings.address, timeout=timeout, bluez=adapter
        )
    assert settings.name is not None
    return await BleakScanner.find_device_by_name(settings.name, timeout=timeout, bluez=adapter)


def seen_advertising(settings: BleSettings, bus_address: str | None, timeout: float) -> str | None:
    """The address of the peripheral named by ``ble.address`` or ``ble.name`` if it is seen
    within ``timeout`` s, else None; BleError when the scan itself fails (no BlueZ, no
    adapter). ``bus_address``: the D-Bus system bus where the rig's BlueZ is (None: the
    host's own)."""
    if not (settings.address or settings.name):
        raise BleError("the rig names no watch to look for: set ble.address or ble.name")

    async def scan() -> str | None:
        with system_bus(bus_address):
            found = await find_watch(settings, timeout)
        return found.address if found is not None else None

    with LoopThread("vela-scan") as loop:
        try:
            return loop.run(scan(), timeout + 10.0, "scanning for the watch")
        except BleError:
            raise
        except Exception as exc:
            raise BleError(f"the BLE scan failed: {type(exc).__name__}: {exc}") from None
