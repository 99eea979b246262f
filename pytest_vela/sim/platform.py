"""The simulated watch's ``@system.interconnect`` platform, running the agent's side of the
bridge protocol (docs/protocol.md).

It follows the link model of docs/interconnect.md, every rule read from the rig's
``[sim.interconnect]`` table:
the first open of an app run is not a reconnection, later ones are; an abrupt loss fires
error then close; a clean close from the phone fires close(1000); ``send`` fails 1006 while
down and 204 without an acknowledgement in time; ``diagnosis`` waits for a connection attempt
in progress, then answers 0 / 1001 / 204 / 1000.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

from pytest_vela.common.compact_json import dumps
from pytest_vela.common.tasks import BackgroundTasks
from pytest_vela.errors import ProtocolError
from pytest_vela.rigfile.schema import InterconnectRules
from pytest_vela.wire.messages import (
    Ack,
    AppData,
    BridgeCode,
    Command,
    EventKind,
    EventReport,
    Hello,
    LinkOrder,
    Message,
    PeerState,
    Ping,
    Pong,
    Result,
    decode,
    encode,
)
from pytest_vela.wire.profile import AGENT_CONSOLE_PREFIX

Emit = Callable[[Message], Awaitable[None]]
AGENT_VERSION = "sim-1"
QUEUE_LIMIT = 1000


class InterconnectPlatform:
    def __init__(
        self, rules: InterconnectRules, package: str, console: Callable[[str], None]
    ) -> None:
        self.rules = rules
        self.package = package
        self.message_limit = rules.message_limit
        self._console = console
        self._emit_to_bridge: Emit | None = None
        self._queue: list[Message] = []
        self._epoch = time.monotonic()
        self.app_running = False
        self.bridge_ready = False
        self.session_open = True
        self.phone_installed = True
        self.link_up = False
        self.opened_once = False
        self.last_open = 0.0
        self.seq = 0
        self._connecting: asyncio.Task[None] | None = None
        self._connect_done = asyncio.Event()
        self._connect_done.set()
        self._next_out = 0
        self._acks: dict[int, asyncio.Future[None]] = {}
        self._pongs: dict[int, asyncio.Future[None]] = {}
        self._background = BackgroundTasks()

    # --- wiring -----------------------------------------------------------------------------

    def attach(self, emit: Emit) -> None:
        """Where messages for the harness go once the bridge is up."""
        self._emit_to_bridge = emit

    def now_ms(self) -> float:
        return round((time.monotonic() - self._epoch) * 1000, 3)

    async def _emit(self, message: Message) -> None:
        if self.bridge_ready and self._emit_to_bridge is not None:
            try:
                await self._emit_to_bridge(message)
                return
            except Exception:  # the link went down mid-send: keep it for the next connection
                pass
        if isinstance(message, EventReport | Result) and len(self._queue) < QUEUE_LIMIT:
            self._queue.append(message)

    def _report(self, message: EventReport | Result) -> None:
        """Results and events: mirrored on the console, sent (or queued) to the harness."""
        self._console(AGENT_CONSOLE_PREFIX + encode(message).decode())
        self._background.spawn(self._emit(message))

    # --- life cycle of the app and the bridge -------------------------------------------------

    def app_started(self) -> None:
        self.app_running = True
        self.seq = 0
        self.opened_once = False
        self._try_connect()

    def app_stopped(self) -> None:
        self.app_running = False
        self._cancel_connect()
        self._link_down_quietly()

    def watch_booted(self) -> None:
        if not self.rules.reconnect_after_boot:
            self.session_open = False

    def bridge_up(self) -> None:
        self.bridge_ready = True
        self._background.spawn(self._greet())
        self._try_connect()

    async def _greet(self) -> None:
        await self._emit(Hello(AGENT_VERSION, self.package, self.now_ms(), self.app_running))
        queued, self._queue = self._queue, []
        for message in queued:
            await self._emit(message)

    def bridge_down(self) -> None:
        self.bridge_ready = False
        self._cancel_connect()
        if self.link_up:
            self._lose_link(self.rules.loss_code, "bridge link lost")

    # --- the link ------------------------------------------------------------------------------

    def _try_connect(self) -> None:
        if (
            self.app_running
            and self.bridge_ready
            and self.session_open
            and not self.link_up
            and self._connecting is None
        ):
            self._connect_done.clear()
            self._connecting = asyncio.ensure_future(self._connect())

    async def _connect(self) -> None:
        try:
            await asyncio.sleep(self.rules.connect_ms / 1000)
            if (
                self.app_running
                and self.bridge_ready
                and self.session_open
                and self.phone_installed
            ):
                self.link_up = True
                self.last_open = time.monotonic()
                reconnected = (
                    self.rules.later_open_reconnected
                    if self.opened_once
                    else self.rules.first_open_reconnected
                )
                self.opened_once = True
                self._event("open", is_reconnected=reconnected)
        finally:
            self._connecting = None
            self._connect_done.set()

    def _cancel_connect(self) -> None:
        if self._connecting is not None:
            self._connecting.cancel()
            self._connecting = None
            self._connect_done.set()

    def _fail_pending(self) -> None:
        for future in list(self._acks.values()) + list(self._pongs.values()):
            if not future.done():
                future.set_exception(ConnectionError("link down"))

    def _link_down_quietly(self) -> None:
        self.link_up = False
        self._fail_pending()

    def _lose_link(self, code: int, reason: str) -> None:
        self._link_down_quietly()
        for kind in self.rules.loss_events:
            self._event(kind, code=code, data=reason)

    def _event(self, kind: EventKind, **fields: Any) -> None:
        self.seq += 1
        self._report(EventReport(self.seq, kind, self.now_ms(), **fields))

    # --- messages from the harness ---------------------------------------------------------------

    def on_message(self, raw: bytes) -> None:
        try:
            message = decode(raw)
        except ProtocolError as exc:
            self._console(f"{AGENT_CONSOLE_PREFIX}{dumps({'bad': len(raw), 'why': str(exc)})}")
            return
        if isinstance(message, Command):
            self._background.spawn(self._command(message))
        elif isinstance(message, AppData):
            self._from_phone(message.data)
        elif isinstance(message, Ack):
            self._resolve(self._acks, message.id)
        elif isinstance(message, Pong):
            self._resolve(self._pongs, message.id)
        elif isinstance(message, LinkOrder):
            self._link_order(message.op)
        elif isinstance(message, PeerState):
            self.phone_installed = message.installed
            self._try_connect()

    @staticmethod
    def _resolve(waiting: dict[int, asyncio.Future[None]], key: int) -> None:
        future = waiting.get(key)
        if future is not None and not future.done():
            future.set_result(None)

    def _from_phone(self, data: str) -> None:
        if not (self.app_running and self.link_up):
            return
        if self.rules.message_as_string:
            self._event("message", data=data)
        else:
            with contextlib.suppress(ValueError):
                self._event("message", data=json.loads(data))

    def _link_order(self, op: str) -> None:
        if op == "open":
            self.session_open = True
            self._try_connect()
        elif op == "close":
            self.session_open = False
            self._cancel_connect()
            if self.link_up:
                self._link_down_quietly()
                self._event("close", code=self.rules.clean_close_code, data="closed by peer")
        elif op == "drop":
            self.session_open = False
            self._cancel_connect()
            if self.link_up:
                self._lose_link(self.rules.loss_code, "connection lost")

    # --- the API calls the agent makes -----------------------------------------------------------

    async def _command(self, command: Command) -> None:
        cid, op, args = command.id, command.op, command.args
        if op == "clock":
            reply = Result(cid, True, clock=self.now_ms())
        elif not self.app_running:
            reply = Result(
                cid, False, code=BridgeCode.APP_NOT_RUNNING, data=f"{self.package} is not running"
            )
        elif op == "getReadyState":
            up = self.link_up or not self.rules.ready_state_tracks_link
            reply = Result(cid, True, status=1 if up else 2)
        elif op == "diagnosis":
            reply = Result(cid, True, status=await self._diagnosis(args.get("timeout", 10000)))
        elif op == "send":
            reply = await self._send(cid, args.get("data"))
        elif op == "reset":
            self.seq = 0
            reply = Result(cid, True)
        else:
            reply = Result(cid, False, code=BridgeCode.UNKNOWN_OP, data=f"unknown op {op!r}")
        self._report(reply)

    async def _diagnosis(self, timeout_ms: Any) -> int:
        rules = self.rules
        deadline = time.monotonic() + float(timeout_ms) / 1000
        if self._connecting is not None and rules.diagnosis_waits_for_connect:
            try:
                await asyncio.wait_for(self._connect_done.wait(), deadline - time.monotonic())
            except TimeoutError:
                return rules.diagnosis_timeout_status
        if not self.phone_installed:
            return rules.uninstalled_status
        if not self.link_up:
            return rules.diagnosis_down_status
        try:
            await self._round_trip(self._pongs, Ping, deadline - time.monotonic())
        except (TimeoutError, ConnectionError):
            return rules.diagnosis_timeout_status
        return rules.diagnosis_ok_status

    async def _send(self, cid: int, data: Any) -> Result:
        rules = self.rules
        if not self.link_up:
            return Result(cid, False, code=rules.send_down_code, data="disconnected")
        text = dumps(data)
        size = len(text.encode())
        if size > self.message_limit:
            return Result(
                cid,
                False,
                code=rules.oversize_code,
                data=f"message of {size} bytes exceeds the limit of {self.message_limit}",
            )
        lost = (time.monotonic() - self.last_open) * 1000 < rules.lost_sends_after_open_ms
        try:
            await self._round_trip(
                self._acks,
                lambda key: AppData(text, key),
                rules.ack_timeout_ms / 1000,
                lost=lost,
            )
        except TimeoutError:
            return Result(cid, False, code=rules.timeout_code, data="no acknowledgement")
        except ConnectionError:
            return Result(cid, False, code=rules.send_down_code, data="disconnected")
        return Result(cid, True)

    async def _round_trip(
        self,
        waiting: dict[int, asyncio.Future[None]],
        message: Callable[[int], Message],
        timeout: float,
        lost: bool = False,
    ) -> None:
        self._next_out += 1
        key = self._next_out
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        waiting[key] = future
        try:
            if not lost:
                await self._emit(message(key))
            await asyncio.wait_for(future, max(timeout, 0.001))
        finally:
            waiting.pop(key, None)
