"""Exceptions users see.

``ExpectTimeout`` is a product-side failure (the watch did not say what the test expected);
``RigError`` and its subclasses are infrastructure faults, reported as *broken*, not *failed*.
"""

from __future__ import annotations

from pathlib import Path


class VelaError(Exception):
    """Base of every pytest-vela exception."""


class ExpectTimeout(VelaError, AssertionError):
    """A pattern did not appear on the console in time."""

    def __init__(self, pattern: str, timeout: float, seen: str, log_path: Path | None) -> None:
        self.pattern = pattern
        self.timeout = timeout
        self.seen = seen
        self.log_path = log_path
        where = f"\nfull console log: {log_path}" if log_path else ""
        super().__init__(
            f"expected {pattern!r} on the console within {timeout:g} s; "
            f"last {len(seen)} characters seen:\n{seen}{where}"
        )


class RigError(VelaError):
    """An infrastructure fault: the rig, not the product under test, failed."""


class RigConfigError(RigError):
    """A rig file is missing or invalid."""


class SerialLost(RigError):
    """The serial port vanished or failed while in use."""


class WatchHung(RigError):
    """The watch stopped answering on its console."""


class FlashError(RigError):
    """Transferring or verifying an image or package failed."""


class InstallError(RigError):
    """The watch refused to install, uninstall or launch an app."""


class BleError(RigError):
    """The BLE adapter or link failed (scan, connect, GATT)."""


class LockError(RigError):
    """The rig is locked by another run."""


class SimulatorError(RigError):
    """The simulated watch or its private bus could not be started or died."""
