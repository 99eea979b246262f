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
    AgentError,
    AppLoadFailed,
    AppThrew,
    BleError,
    CallFailed,
    EventTimeout,
    ExpectTimeout,
    FlashError,
    InstallError,
    LockError,
    RigConfigError,
    RigError,
    SerialLost,
    SimulatorError,
    VelaError,
    WatchCrashed,
    WatchHung,
)

if TYPE_CHECKING:
    from pytest_vela.device.watch import Watch
    from pytest_vela.peer.events import Event, EventLog
    from pytest_vela.peer.interconnect import Diagnosis, Interconnect, SendResult
    from pytest_vela.peer.phone import Peer
    from pytest_vela.plugin.link_profile import LinkProfile
    from pytest_vela.rig.factory import open_rig, open_watch
    from pytest_vela.rig.sim_faults import VelaSim
    from pytest_vela.rigfile.loader import Rig

_LAZY = {
    "Event": "pytest_vela.peer.events",
    "EventLog": "pytest_vela.peer.events",
    "Diagnosis": "pytest_vela.peer.interconnect",
    "Interconnect": "pytest_vela.peer.interconnect",
    "LinkProfile": "pytest_vela.plugin.link_profile",
    "SendResult": "pytest_vela.peer.interconnect",
    "Peer": "pytest_vela.peer.phone",
    "Rig": "pytest_vela.rigfile.loader",
    "VelaSim": "pytest_vela.rig.sim_faults",
    "Watch": "pytest_vela.device.watch",
    "open_rig": "pytest_vela.rig.factory",
    "open_watch": "pytest_vela.rig.factory",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'pytest_vela' has no attribute {name!r}")


__all__ = [
    "AgentError",
    "AppLoadFailed",
    "AppThrew",
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
    "LinkProfile",
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
    "open_rig",
    "open_watch",
]
