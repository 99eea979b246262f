"""The simulated watch's ``@system.interconnect`` platform: the link model, the one place its
rules live.

Apps run on top of it (their ``connect`` object is a thin proxy in the quick-app host that
calls ``ready_state`` / ``diagnosis`` / ``send`` here and gets its events from here); the phone
side reaches it through the bridge relay. Every rule is read from the rig's
``[sim.interconnect]`` table, whose profile (documented or openvela) sets their defaults: what
an open says in ``isReconnected``, what a loss fires after an open and while still connecting,
what the phone app's uninstall fires, whether a late handler gets its event replayed. The
calls' rules are in ``app_calls``.

One app at a time holds the link (the watch runs one quick app in the foreground).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pytest_vela.common.tasks import BackgroundTasks
from pytest_vela.rigfile.link_rules import InterconnectRules
from pytest_vela.sim.app_calls import GO, GONE, AppCalls, Outcome
from pytest_vela.wire.messages import Message, SessionState

__all__ = ["AppEvents", "InterconnectPlatform", "LinkEvent", "Outcome", "WatchClock"]

ToPhone = Callable[[Message], Awaitable[None]]


@dataclass(frozen=True)
class LinkEvent:
    """One event for the running app's connection: its ``on<kind>`` handler gets ``fields``.
    ``replay``: what a handler assigned later gets when none is set now (None: nothing);
    ``forget``: kinds whose kept replay is dropped first. Kind ``status`` calls no handler:
    it carries only a ``forget``."""

    kind: str
    fields: dict[str, Any] = field(default_factory=dict)
    replay: dict[str, Any] | None = None
    forget: tuple[str, ...] = ()


AppEvents = Callable[[LinkEvent], None]


class WatchClock:
    """The watch's monotonic clock in ms, shared with the apps' ``performance.now()``."""

    def __init__(self) -> None:
        self.epoch_ns = time.monotonic_ns()

    def now_ms(self) -> float:
        return round((time.monotonic_ns() - self.epoch_ns) / 1e6, 3)


class InterconnectPlatform(AppCalls):
    def __init__(self, rules: InterconnectRules, to_phone: ToPhone | None = None) -> None:
        self.rules = rules
        self._to_phone = to_phone
        self._app: AppEvents | None = None
        self.bridge_ready = False
        self.session_open = True
        self.phone_installed = True
        self.link_up = False
        self.last_open = 0.0
        # The app run's phone state is known: it opened (or, where the link counts as
        # connecting only until the first status, a loss or an uninstall was reported).
        self._reported = False
        self._first_status = asyncio.Event()
        self._connecting: asyncio.Task[None] | None = None
        self._connect_done = asyncio.Event()
        self._connect_done.set()
        self._background = BackgroundTasks()
        self._init_calls()

    @property
    def app_running(self) -> bool:
        return self._app is not None

    @property
    def connecting(self) -> bool:
        """The app's link is still connecting: during an attempt, or (openvela) from the app's
        start until the phone's state is first known, whatever happens meanwhile."""
        if not self.app_running:
            return False
        if self.rules.connecting_ends_at_first_status:
            return not self._reported
        return self._connecting is not None

    def _connecting_over(self) -> asyncio.Event:
        if self.rules.connecting_ends_at_first_status:
            return self._first_status
        return self._connect_done

    def attach(self, to_phone: ToPhone) -> None:
        """Where messages for the phone go (the bridge relay)."""
        self._to_phone = to_phone

    async def _emit(self, message: Message) -> bool:
        """True when the bridge took ``message``; lost (False) when it is down."""
        if not (self.bridge_ready and self._to_phone is not None):
            return False
        try:
            await self._to_phone(message)
        except Exception:  # the link went down mid-send: it is lost
            return False
        return True

    # --- life cycle of the app and the bridge -------------------------------------------------

    def app_started(self, events: AppEvents) -> None:
        """A new app run holds the link: its first open is not a reconnection."""
        self._cancel_connect()
        self._link_down_quietly()
        self._app = events
        self._reported = False
        self._first_status.clear()
        self._try_connect()

    def app_stopped(self) -> None:
        self._app = None
        self._cancel_connect()
        self._link_down_quietly()
        self._release_queued(GONE)
        self._first_status.set()

    def watch_booted(self) -> None:
        if not self.rules.reconnect_after_boot:
            self.session_open = False

    def bridge_up(self) -> None:
        self.bridge_ready = True
        self._try_connect()

    def bridge_down(self) -> None:
        self.bridge_ready = False
        self._session_ended(clean=False, reason="bridge link lost")

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
            if not (self.app_running and self.bridge_ready and self.session_open):
                return
            if not self.phone_installed:
                self._phone_app_uninstalled()
                return
            self.link_up = True
            self.last_open = time.monotonic()
            rules = self.rules
            first = not self._reported
            self._report()
            self._session(True)
            self._release_queued(GO)  # queued sends go out before onopen, as on the watch
            reconnected = rules.first_open_reconnected if first else rules.later_open_reconnected
            self._event("open", isReconnected=reconnected)
        finally:
            self._connecting = None
            self._connect_done.set()

    def _cancel_connect(self) -> None:
        if self._connecting is not None:
            self._connecting.cancel()
            self._connecting = None
            self._connect_done.set()

    def _report(self) -> None:
        """The app run's phone state is known: it no longer counts as connecting."""
        self._reported = True
        self._first_status.set()

    def _report_status(self) -> None:
        """A status other than an open: it ends the connecting phase only where the link
        counts as connecting until the first status."""
        if self.rules.connecting_ends_at_first_status:
            self._report()

    def _link_down_quietly(self) -> None:
        if self.link_up:
            self._session(False)
        self.link_up = False
        self._fail_pending()

    def _session_ended(self, clean: bool, reason: str) -> None:
        """The phone's session ended (a clean close, a drop, the bridge gone): after an open
        the app sees the loss's events; while still connecting, the connecting loss's."""
        rules = self.rules
        was_connecting = self.connecting
        self._cancel_connect()
        if self.link_up:
            self._link_down_quietly()
            if clean:
                self._loss(["close"], rules.clean_close_code, "closed by peer")
            else:
                self._loss(rules.loss_events, rules.loss_code, reason)
        elif was_connecting:
            self._report_status()
            self._loss(rules.connecting_loss_events, rules.connecting_loss_code, reason)

    def _loss(self, kinds: Sequence[str], code: int, reason: str) -> None:
        """A loss's events; the first drops a kept open (a handler assigned now gets none)."""
        forget = ("open",) if self.rules.handler_replay else ()
        if not kinds and forget:
            self._send_event(LinkEvent("status", forget=forget))
        for n, kind in enumerate(kinds):
            self._event(kind, forget=forget if n == 0 else (), code=code, data=reason)

    def _phone_app_uninstalled(self) -> None:
        rules = self.rules
        if self.link_up and rules.uninstall_drops_link:
            self._link_down_quietly()
        self._report_status()
        for kind in rules.uninstall_events:
            self._event(kind, code=rules.uninstall_code, data="phone app uninstalled")

    def _event(self, kind: str, forget: tuple[str, ...] = (), **fields: Any) -> None:
        replay: dict[str, Any] | None = None
        if self.rules.handler_replay and kind == "open":
            replay = {"isReconnected": True}  # what a late onopen gets, whatever the open said
        elif self.rules.handler_replay and kind == "error":
            replay = fields
        self._send_event(LinkEvent(kind, fields, replay, forget))

    def _send_event(self, event: LinkEvent) -> None:
        if self._app is not None:
            self._app(event)

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

    def set_phone_installed(self, installed: bool) -> None:
        was = self.phone_installed
        self.phone_installed = installed
        if was and not installed and self.app_running:
            self._phone_app_uninstalled()
        self._try_connect()

    def link_order(self, op: str) -> None:
        if op == "open":
            self.session_open = True
            self._try_connect()
        elif op in ("close", "drop"):
            self.session_open = False
            self._session_ended(clean=op == "close", reason="connection lost")
