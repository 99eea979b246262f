"""The watch's bridge relay: between the bridge protocol spoken with the harness over BLE
(docs/protocol.md §3) and the ``__vela`` envelope the agent speaks over its interconnect link
(§7), as a relay on a watch does it.

- Harness ``cmd`` → an enveloped message to the running app's ``onmessage``
  (``{"__vela": {"t": "cmd", …}}``, a string). It rides the bridge connection, so it reaches the
  app whatever the state of the phone app's session; with no app running it is answered 4100
  here (``clock`` excepted: the watch's clock is answered here then). ``watch_clock`` is always
  answered here, never handed to an app: a round trip for rigs that run no agent.
- The app's ``connect.send`` of an enveloped ``res`` / ``evt`` / ``hello`` → that bridge message
  to the harness, acknowledged at once (``fail`` 1006 while the bridge is down, so the agent
  keeps it for the next ``onopen``).
- ``app`` messages both ways unchanged, ``ack`` / ``pong`` / ``link`` / ``peer`` from the phone's
  side: handed to the platform, whose link rules decide what happens.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from pytest_vela.common.compact_json import dumps
from pytest_vela.common.tasks import BackgroundTasks
from pytest_vela.errors import ProtocolError
from pytest_vela.sim.platform import InterconnectPlatform, Outcome, WatchClock
from pytest_vela.wire.messages import (
    Ack,
    AppData,
    BridgeCode,
    Command,
    EventReport,
    Hello,
    LinkOrder,
    Message,
    PeerState,
    Pong,
    Result,
    decode,
    encode,
)

log = logging.getLogger(__name__)

ENVELOPE = "__vela"
RELAY_VERSION = "sim-relay-1"
#: A command the relay answers itself, never handing it to the app: the watch's clock, and a
#: round trip through the bridge for rigs that run no agent.
WATCH_CLOCK = "watch_clock"
SendBytes = Callable[[bytes], Awaitable[None]]


class BridgeRelay:
    def __init__(
        self,
        platform: InterconnectPlatform,
        clock: WatchClock,
        running: Callable[[], str | None],
        default_package: str,
    ) -> None:
        self.platform = platform
        self.clock = clock
        self._running = running
        self._default_package = default_package
        self._send: SendBytes | None = None
        self._background = BackgroundTasks()
        platform.attach(self.to_phone)

    def attach(self, send: SendBytes) -> None:
        """Where bridge messages go (the BLE bridge peripheral)."""
        self._send = send

    async def to_phone(self, message: Message) -> None:
        """A message for the harness; raises when the bridge cannot carry it now."""
        if self._send is None:
            raise ConnectionError("no bridge")
        await self._send(encode(message))

    def _post(self, message: Message) -> None:
        self._background.spawn(self._post_now(message))

    async def _post_now(self, message: Message) -> None:
        if not self.platform.bridge_ready:
            return
        try:
            await self.to_phone(message)
        except Exception as exc:  # the bridge went down meanwhile: the harness asks again
            log.info("bridge message %s lost: %s", message.t, exc)

    # --- the bridge connection ---------------------------------------------------------------

    def bridge_up(self) -> None:
        self.platform.bridge_ready = True
        running = self._running()
        self._post(
            Hello(
                RELAY_VERSION,
                running or self._default_package,
                self.clock.now_ms(),
                running is not None,
            )
        )
        self.platform.bridge_up()

    def bridge_down(self) -> None:
        self.platform.bridge_down()

    def on_message(self, raw: bytes) -> None:
        try:
            message = decode(raw)
        except ProtocolError as exc:
            log.warning("unreadable bridge message of %d bytes: %s", len(raw), exc)
            return
        platform = self.platform
        if isinstance(message, Command):
            self._command(message)
        elif isinstance(message, AppData):
            platform.from_phone(message.data)
        elif isinstance(message, Ack):
            platform.acknowledged(message.id)
        elif isinstance(message, Pong):
            platform.ponged(message.id)
        elif isinstance(message, LinkOrder):
            platform.link_order(message.op)
        elif isinstance(message, PeerState):
            platform.set_phone_installed(message.installed)

    def _command(self, command: Command) -> None:
        if command.op == WATCH_CLOCK or (command.op == "clock" and not self.platform.app_running):
            self._post(Result(command.id, True, clock=self.clock.now_ms()))
            return
        envelope = dumps({ENVELOPE: {"t": "cmd", **command.fields()}})
        if not self.platform.from_relay(envelope):
            self._post(
                Result(
                    command.id,
                    False,
                    code=BridgeCode.APP_NOT_RUNNING,
                    data="no app is running on the watch",
                )
            )

    # --- the app's side ------------------------------------------------------------------------

    async def from_app(self, text: str) -> Outcome | None:
        """The app's ``connect.send`` of ``text``: an envelope is the relay's (its outcome
        returned), anything else is the phone app's (None: the platform's rules apply)."""
        inner = _envelope(text)
        if inner is None:
            return None
        try:
            message = decode(dumps(inner))
        except ProtocolError as exc:
            return Outcome(False, code=202, data=f"not a bridge message in {ENVELOPE}: {exc}")
        if not isinstance(message, Result | EventReport | Hello):
            return Outcome(False, code=202, data=f"{message.t!r} does not go to the harness")
        if not self.platform.bridge_ready:
            return Outcome(False, code=1006, data="the bridge is down")
        try:
            await self.to_phone(message)
        except Exception as exc:
            return Outcome(False, code=1006, data=f"the bridge is down: {exc}")
        return Outcome(True)


def _envelope(text: str) -> Any:
    if ENVELOPE not in text:
        return None
    try:
        obj = json.loads(text)
    except ValueError:
        return None
    if not isinstance(obj, dict) or ENVELOPE not in obj:
        return None
    return obj[ENVELOPE]
