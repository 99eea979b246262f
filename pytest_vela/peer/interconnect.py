"""``interconnect``: the watch app's ``@system.interconnect`` connection, driven through the
on-watch agent. Thin: the protocol lives in ``agent_client``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pytest_vela.codes import DiagnosisStatus, ReadyState
from pytest_vela.errors import AgentError, CallFailed
from pytest_vela.peer.agent_client import AgentClient
from pytest_vela.peer.events import EventLog

RESULT_MARGIN = 5.0  # seconds beyond the watch's own timeout before the harness gives up


@dataclass(frozen=True)
class Diagnosis:
    status: DiagnosisStatus | int


@dataclass(frozen=True)
class SendResult:
    """``ok`` for ``success``; otherwise ``code`` (204 timeout, 1006 disconnected, …) and
    ``data`` (the fail message)."""

    ok: bool
    code: int | None = None
    data: Any = None


def _status(enum: type[DiagnosisStatus] | type[ReadyState], value: Any) -> Any:
    try:
        return enum(int(value))
    except ValueError:
        return int(value)


class Interconnect:
    """The watch app's connection object (``interconnect.instance()``)."""

    def __init__(self, bridge: AgentClient, events: EventLog) -> None:
        self._bridge = bridge
        self.events = events

    def _call(self, op: str, wait: float, **args: Any) -> dict[str, Any]:
        result = self._bridge.command(op, wait, **args)
        if (
            not result.get("ok")
            and result.get("code") == 200
            and "not running" in str(result.get("data"))
        ):
            raise AgentError(f"the agent cannot run {op}: {result.get('data')}")
        return result

    def get_ready_state(self) -> ReadyState:
        result = self._call("getReadyState", RESULT_MARGIN)
        if not result.get("ok"):
            raise CallFailed("getReadyState", int(result.get("code", 0)), result.get("data"))
        state: ReadyState = _status(ReadyState, result["status"])
        return state

    def diagnosis(self, timeout: int = 10000) -> Diagnosis:
        """``connect.diagnosis({timeout})``; ``timeout`` in ms, as in the API."""
        result = self._call("diagnosis", timeout / 1000 + RESULT_MARGIN, timeout=timeout)
        if not result.get("ok"):
            raise CallFailed("diagnosis", int(result.get("code", 0)), result.get("data"))
        return Diagnosis(_status(DiagnosisStatus, result["status"]))

    def send(self, data: Any, timeout: float = 15.0) -> SendResult:
        """``connect.send({data})``: ``data`` is an object, serialised once by the watch.
        ``timeout`` bounds how long the harness waits for the outcome, in seconds."""
        result = self._call("send", timeout, data=data)
        if result.get("ok"):
            return SendResult(True)
        return SendResult(False, int(result.get("code", 0)), result.get("data"))
