"""The phone app at the far end of the watch app's link, played by the harness: what it looks
like to the watch (installed, answering, its session wanted open) and what it received.

Its state changes only through its verbs. Its automatic answers (an acknowledgement of each
message, a pong to each ping) are made on the link's loop thread and scheduled, never awaited;
an uninstalled or unresponsive phone app makes none.
"""

from __future__ import annotations

import json
from typing import Any

from pytest_vela.peer.bridge import BridgeClient
from pytest_vela.wire.messages import Ack, AppData, LinkOp, LinkOrder, PeerState, Ping, Pong


def as_text(obj: Any) -> str:
    """What the watch app's ``onmessage`` gets as ``data`` for ``obj``: a string verbatim (a
    plain-text protocol), anything else as JSON (``json.dumps``'s default separators,
    non-ASCII kept), as a phone app's JSON encoder writes it."""
    return obj if isinstance(obj, str) else json.dumps(obj, ensure_ascii=False)


class PhoneApp:
    def __init__(self, bridge: BridgeClient) -> None:
        self._bridge = bridge
        self.installed = True
        self.responsive = True
        #: The phone app's last order was to open its session with the watch app.
        self.session_wanted = True
        #: What the watch app sent the phone this test, as the texts it sent.
        self.inbox: list[str] = []

    @property
    def answering(self) -> bool:
        return self.responsive and self.installed

    def send(self, obj: Any) -> None:
        """Phone → watch app: arrives as ``onmessage`` with ``data`` = ``as_text(obj)``."""
        self._bridge.post(AppData(as_text(obj)))

    def set_installed(self, installed: bool) -> None:
        self.installed = installed
        self._bridge.post(PeerState(installed))

    def set_responsive(self, responsive: bool) -> None:
        """An unresponsive phone app stops acknowledging and answering pings."""
        self.responsive = responsive

    def order_link(self, op: LinkOp) -> None:
        """Open, cleanly close or abruptly drop the phone app's session."""
        self.session_wanted = op == "open"
        self._bridge.post(LinkOrder(op))

    def new_test(self) -> None:
        with self._bridge.cond:
            self.inbox = []

    # --- the loop thread ---------------------------------------------------------------------

    def received(self, message: AppData) -> None:
        """A message of the watch app's: kept, and acknowledged when the phone app answers."""
        if self.answering and message.id is not None:
            self._bridge.send_soon(Ack(message.id))
        with self._bridge.cond:
            self.inbox.append(message.data)
            self._bridge.cond.notify_all()

    def pinged(self, ping: Ping) -> None:
        if self.answering:
            self._bridge.send_soon(Pong(ping.id))
