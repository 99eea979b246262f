"""A watch still connected from a run that was killed: found and let go before connecting.

BlueZ keeps a device connected when the client process that connected it dies, and a
connected watch does not advertise, so a new run would never see it while scanning. Before
its first connection a run asks BlueZ for devices already connected that match the rig and
disconnects them; the watch then advertises again and the normal connection follows.
"""

from __future__ import annotations

import contextlib
from typing import Any

from dbus_fast import BusType, DBusError, Message, MessageType
from dbus_fast.aio import MessageBus

from pytest_vela.link.system_bus import system_bus

BLUEZ = "org.bluez"
DEVICE = "org.bluez.Device1"


async def release_leftover(bus_address: str | None, address: str | None, name: str | None) -> bool:
    """Disconnect a device matching ``address`` (or ``name``) that BlueZ reports connected;
    whether there was one. Any failure to ask is not one: the scan then says what it finds."""
    with system_bus(bus_address):
        bus = MessageBus(bus_type=BusType.SYSTEM)
    try:
        await bus.connect()
    except (OSError, ValueError, DBusError):
        return False
    try:
        path = await _connected_match(bus, address, name)
        if path is None:
            return False
        reply = await bus.call(
            Message(destination=BLUEZ, path=path, interface=DEVICE, member="Disconnect")
        )
        return reply is not None and reply.message_type != MessageType.ERROR
    finally:
        with contextlib.suppress(Exception):
            bus.disconnect()


async def _connected_match(bus: MessageBus, address: str | None, name: str | None) -> str | None:
    reply = await bus.call(
        Message(
            destination=BLUEZ,
            path="/",
            interface="org.freedesktop.DBus.ObjectManager",
            member="GetManagedObjects",
        )
    )
    if reply is None or reply.message_type == MessageType.ERROR:
        return None
    objects: dict[str, dict[str, dict[str, Any]]] = reply.body[0]
    for path, interfaces in objects.items():
        device = interfaces.get(DEVICE)
        if device is None or not _value(device, "Connected"):
            continue
        if address and str(_value(device, "Address")).upper() == address.upper():
            return path
        if not address and name and name in (_value(device, "Name"), _value(device, "Alias")):
            return path
    return None


def _value(props: dict[str, Any], key: str) -> Any:
    variant = props.get(key)
    return getattr(variant, "value", variant)
