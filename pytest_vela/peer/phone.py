"""``peer``: the phone app at the other end of the watch app's link, played by the harness over
the bridge. Thin: the protocol lives in ``agent_client``."""

from __future__ import annotations

import json
from typing import Any

from pytest_vela.errors import AgentError, BleError
from pytest_vela.peer.agent_client import AgentClient


class Peer:
    """The phone app at the other end of the link."""

    def __init__(self, bridge: AgentClient, connect_timeout: float) -> None:
        self._bridge = bridge
        self._connect_timeout = connect_timeout
        self._read = 0

    @property
    def messages(self) -> list[Any]:
        """Every object the watch app sent since the test began."""
        return list(self._bridge.inbox)

    def send(self, obj: Any) -> None:
        """Phone → watch: arrives as ``onmessage`` with ``data`` the JSON string."""
        self._bridge.post({"t": "app", "data": json.dumps(obj, ensure_ascii=False)})

    def expect_message(self, timeout: float = 10.0) -> Any:
        """The next object the watch app sent (in order; each returned once)."""
        __tracebackhide__ = True
        index = self._read
        try:
            self._bridge.wait_for(
                lambda: len(self._bridge.inbox) > index, timeout, "message from the watch app"
            )
        except AgentError:
            raise AssertionError(
                f"the watch app sent no message within {timeout:g} s "
                f"({index} received earlier in this test)"
            ) from None
        self._read += 1
        return self._bridge.inbox[index]

    @property
    def is_connected(self) -> bool:
        return self._bridge.connected and self._bridge.app_link_up

    def drop(self) -> None:
        """Abrupt link loss: the watch app sees error(1006) then close(1006)."""
        self._bridge.post({"t": "link", "op": "drop"})

    def disconnect(self) -> None:
        """Clean close from the phone: the watch app sees close(1000)."""
        self._bridge.post({"t": "link", "op": "close"})

    def reconnect(self) -> None:
        """Open the link again (reconnecting the BLE bridge first if it was lost)."""
        bridge = self._bridge
        if bridge.connected:
            try:
                bridge.post({"t": "link", "op": "open"})
                return
            except BleError:
                if bridge.connected:
                    raise  # the link is up and still refused the write: not a lost link
        bridge.connect(self._connect_timeout)
        bridge.post({"t": "link", "op": "open"})

    def set_app_installed(self, installed: bool) -> None:
        self._bridge.installed = installed
        self._bridge.post({"t": "peer", "installed": installed})

    def set_responsive(self, responsive: bool) -> None:
        """An unresponsive phone app stops acknowledging: the watch's sends time out (204)."""
        self._bridge.responsive = responsive
