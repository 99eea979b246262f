"""The simulated watch's ``org.bluez``: what bleak needs from BlueZ, on a private bus."""

from pytest_vela.sim.bluez.bridge import BridgePeripheral
from pytest_vela.sim.bluez.peripheral import BluezPeripheral, NotConnected

__all__ = ["BluezPeripheral", "BridgePeripheral", "NotConnected"]
