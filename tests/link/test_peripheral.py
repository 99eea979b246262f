"""BluezPeripheral on its own (no bleak): ownership, guards, faults' argument checks."""

from __future__ import annotations

import asyncio

import pytest

from pytest_vela.errors import SimulatorError
from pytest_vela.rig.private_bus import PrivateBus
from pytest_vela.sim.bluez import BluezPeripheral, BridgePeripheral, NotConnected
from pytest_vela.wire.profile import BRIDGE_RX_UUID, BRIDGE_SERVICE_UUID, BRIDGE_TX_UUID


def make(address: str, bus_address: str = "unix:path=/nonexistent") -> BluezPeripheral:
    return BluezPeripheral(
        bus_address, "Vela-p", address, BRIDGE_SERVICE_UUID, BRIDGE_RX_UUID, BRIDGE_TX_UUID
    )


def test_bluez_name_can_only_be_owned_once(private_bus: PrivateBus) -> None:
    assert private_bus.address is not None
    address = private_bus.address

    async def scenario() -> None:
        first = make("C0:FF:EE:00:00:10", address)
        second = make("C0:FF:EE:00:00:11", address)
        await first.start()
        try:
            with pytest.raises(SimulatorError, match=r"org\.bluez is already owned"):
                await second.start()
        finally:
            await first.stop()
            await first.stop()

    asyncio.run(scenario())


def test_unreachable_bus_is_a_simulator_error() -> None:
    with pytest.raises(SimulatorError, match="cannot reach its D-Bus"):
        asyncio.run(make("C0:FF:EE:00:00:12").start())


def test_nothing_is_sent_without_a_subscribed_central(private_bus: PrivateBus) -> None:
    assert private_bus.address is not None
    address = private_bus.address

    async def scenario() -> None:
        p = make("C0:FF:EE:00:00:13", address)
        bridge = BridgePeripheral(p)
        await bridge.start()
        try:
            assert not p.connected and not bridge.ready
            with pytest.raises(NotConnected, match="not connected"):
                await p.notify(b"x")
            with pytest.raises(NotConnected, match="no central"):
                await bridge.send_message(b"{}")
        finally:
            await bridge.stop()

    asyncio.run(scenario())


def test_argument_checks() -> None:
    with pytest.raises(ValueError, match="AA:BB"):
        make("not-an-address")
    p = make("C0:FF:EE:00:00:14")
    with pytest.raises(ValueError, match=r"outside 23\.\.517"):
        p.set_mtu(22)
    with pytest.raises(ValueError, match="≥ 0"):
        p.set_latency(-1)
    with pytest.raises(ValueError, match="≥ 0"):
        p.refuse_next_connects(-1)
