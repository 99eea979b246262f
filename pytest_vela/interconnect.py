"""``peer`` and ``interconnect``: the two ends of the watch app's link, as tests drive them.

``Peer`` is the phone app (the harness plays it over the bridge); ``Interconnect`` is the
watch app's ``@system.interconnect`` connection, driven through the on-watch agent. Both are
thin: the protocol lives in ``bridge_session``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pytest_vela.bridge_session import AgentError, BridgeSession
from pytest_vela.codes import DiagnosisStatus, ReadyState
from pytest_vela.errors import BleError, VelaError
from pytest_vela.events import EventLog

RESULT_MARGIN = 5.0  # seconds beyond the watch's own timeout before the harness gives up


class CallFailed(VelaError, AssertionError):
    """An API call that has no failure outcome in its contract answered ``fail``."""

    def __init__(self, call: str, code: int, data: Any) -> None:
        self.code = code
        self.data = data
        super().__init__(f"{call} failed with code {code}: {data!r}")


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

    def __init__(self, bridge: BridgeSession, events: EventLog) -> None:
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


class Peer:
    """The phone app at the other end of the link."""

    def __init__(self, bridge: BridgeSession, connect_timeout: float) -> None:
        self._bridge = bridge
        self._connect_timeout = connect_timeout
        self._read = 0

    @property
    def messages(self) -> list[Any]:
        """Every object the watch app sent since the test began."""
        return list(self._bridge.inbox)

    def send(self, obj: Any) -> None:
        """Phone → watch: arrives as ``onmessage`` with ``data`` the JSON string."""
        self._bridge.post({"t": "app", "data": json.dumps(obj, ensure_ascii=False)})

    def expect_message(self, timeout: float = 10.0) -> Any:
        """The next object the watch app sent (in order; each returned once)."""
        __tracebackhide__ = True
        index = self._read
        try:
            self._bridge.wait_for(
                lambda: len(self._bridge.inbox) > index, timeout, "message from the watch app"
            )
        except AgentError:
            raise AssertionError(
                f"the watch app sent no message within {timeout:g} s "
                f"({index} received earlier in this test)"
            ) from None
        self._read += 1
        return self._bridge.inbox[index]

    @property
    def is_connected(self) -> bool:
        return self._bridge.connected and self._bridge.app_link_up

    def drop(self) -> None:
        """Abrupt link loss: the watch app sees error(1006) then close(1006)."""
        self._bridge.post({"t": "link", "op": "drop"})

    def disconnect(self) -> None:
        """Clean close from the phone: the watch app sees close(1000)."""
        self._bridge.post({"t": "link", "op": "close"})

    def reconnect(self) -> None:
        """Open the link again (reconnecting the BLE bridge first if it was lost)."""
        bridge = self._bridge
        if bridge.connected:
            try:
                bridge.post({"t": "link", "op": "open"})
                return
            except BleError:
                if bridge.connected:
                    raise  # the link is up and still refused the write: not a lost link
        bridge.connect(self._connect_timeout)
        bridge.post({"t": "link", "op": "open"})

    def set_app_installed(self, installed: bool) -> None:
        self._bridge.installed = installed
        self._bridge.post({"t": "peer", "installed": installed})

    def set_responsive(self, responsive: bool) -> None:
        """An unresponsive phone app stops acknowledging: the watch's sends time out (204)."""
        self._bridge.responsive = responsive
