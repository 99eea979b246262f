"""The harness's whole phone side of one rig: the bridge connection (``bridge``), the phone
app it plays (``phone``) and the watch's end of the link (``end``: the agent or the app under
test). The rig session builds one and asks it for a test's starting state; ``Peer`` and
``Interconnect`` are thin views of it for tests.
"""

from __future__ import annotations

from pytest_vela.console.port import Console
from pytest_vela.peer.bridge import BridgeClient
from pytest_vela.peer.events import EventLog
from pytest_vela.peer.phone_app import PhoneApp
from pytest_vela.peer.watch_end import AgentEnd, AppEnd
from pytest_vela.wire.messages import AppData, Message, Ping


class PhoneSide:
    def __init__(self, bridge: BridgeClient, end: AgentEnd | AppEnd) -> None:
        self.bridge = bridge
        self.phone = PhoneApp(bridge)
        self.end = end
        bridge.on_message = self._dispatch
        bridge.on_disconnect = end.link_lost

    @property
    def connected(self) -> bool:
        """The BLE bridge connection is up."""
        return self.bridge.connected

    @property
    def app_link_up(self) -> bool:
        return self.end.app_link_up

    def connect(self, timeout: float) -> None:
        """Connect the bridge, wait for the watch's hello and map its clock."""
        self.bridge.connect(timeout)
        self.sync_clock()

    def sync_clock(self) -> None:
        """One round trip: maps watch time to host time, and flushes what was in flight (say,
        the close of a link the last test dropped on its way out)."""
        self.bridge.sync_clock(self.end.clock_op, self.end.who)

    def follow_console(self, console: Console) -> None:
        self.end.follow_console(console)

    def restore(self, timeout: float) -> None:
        """The phone app's starting state for a test: installed, responsive, session open —
        touching only what is off."""
        phone = self.phone
        if not phone.installed:
            phone.set_installed(True)
        phone.responsive = True
        if not self.end.app_link_up:
            phone.order_link("open")
            self.bridge.wait_for(lambda: self.end.app_link_up, timeout, "the app link to open")

    def wait_app_link(self, timeout: float) -> bool:
        """After the watch rebooted: give the app link the time to come back by itself, when
        the phone app wants it (installed, session open); returns whether it is up."""
        if not (self.phone.installed and self.phone.session_wanted):
            return self.end.app_link_up
        with self.bridge.cond:
            return self.bridge.cond.wait_for(lambda: self.end.app_link_up, timeout)

    def app_restarted(self) -> None:
        self.end.app_restarted()

    def new_test(self) -> EventLog | None:
        self.phone.new_test()
        return self.end.new_test()

    def close(self) -> None:
        self.bridge.close()

    def _dispatch(self, message: Message) -> None:
        if isinstance(message, AppData):
            self.phone.received(message)
        elif isinstance(message, Ping):
            self.phone.pinged(message)
        else:
            self.end.handle(message)
