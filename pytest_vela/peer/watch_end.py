"""The watch's end of the link, as the phone side sees it: two strategies, chosen once by the
rig session.

- ``AgentEnd``: the pytest-vela agent runs on the watch. It runs commands
  (``getReadyState``, ``diagnosis``, ``send``), reports every event its connection receives
  (over the bridge and, mirrored, on the console), and the watch app's link is up from its
  ``open`` event to its ``close``.
- ``AppEnd``: the user's own app runs instead. Nothing can be commanded; the watch's bridge
  tells the phone side when the app's link goes up or down (``session`` messages), and after a
  link order the phone side waits for that.

A third end (say, an agent of another protocol) is one more class with these members.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections import deque
from typing import Any, Protocol

from pytest_vela.console.port import Console
from pytest_vela.errors import AgentError, ProtocolError
from pytest_vela.peer.bridge import BridgeClient
from pytest_vela.peer.events import Event, EventLog
from pytest_vela.wire.messages import EventReport, Message, Result, SessionState, decode
from pytest_vela.wire.profile import AGENT_CONSOLE_PREFIX

SEEN_LIMIT = 4096  # events remembered to drop their second copy (bridge vs console mirror)


class WatchEnd(Protocol):
    #: Who answers at the watch's end, for messages ("the agent").
    who: str
    #: The request that asks the watch's clock.
    clock_op: str

    @property
    def app_link_up(self) -> bool:
        """The watch app's link to the phone app is open."""
        ...

    def handle(self, message: Message) -> None:
        """A message of the watch's for this end (events, session changes)."""
        ...

    def link_lost(self) -> None:
        """The bridge connection went down (the condition is held)."""
        ...

    def app_restarted(self) -> None:
        """The watch app was (re)started: its link is down until it opens again."""
        ...

    def new_test(self) -> EventLog | None:
        """A test begins: its event log, where this end reports events."""
        ...

    def wait_link(self, up: bool, timeout: float) -> None:
        """After a link order: wait until the link is ``up`` (or down), where only that tells
        the order took effect; at once where the test waits on events instead."""
        ...

    def follow_console(self, console: Console) -> None:
        """Also take what this end mirrors on the watch's console."""
        ...


class AgentEnd:
    """The agent: commands, and every event of its connection into the test's event log."""

    who = "the agent"
    clock_op = "clock"

    def __init__(self, bridge: BridgeClient) -> None:
        self._bridge = bridge
        self.events = EventLog()
        self._up = False
        self._seen: set[tuple[int, float, str]] = set()
        self._seen_order: deque[tuple[int, float, str]] = deque()

    @property
    def app_link_up(self) -> bool:
        return self._up

    def command(self, op: str, wait: float, **args: Any) -> Result:
        """Run one agent command and return its result (``wait``: seconds, writing included)."""
        return self._bridge.request(op, wait, args, self.who)

    def handle(self, message: Message) -> None:
        if isinstance(message, EventReport):
            self._event(message)

    def link_lost(self) -> None:
        self._up = False

    def app_restarted(self) -> None:
        with self._bridge.cond:
            self._up = False

    def new_test(self) -> EventLog:
        with self._bridge.cond:
            self.events = EventLog()
            return self.events

    def wait_link(self, up: bool, timeout: float) -> None:
        return None  # the test waits on the event log

    def follow_console(self, console: Console) -> None:
        """Events and results from the agent's console mirror: they arrive even while the app
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
                self._bridge.resolve(message)

    def _event(self, report: EventReport) -> None:
        """Decoded, deduplicated by (seq, ts, kind), mapped to the host clock, logged."""
        now = time.time()
        event = Event(
            kind=report.kind,
            ts=self._bridge.host_time(report.ts, now),
            data=report.data,  # as the app received it: a check on its type must see it
            code=report.code,
            is_reconnected=report.is_reconnected,
            seq=report.seq,
            watch_ts=report.ts,
            received=now,
        )
        with self._bridge.cond:
            if report.identity in self._seen:
                return  # the same event by its other route (bridge or console mirror)
            self._seen.add(report.identity)
            self._seen_order.append(report.identity)
            if len(self._seen_order) > SEEN_LIMIT:
                self._seen.discard(self._seen_order.popleft())
            if event.kind == "open":
                self._up = True
            elif event.kind == "close":
                self._up = False
            self.events.append(event)
            self._bridge.cond.notify_all()


class AppEnd:
    """The user's own app: its link's state as the watch's bridge reports it."""

    who = "the app under test"
    clock_op = "watch_clock"

    def __init__(self, bridge: BridgeClient) -> None:
        self._bridge = bridge
        self._up = False

    @property
    def app_link_up(self) -> bool:
        return self._up

    def command(self, op: str, wait: float, **args: Any) -> Result:
        raise AgentError(
            f"cannot run {op}: this rig tests its own app, not the agent (no agent runs)"
        )

    def handle(self, message: Message) -> None:
        if isinstance(message, SessionState):
            with self._bridge.cond:
                self._up = message.up
                self._bridge.cond.notify_all()

    def link_lost(self) -> None:
        self._up = False

    def app_restarted(self) -> None:
        return None  # the bridge says when its link is back

    def new_test(self) -> None:
        return None

    def wait_link(self, up: bool, timeout: float) -> None:
        self._bridge.wait_for(
            lambda: self._up == up, timeout, f"the link to {'open' if up else 'go down'}"
        )

    def follow_console(self, console: Console) -> None:
        return None  # the app's console lines are its own: the watch reads them
