"""The harness's end of the bridge protocol (docs/protocol.md) over a ``LinkClient``.

It owns the phone side's state — whether the phone app looks installed, whether it answers,
whether its session with the watch app is up — and changes it only through its verbs. It runs
its message handling on the link's loop thread and never blocks it: results wake the waiting
test thread through a condition, events go into the current test's ``EventLog``, and the phone
app's automatic answers (``ack``, ``pong``) are scheduled, not awaited.
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from pytest_vela.common.loop import LoopThread
from pytest_vela.console.port import Console
from pytest_vela.errors import AgentError, BleError, ProtocolError
from pytest_vela.link.client import LinkClient
from pytest_vela.link.trace import LinkTrace
from pytest_vela.peer.events import Event, EventLog
from pytest_vela.rigfile.schema import BleSettings
from pytest_vela.wire.messages import (
    Ack,
    AppData,
    Command,
    EventReport,
    Hello,
    LinkOp,
    LinkOrder,
    Message,
    PeerState,
    Ping,
    Pong,
    Result,
    SessionState,
    decode,
    encode,
)
from pytest_vela.wire.profile import AGENT_CONSOLE_PREFIX

SEEN_LIMIT = 4096  # events remembered to drop their second copy (bridge vs console mirror)


class AgentClient:
    """Commands to the on-watch agent and the phone app's side of the watch app's link.

    With ``agent=False`` the watch runs the user's own app instead of the agent: nothing is
    commanded, and the link's state is what the watch's bridge tells the phone side
    (``session`` messages) rather than the agent's events.
    """

    def __init__(
        self,
        settings: BleSettings,
        loop: LoopThread,
        trace: LinkTrace,
        bus_address: str | None = None,
        agent: bool = True,
    ) -> None:
        self.trace = trace
        self.agent = agent
        self.link = LinkClient(
            settings,
            trace,
            loop,
            self._on_message,
            self._on_disconnect,
            bus_address=bus_address,
        )
        self.events = EventLog()
        self.inbox: list[Any] = []  # what the watch app sent the phone, this test
        self.hello: Hello | None = None
        self._phone_installed = True
        self._phone_responsive = True
        self._app_link_up = False
        self._session_wanted = True  # the phone app's last order was to open its session
        self._session_up = False
        self._clock_offset: float | None = None  # host time.time() minus watch seconds
        self._cond = threading.Condition()
        self._results: dict[int, Result] = {}
        self._seen: set[tuple[int, float, str]] = set()
        self._seen_order: deque[tuple[int, float, str]] = deque()
        self._awaiting: set[int] = set()
        self._next_id = 0

    # --- state, read-only from outside -----------------------------------------------------

    @property
    def connected(self) -> bool:
        """The BLE bridge connection is up."""
        return self.link.is_connected

    @property
    def app_link_up(self) -> bool:
        """The watch app's session with the phone app is open: the agent's last event was
        ``open`` (or, without the agent, the watch's bridge last said the session is up)."""
        return self._app_link_up if self.agent else self._session_up

    @property
    def phone_installed(self) -> bool:
        return self._phone_installed

    @property
    def phone_responsive(self) -> bool:
        return self._phone_responsive

    # --- the bridge connection -----------------------------------------------------------------

    def connect(self, timeout: float) -> None:
        """Connect the bridge, wait for the watch's hello and map its clock."""
        with self._cond:
            self.hello = None
        self.link.connect(timeout)
        self.wait_for(lambda: self.hello is not None, timeout, "the watch's hello after connecting")
        self.sync_clock()

    def sync_clock(self) -> None:
        """One round trip: maps watch time to host time, and flushes events in flight (through
        the agent; without it, through the watch's bridge, which answers ``watch_clock``)."""
        sent = time.time()
        result = self._run("clock" if self.agent else "watch_clock", 5.0, {})
        back = time.time()
        self._clock_offset = (sent + back) / 2 - float(result.clock or 0) / 1000

    def close(self) -> None:
        with contextlib.suppress(BleError):
            self.link.disconnect()

    # --- verbs of the phone app ---------------------------------------------------------------

    def send_to_watch_app(self, obj: Any) -> None:
        """Phone → watch: ``obj`` arrives as ``onmessage`` with ``data`` its JSON string
        (``json.dumps`` with its default separators, non-ASCII kept)."""
        self.post(AppData(json.dumps(obj, ensure_ascii=False)))

    def set_phone_installed(self, installed: bool) -> None:
        self._phone_installed = installed
        self.post(PeerState(installed))

    def set_phone_responsive(self, responsive: bool) -> None:
        """An unresponsive phone app stops acknowledging and answering pings."""
        self._phone_responsive = responsive

    def order_app_link(self, op: LinkOp) -> None:
        """Open, cleanly close or abruptly drop the phone app's session."""
        self._session_wanted = op == "open"
        self.post(LinkOrder(op))

    def app_restarted(self) -> None:
        """The watch app was (re)started: its link is down until its next ``open``."""
        with self._cond:
            self._app_link_up = False

    def wait_app_link(self, timeout: float) -> bool:
        """After the watch rebooted: give the app link the time to come back by itself, when
        the phone app wants it (installed, session open); returns whether it is up."""
        if not (self._phone_installed and self._session_wanted):
            return self._app_link_up
        with self._cond:
            return self._cond.wait_for(lambda: self._app_link_up, timeout)

    def restore_phone(self, timeout: float) -> None:
        """The phone app's starting state for a test: installed, responsive, session open —
        touching only what is off."""
        if not self._phone_installed:
            self.set_phone_installed(True)
        self._phone_responsive = True
        if not self.app_link_up:
            self.order_app_link("open")
            self.wait_for(lambda: self.app_link_up, timeout, "the app link to open")

    # --- commands to the agent -----------------------------------------------------------------

    def post(self, message: Message, timeout: float = 10.0) -> None:
        self.link.send(encode(message), timeout)

    def command(self, op: str, wait: float, **args: Any) -> Result:
        """Run one agent command and return its result (``wait``: seconds, writing included).
        A command the agent could not run at all (bridge failure code) is an ``AgentError``."""
        if not self.agent:
            raise AgentError(
                f"cannot run {op}: this rig tests its own app, not the agent (no agent runs)"
            )
        return self._run(op, wait, args)

    def _run(self, op: str, wait: float, args: dict[str, Any]) -> Result:
        deadline = time.monotonic() + wait
        with self._cond:
            self._next_id += 1
            cid = self._next_id
            self._awaiting.add(cid)
        try:
            self.post(Command(cid, op, args), max(wait, 0.001))
            self.wait_for(
                lambda: cid in self._results,
                max(0.0, deadline - time.monotonic()),
                f"the agent's answer to {op!r}",
            )
            with self._cond:
                result = self._results.pop(cid)
        finally:
            with self._cond:  # an answer that comes after we gave up is not kept
                self._awaiting.discard(cid)
                self._results.pop(cid, None)
        failure = result.bridge_failure
        if failure is not None:
            raise AgentError(f"the agent cannot run {op}: {failure.name} ({result.data})")
        return result

    def wait_for(self, ready: Callable[[], bool], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        with self._cond:
            while not ready():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AgentError(
                        f"waited {timeout:.3g} s for {what}, in vain (the BLE link is "
                        f"{'up' if self.connected else 'down'}); link trace and console log "
                        "are attached to the test report"
                    )
                if not self.connected:
                    raise BleError(f"the BLE link to the watch went down while waiting for {what}")
                self._cond.wait(remaining)

    def new_test(self) -> EventLog:
        with self._cond:
            self.events = EventLog()
            self.inbox = []
            return self.events

    # --- messages from the watch (loop thread) -------------------------------------------------

    def _on_message(self, raw: bytes) -> None:
        try:
            message = decode(raw)
        except ProtocolError as exc:
            self.trace.event(f"unreadable message from the watch ({exc}): {raw[:80]!r}")
            return
        answering = self._phone_responsive and self._phone_installed
        if isinstance(message, AppData):
            if answering and message.id is not None:
                self._send_soon(Ack(message.id))
            with self._cond:
                self.inbox.append(_parse(message.data))
                self._cond.notify_all()
        elif isinstance(message, Ping):
            if answering:
                self._send_soon(Pong(message.id))
        elif isinstance(message, Result):
            self._result(message)
        elif isinstance(message, EventReport):
            self._event(message)
        elif isinstance(message, SessionState):
            with self._cond:
                self._session_up = message.up
                self._cond.notify_all()
        elif isinstance(message, Hello):
            with self._cond:
                self.hello = message
                self._cond.notify_all()

    def _result(self, result: Result) -> None:
        """A command's result, by the bridge or by the console mirror (the first one counts)."""
        with self._cond:
            if result.id in self._awaiting and result.id not in self._results:
                self._results[result.id] = result
            self._cond.notify_all()

    def _on_disconnect(self, _ts: float) -> None:
        with self._cond:
            self._app_link_up = False
            self._session_up = False
            self._cond.notify_all()

    def _event(self, report: EventReport) -> None:
        now = time.time()
        offset = self._clock_offset
        ts = now if offset is None else offset + float(report.ts) / 1000
        event = Event(
            kind=report.kind,
            ts=ts,
            data=report.data,  # as the app received it: a check on its type must see it
            code=report.code,
            is_reconnected=report.is_reconnected,
            seq=report.seq,
            watch_ts=report.ts,
            received=now,
        )
        with self._cond:
            if report.identity in self._seen:
                return  # the same event by its other route (bridge or console mirror)
            self._seen.add(report.identity)
            self._seen_order.append(report.identity)
            if len(self._seen_order) > SEEN_LIMIT:
                self._seen.discard(self._seen_order.popleft())
            if event.kind == "open":
                self._app_link_up = True
            elif event.kind == "close":
                self._app_link_up = False
            self.events.append(event)
            self._cond.notify_all()

    def follow_console(self, console: Console) -> None:
        """Also take events from the agent's console mirror: they arrive even while the app
        link is down and the agent cannot be reached over it (on a real watch)."""
        console.watch_lines(re.escape(AGENT_CONSOLE_PREFIX), self._console_line)

    def _console_line(self, line: str, _ts: float) -> None:
        start = line.find(AGENT_CONSOLE_PREFIX)
        if start < 0:
            return
        with contextlib.suppress(ProtocolError):  # a line cut by noise: the bridge still has it
            message = decode(line[start + len(AGENT_CONSOLE_PREFIX) :])
            if isinstance(message, EventReport):
                self._event(message)
            elif isinstance(message, Result):
                self._result(message)

    def _send_soon(self, message: Message) -> None:
        self.link.send_soon(
            encode(message),
            lambda exc: self.trace.event(f"automatic {message.t} not sent: {exc}"),
        )


def _parse(data: str) -> Any:
    try:
        return json.loads(data)
    except ValueError:
        return data
