"""``interconnect``: the watch app's ``@system.interconnect`` connection, driven through the
on-watch agent. Thin: the protocol lives in ``watch_end`` and ``bridge``; each call is a report
step."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from pytest_vela.codes import DiagnosisStatus, ReadyState
from pytest_vela.common.metrics import MetricSink
from pytest_vela.errors import CallFailed
from pytest_vela.peer.events import EventLog
from pytest_vela.peer.steps import CallStep, no_step, shown
from pytest_vela.peer.watch_end import AgentEnd


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


def _named(value: int) -> str:
    return (
        f"{value.name} ({int(value)})"
        if isinstance(value, DiagnosisStatus | ReadyState)
        else str(value)
    )


class Interconnect:
    """The watch app's connection object (``interconnect.instance()``)."""

    def __init__(
        self,
        agent: AgentEnd,
        events: EventLog,
        step: CallStep | None = None,
        command_timeout: float = 15.0,
        metric: MetricSink | None = None,
    ) -> None:
        self._agent = agent
        self.events = events
        self._step: CallStep = step or no_step
        #: Seconds a command may take before the harness gives up (the rig's
        #: ``timeouts.command``), beyond the watch's own timeout where the call has one.
        self._command_timeout = command_timeout
        self._metric: MetricSink = metric or (lambda _name, _value, _unit: None)

    def get_ready_state(self) -> ReadyState:
        """``connect.getReadyState()``: CONNECTED (1) or DISCONNECTED (2)."""
        with self._step("interconnect.getReadyState()", {}) as outcome:
            result = self._agent.command("getReadyState", self._command_timeout)
            if not result.ok:
                raise CallFailed("getReadyState", result.code or 0, result.data)
            state: ReadyState = _status(ReadyState, result.status)
            outcome(_named(state))
            return state

    def diagnosis(self, timeout: int = 10000) -> Diagnosis:
        """``connect.diagnosis({timeout})``; ``timeout`` in ms, as in the API."""
        with self._step(
            f"interconnect.diagnosis(timeout={timeout} ms)", {"timeout": f"{timeout} ms"}
        ) as outcome:
            result = self._agent.command(
                "diagnosis", timeout / 1000 + self._command_timeout, timeout=timeout
            )
            if not result.ok:
                raise CallFailed("diagnosis", result.code or 0, result.data)
            diagnosis = Diagnosis(_status(DiagnosisStatus, result.status))
            outcome(f"status {_named(diagnosis.status)}")
            return diagnosis

    def send(self, data: Any, timeout: float | None = None) -> SendResult:
        """``connect.send({data})``: ``data`` is an object, serialised once by the watch.
        ``timeout`` (seconds, default the rig's ``timeouts.command``) bounds the whole call,
        writing the command included."""
        timeout = self._command_timeout if timeout is None else timeout
        params = {"data": data, "timeout": f"{timeout:g} s"}
        with self._step(f"interconnect.send({shown(data)})", params) as outcome:
            started = time.perf_counter()
            result = self._agent.command("send", timeout, data=data)
            if result.ok:
                self._metric("send_round_trip", (time.perf_counter() - started) * 1000, "ms")
                outcome("success")
                return SendResult(True)
            outcome(f"fail, code {result.code or 0}: {shown(result.data)}")
            return SendResult(False, result.code or 0, result.data)
