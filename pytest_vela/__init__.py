"""pytest-vela: hardware-in-the-loop tests of Vela quick apps using ``@system.interconnect``.

Codes and errors import at once; the fixtures' types (``Watch``, ``Peer``, ``Interconnect``,
``EventLog``…) are imported when first named, so that the simulated watch, which imports this
package too, does not pull in bleak.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

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

if TYPE_CHECKING:
    from pytest_vela.events import Event, EventLog, EventTimeout
    from pytest_vela.interconnect import CallFailed, Diagnosis, Interconnect, Peer, SendResult
    from pytest_vela.rig import Rig
    from pytest_vela.sim_faults import VelaSim
    from pytest_vela.watch import Watch, WatchCrashed

_LAZY = {
    "Event": "pytest_vela.events",
    "EventLog": "pytest_vela.events",
    "EventTimeout": "pytest_vela.events",
    "CallFailed": "pytest_vela.interconnect",
    "Diagnosis": "pytest_vela.interconnect",
    "Interconnect": "pytest_vela.interconnect",
    "Peer": "pytest_vela.interconnect",
    "SendResult": "pytest_vela.interconnect",
    "Rig": "pytest_vela.rig",
    "VelaSim": "pytest_vela.sim_faults",
    "Watch": "pytest_vela.watch",
    "WatchCrashed": "pytest_vela.watch",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'pytest_vela' has no attribute {name!r}")


__all__ = [
    "BleError",
    "CallFailed",
    "Diagnosis",
    "DiagnosisStatus",
    "ErrorCode",
    "Event",
    "EventLog",
    "EventTimeout",
    "ExpectTimeout",
    "FlashError",
    "InstallError",
    "Interconnect",
    "LockError",
    "Peer",
    "ReadyState",
    "Rig",
    "RigConfigError",
    "RigError",
    "SendResult",
    "SerialLost",
    "SimulatorError",
    "VelaError",
    "VelaSim",
    "Watch",
    "WatchCrashed",
    "WatchHung",
]
