"""The harness's end of the bridge protocol (docs/protocol.md) over a ``LinkClient``.

Runs its message handling on the link's loop thread and never blocks it: results wake the
waiting test thread through a condition, events go into the current test's ``EventLog``,
and the phone app's automatic answers (``ack``, ``pong``) are scheduled, not awaited.
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

from pytest_vela.console.port import Console
from pytest_vela.errors import AgentError, BleError
from pytest_vela.link.client import LinkClient
from pytest_vela.link.loop import LoopThread
from pytest_vela.link.trace import LinkTrace
from pytest_vela.peer.events import Event, EventLog
from pytest_vela.rigfile.schema import BleSettings
from pytest_vela.wire.profile import AGENT_CONSOLE_PREFIX

SEEN_LIMIT = 4096


class AgentClient:
    def __init__(self, settings: BleSettings, loop: LoopThread, trace: LinkTrace) -> None:
        self.trace = trace
        self.loop = loop
        self.link = LinkClient(settings, trace, loop, self._on_message, self._on_disconnect)
        self.events = EventLog()
        self.inbox: list[Any] = []  # what the watch app sent the phone, this test
        self.responsive = True
        self.installed = True
        self.app_link_up = False
        self.clock_offset: float | None = None  # host time.time() minus watch seconds
        self.hello: dict[str, Any] | None = None
        self._cond = threading.Condition()
        self._results: dict[int, dict[str, Any]] = {}
        self._seen: set[tuple[int, Any, str]] = set()  # events already logged, by identity
        self._seen_order: deque[tuple[int, Any, str]] = deque()
        self._awaiting: set[int] = set()
        self._next_id = 0

    # --- link ------------------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        return self.link.is_connected

    def connect(self, timeout: float) -> None:
        with self._cond:
            self.hello = None
        self.link.connect(timeout)
        self.wait_for(lambda: self.hello is not None, timeout, "the watch's hello after connecting")
        self.sync_clock()

    def _on_disconnect(self, _ts: float) -> None:
        with self._cond:
            self.app_link_up = False
            self._cond.notify_all()

    # --- messages from the watch (loop thread) -----------------------------------------------

    def _on_message(self, raw: bytes) -> None:
        try:
            message = json.loads(raw)
            kind = message["t"]
        except (ValueError, KeyError, TypeError):
            self.trace.event(f"unreadable message from the watch: {raw[:80]!r}")
            return
        if kind == "app":
            if self.responsive and self.installed:
                self._send_soon({"t": "ack", "id": message.get("id")})
            with self._cond:
                self.inbox.append(_parse(message.get("data")))
                self._cond.notify_all()
        elif kind == "ping":
            if self.responsive and self.installed:
                self._send_soon({"t": "pong", "id": message.get("id")})
        elif kind == "res":
            with self._cond:
                cid = message.get("id")
                if cid in self._awaiting:
                    self._results[cid] = message
                self._cond.notify_all()
        elif kind == "evt":
            self._event(message)
        elif kind == "hello":
            with self._cond:
                self.hello = message
                self._cond.notify_all()

    def _event(self, message: dict[str, Any]) -> None:
        now = time.time()
        seq = int(message.get("seq", 0))
        watch_ts = message.get("ts")
        offset = self.clock_offset
        ts = now if offset is None or watch_ts is None else offset + float(watch_ts) / 1000
        event = Event(
            kind=str(message.get("kind")),
            ts=ts,
            data=message.get("data"),
            code=message.get("code"),
            is_reconnected=message.get("isReconnected"),
            seq=seq,
            watch_ts=watch_ts,
            received=now,
        )
        key = (seq, watch_ts, event.kind)
        with self._cond:
            if key in self._seen:
                return  # the same event by its other route (bridge or console mirror)
            self._seen.add(key)
            self._seen_order.append(key)
            if len(self._seen_order) > SEEN_LIMIT:
                self._seen.discard(self._seen_order.popleft())
            if event.kind == "open":
                self.app_link_up = True
            elif event.kind == "close":
                self.app_link_up = False
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
        try:
            message = json.loads(line[start + len(AGENT_CONSOLE_PREFIX) :])
        except ValueError:
            return  # a line cut by noise: the bridge still carries the event
        if isinstance(message, dict) and message.get("t") == "evt":
            self._event(message)

    def _send_soon(self, message: dict[str, Any]) -> None:
        self.link.send_soon(
            _encode(message),
            lambda exc: self.trace.event(f"automatic {message['t']} not sent: {exc}"),
        )

    # --- sending -------------------------------------------------------------------------------

    def post(self, message: dict[str, Any], timeout: float = 10.0) -> None:
        self.link.send(_encode(message), timeout)

    def command(self, op: str, wait: float, **args: Any) -> dict[str, Any]:
        """Run one agent command and return its result message (``wait``: seconds)."""
        with self._cond:
            self._next_id += 1
            cid = self._next_id
            self._awaiting.add(cid)
        try:
            self.post({"t": "cmd", "id": cid, "op": op, **args})
            self.wait_for(lambda: cid in self._results, wait, f"the agent's answer to {op!r}")
            with self._cond:
                return self._results.pop(cid)
        finally:
            with self._cond:  # an answer that comes after we gave up is not kept
                self._awaiting.discard(cid)
                self._results.pop(cid, None)

    def sync_clock(self) -> None:
        sent = time.time()
        result = self.command("clock", 5.0)
        back = time.time()
        self.clock_offset = (sent + back) / 2 - float(result["clock"]) / 1000

    def wait_for(self, ready: Callable[[], bool], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        with self._cond:
            while not ready():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AgentError(
                        f"no {what} within {timeout:g} s (link "
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

    def close(self) -> None:
        with contextlib.suppress(BleError):
            self.link.disconnect()


def _encode(message: dict[str, Any]) -> bytes:
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode()


def _parse(data: Any) -> Any:
    if isinstance(data, str):
        try:
            return json.loads(data)
        except ValueError:
            return data
    return data
