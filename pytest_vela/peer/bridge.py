"""The harness's end of the bridge protocol (docs/protocol.md) over a ``LinkClient``: messages
encoded and decoded, requests matched to their results, the watch's hello and its clock.

It runs its message handling on the link's loop thread and never blocks it: a result wakes the
waiting test thread through ``cond`` (the condition every part of the phone side waits on and
notifies), every other message goes to ``on_message`` (the phone side's dispatch), and answers
made there are scheduled with ``send_soon``, not awaited.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from typing import Any

from pytest_vela.common.loop import LoopThread
from pytest_vela.errors import AgentError, BleError, ProtocolError
from pytest_vela.link.client import LinkClient
from pytest_vela.link.trace import LinkTrace
from pytest_vela.rigfile.schema import BleSettings
from pytest_vela.wire.messages import Command, Hello, Message, Result, decode, encode

REQUEST_WRITE_MIN = 0.001  # seconds: a request whose time is up is still written, at once


class BridgeClient:
    """One bridge connection to a watch: requests and their results, hello, clock."""

    def __init__(
        self,
        settings: BleSettings,
        loop: LoopThread,
        trace: LinkTrace,
        bus_address: str | None = None,
    ) -> None:
        self.trace = trace
        self.cond = threading.Condition()
        self.link = LinkClient(
            settings, trace, loop, self._on_message, self._on_disconnect, bus_address=bus_address
        )
        self.hello: Hello | None = None
        #: Host ``time.time()`` minus watch seconds, from the last clock round trip.
        self.clock_offset: float | None = None
        #: Every message that is neither a result nor a hello (set by the phone side).
        self.on_message: Callable[[Message], None] = lambda _message: None
        #: The bridge connection went down (set by the phone side).
        self.on_disconnect: Callable[[], None] = lambda: None
        self._results: dict[int, Result] = {}
        self._awaiting: set[int] = set()
        self._next_id = 0

    @property
    def connected(self) -> bool:
        return self.link.is_connected

    def connect(self, timeout: float) -> None:
        """Connect and wait for the watch's hello."""
        with self.cond:
            self.hello = None
        self.link.connect(timeout)
        self.wait_for(lambda: self.hello is not None, timeout, "the watch's hello after connecting")

    def close(self) -> None:
        with contextlib.suppress(BleError):
            self.link.disconnect()

    def post(self, message: Message, timeout: float = 10.0) -> None:
        self.link.send(encode(message), timeout)

    def send_soon(self, message: Message) -> None:
        """Send without waiting, from any thread (answers made on the loop thread)."""
        self.link.send_soon(
            encode(message),
            lambda exc: self.trace.event(f"automatic {message.t} not sent: {exc}"),
        )

    def request(self, op: str, wait: float, args: dict[str, Any], who: str) -> Result:
        """Send ``Command`` ``op`` and return its result (``wait``: seconds, writing included);
        a result with a bridge failure code (the request could not be run at all) is an
        ``AgentError`` naming ``who`` was asked."""
        deadline = time.monotonic() + wait
        with self.cond:
            self._next_id += 1
            cid = self._next_id
            self._awaiting.add(cid)
        try:
            self.post(Command(cid, op, args), max(wait, REQUEST_WRITE_MIN))
            self.wait_for(
                lambda: cid in self._results,
                max(0.0, deadline - time.monotonic()),
                f"{who}'s answer to {op!r}",
            )
            with self.cond:
                result = self._results.pop(cid)
        finally:
            with self.cond:  # an answer that comes after we gave up is not kept
                self._awaiting.discard(cid)
                self._results.pop(cid, None)
        failure = result.bridge_failure
        if failure is not None:
            raise AgentError(f"{who} cannot run {op}: {failure.name} ({result.data})")
        return result

    def resolve(self, result: Result) -> None:
        """A request's result, by the bridge or by the console mirror (the first one counts)."""
        with self.cond:
            if result.id in self._awaiting and result.id not in self._results:
                self._results[result.id] = result
            self.cond.notify_all()

    def sync_clock(self, op: str, who: str) -> None:
        """One round trip (``op`` asks the watch's clock): maps watch time to host time, and
        flushes what the watch sent before its answer."""
        sent = time.time()
        result = self.request(op, 5.0, {}, who)
        back = time.time()
        self.clock_offset = (sent + back) / 2 - float(result.clock or 0) / 1000

    def host_time(self, watch_ms: float, now: float) -> float:
        """A watch timestamp on the host clock (``now`` before the clock is mapped)."""
        offset = self.clock_offset
        return now if offset is None else offset + float(watch_ms) / 1000

    def wait_for(self, ready: Callable[[], bool], timeout: float, what: str) -> None:
        """Wait until ``ready()`` holds: ``AgentError`` when ``timeout`` runs out, ``BleError``
        when the bridge goes down meanwhile."""
        deadline = time.monotonic() + timeout
        with self.cond:
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
                self.cond.wait(remaining)

    # --- the loop thread ---------------------------------------------------------------------

    def _on_message(self, raw: bytes) -> None:
        try:
            message = decode(raw)
        except ProtocolError as exc:
            self.trace.event(f"unreadable message from the watch ({exc}): {raw[:80]!r}")
            return
        if isinstance(message, Result):
            self.resolve(message)
        elif isinstance(message, Hello):
            with self.cond:
                self.hello = message
                self.cond.notify_all()
        else:
            self.on_message(message)

    def _on_disconnect(self, _ts: float) -> None:
        with self.cond:
            self.on_disconnect()
            self.cond.notify_all()
