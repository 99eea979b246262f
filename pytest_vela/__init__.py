"""pytest-vela: hardware-in-the-loop tests of Vela quick apps using ``@system.interconnect``."""

from pytest_vela.codes import DiagnosisStatus, ErrorCode, ReadyState
from pytest_vela.errors import (
    BleError,
    ExpectTimeout,
    FlashError,
    InstallError,
    LockError,
    RigConfigError,
    RigError,
    SerialLost,
    SimulatorError,
    VelaError,
    WatchHung,
)

__all__ = [
    "BleError",
    "DiagnosisStatus",
    "ErrorCode",
    "ExpectTimeout",
    "FlashError",
    "InstallError",
    "LockError",
    "ReadyState",
    "RigConfigError",
    "RigError",
    "SerialLost",
    "SimulatorError",
    "VelaError",
    "WatchHung",
]
