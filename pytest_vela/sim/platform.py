"""The simulated watch's ``@system.interconnect`` platform: the link model, the one place its
rules live.

Apps run on top of it (their ``connect`` object is a thin proxy in the quick-app host that
calls ``ready_state`` / ``diagnosis`` / ``send`` here and gets its events from here); the phone
side reaches it through the bridge relay. Every rule is read from the rig's
``[sim.interconnect]`` table: the first open of an app run is not a reconnection, later ones
are; an abrupt loss fires error then close; a clean close from the phone fires close(1000);
``send`` fails 1006 while down, 204 without an acknowledgement in time and refuses a message
over the size limit; ``diagnosis`` waits for a connection attempt in progress, then answers
0 / 1001 / 204 / 1000.

One app at a time holds the link (the watch runs one quick app in the foreground).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from pytest_vela.common.tasks import BackgroundTasks
from pytest_vela.rigfile.schema import InterconnectRules
from pytest_vela.wire.messages import AppData, Message, Ping, SessionState

ToPhone = Callable[[Message], Awaitable[None]]
#: The running app's end: ``(kind, fields)`` for its connection's ``on<kind>`` handler.
AppEvents = Callable[[str, dict[str, Any]], None]


class WatchClock:
    """The watch's monotonic clock in ms, shared with the apps' ``performance.now()``."""

    def __init__(self) -> None:
        self.epoch_ns = time.monotonic_ns()

    def now_ms(self) -> float:
        return round((time.monotonic_ns() - self.epoch_ns) / 1e6, 3)


@dataclass(frozen=True)
class Outcome:
    """What an API call's callbacks get: ``success(value)`` or ``fail(data, code)``."""

    ok: bool
    value: dict[str, Any] | None = None
    code: int | None = None
    data: Any = None


class InterconnectPlatform:
    def __init__(self, rules: InterconnectRules, to_phone: ToPhone | None = None) -> None:
        self.rules = rules
        self.message_limit = rules.message_limit
        self._to_phone = to_phone
        self._app: AppEvents | None = None
        self.bridge_ready = False
        self.session_open = True
        self.phone_installed = True
        self.link_up = False
        self.opened_once = False
        self.last_open = 0.0
        self._connecting: asyncio.Task[None] | None = None
        self._connect_done = asyncio.Event()
        self._connect_done.set()
        self._next_out = 0
        self._acks: dict[int, asyncio.Future[None]] = {}
        self._pongs: dict[int, asyncio.Future[None]] = {}
        self._background = BackgroundTasks()

    @property
    def app_running(self) -> bool:
        return self._app is not None

    def attach(self, to_phone: ToPhone) -> None:
        """Where messages for the phone go (the bridge relay)."""
        self._to_phone = to_phone

    async def _emit(self, message: Message) -> None:
        if self.bridge_ready and self._to_phone is not None:
            with contextlib.suppress(Exception):  # the link went down mid-send: it is lost
                await self._to_phone(message)

    # --- life cycle of the app and the bridge -------------------------------------------------

    def app_started(self, events: AppEvents) -> None:
        """A new app run holds the link: its first open is not a reconnection."""
        self._cancel_connect()
        self._link_down_quietly()
        self._app = events
        self.opened_once = False
        self._try_connect()

    def app_stopped(self) -> None:
        self._app = None
        self._cancel_connect()
        self._link_down_quietly()

    def watch_booted(self) -> None:
        if not self.rules.reconnect_after_boot:
            self.session_open = False

    def bridge_up(self) -> None:
        self.bridge_ready = True
        self._try_connect()

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
                self._session(True)
                self._event("open", isReconnected=reconnected)
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
        if self.link_up:
            self._session(False)
        self.link_up = False
        self._fail_pending()

    def _lose_link(self, code: int, reason: str) -> None:
        self._link_down_quietly()
        for kind in self.rules.loss_events:
            self._event(kind, code=code, data=reason)

    def _event(self, kind: str, **fields: Any) -> None:
        if self._app is not None:
            self._app(kind, fields)

    def _session(self, up: bool) -> None:
        """The phone app sees its side of the link change."""
        self._background.spawn(self._emit(SessionState(up)))

    # --- the phone side (through the bridge relay) -----------------------------------------------

    def from_phone(self, data: str) -> None:
        """A message from the phone app: reaches ``onmessage`` while the link is up."""
        if not (self.app_running and self.link_up):
            return
        if self.rules.message_as_string:
            self._event("message", data=data)
        else:
            with contextlib.suppress(ValueError):
                self._event("message", data=json.loads(data))

    def from_relay(self, data: str) -> bool:
        """A message of the watch's bridge relay for the app (the agent's envelope): it rides
        the bridge connection, not the phone app's session, so it reaches ``onmessage`` while
        an app runs and the bridge is up, whatever the session's state, always as a string.
        False when no app runs."""
        if not (self.app_running and self.bridge_ready):
            return False
        self._event("message", data=data)
        return True

    def acknowledged(self, key: int) -> None:
        self._resolve(self._acks, key)

    def ponged(self, key: int) -> None:
        self._resolve(self._pongs, key)

    def set_phone_installed(self, installed: bool) -> None:
        self.phone_installed = installed
        self._try_connect()

    @staticmethod
    def _resolve(waiting: dict[int, asyncio.Future[None]], key: int) -> None:
        future = waiting.get(key)
        if future is not None and not future.done():
            future.set_result(None)

    def link_order(self, op: str) -> None:
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

    # --- the API the app calls -------------------------------------------------------------------

    async def ready_state(self) -> Outcome:
        up = self.link_up or not self.rules.ready_state_tracks_link
        return Outcome(True, {"status": 1 if up else 2})

    async def diagnosis(self, timeout_ms: Any = 10000) -> Outcome:
        rules = self.rules
        try:
            timeout = float(timeout_ms) / 1000
        except (TypeError, ValueError):
            return Outcome(False, code=202, data=f"timeout must be a number of ms: {timeout_ms!r}")
        deadline = time.monotonic() + timeout
        status = rules.diagnosis_ok_status
        if self._connecting is not None and rules.diagnosis_waits_for_connect:
            try:
                await asyncio.wait_for(self._connect_done.wait(), deadline - time.monotonic())
            except TimeoutError:
                return Outcome(True, {"status": rules.diagnosis_timeout_status})
        if not self.phone_installed:
            status = rules.uninstalled_status
        elif not self.link_up:
            status = rules.diagnosis_down_status
        else:
            try:
                await self._round_trip(self._pongs, Ping, deadline - time.monotonic())
            except (TimeoutError, ConnectionError):
                status = rules.diagnosis_timeout_status
        return Outcome(True, {"status": status})

    async def send(self, text: str) -> Outcome:
        """``connect.send``: ``text`` is the data, serialised once by the app's runtime."""
        rules = self.rules
        if not self.link_up:
            return Outcome(False, code=rules.send_down_code, data="disconnected")
        size = len(text.encode())
        if size > self.message_limit:
            return Outcome(
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
            return Outcome(False, code=rules.timeout_code, data="no acknowledgement")
        except ConnectionError:
            return Outcome(False, code=rules.send_down_code, data="disconnected")
        return Outcome(True)

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
