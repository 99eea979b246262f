"""``peer``: the phone app at the other end of the watch app's link, played by the harness over
the bridge. Thin: the protocol lives in ``agent_client``; each action is a report step."""

from __future__ import annotations

from typing import Any

from pytest_vela.errors import AgentError, BleError
from pytest_vela.peer.agent_client import AgentClient
from pytest_vela.peer.steps import CallStep, no_step, shown


class Peer:
    """The phone app at the other end of the link.

    On a rig that tests the user's own app (``--vela-app``) there is no event log to wait on,
    so ``drop``, ``disconnect`` and ``reconnect`` return once the link is down, or open again.
    """

    def __init__(
        self,
        agent: AgentClient,
        connect_timeout: float,
        step: CallStep | None = None,
        link_profile: str | None = None,
    ) -> None:
        self._agent = agent
        self._connect_timeout = connect_timeout
        self._step: CallStep = step or no_step
        self._read = 0
        self._link_profile = link_profile  # the link model the watch should follow, if known

    @property
    def messages(self) -> list[Any]:
        """Every object the watch app sent since the test began."""
        return list(self._agent.inbox)

    def send(self, obj: Any) -> None:
        """Phone → watch: arrives as ``onmessage`` with ``data`` the JSON string."""
        with self._step(f"peer.send({shown(obj)})", {"obj": obj}) as outcome:
            self._agent.send_to_watch_app(obj)
            outcome("written to the link")

    def expect_message(self, timeout: float = 10.0) -> Any:
        """The next object the watch app sent (in order; each returned once); seconds."""
        __tracebackhide__ = True
        with self._step(
            f"peer.expect_message(timeout={timeout:g} s)", {"timeout": f"{timeout:g} s"}
        ) as outcome:
            index = self._read
            try:
                self._agent.wait_for(
                    lambda: len(self._agent.inbox) > index, timeout, "message from the watch app"
                )
            except AgentError:
                raise AssertionError(
                    f"the watch app sent no message within {timeout:g} s "
                    f"({index} received earlier in this test)"
                ) from None
            self._read += 1
            message = self._agent.inbox[index]
            outcome(f"message #{index + 1}: {shown(message)}")
            return message

    @property
    def is_connected(self) -> bool:
        return self._agent.connected and self._agent.app_link_up

    def drop(self) -> None:
        """Abrupt link loss: the watch app sees error(1006) then close(1006)."""
        with self._step("peer.drop()", {}) as outcome:
            self._agent.order_app_link("drop")
            self._settle(up=False)
            outcome("link dropped")

    def disconnect(self) -> None:
        """Clean close from the phone: the watch app sees close(1000)."""
        with self._step("peer.disconnect()", {}) as outcome:
            self._agent.order_app_link("close")
            self._settle(up=False)
            outcome("session closed")

    def _settle(self, up: bool) -> None:
        """Without the agent: wait until the watch's bridge says the link is ``up`` (or down)."""
        agent = self._agent
        if not agent.agent:
            agent.wait_for(
                lambda: agent.app_link_up == up,
                self._connect_timeout,
                f"the link to {'open' if up else 'go down'}",
            )

    def reconnect(self) -> None:
        """Open the link again (reconnecting the BLE bridge first if it was lost)."""
        with self._step("peer.reconnect()", {}) as outcome:
            agent = self._agent
            if agent.connected:
                try:
                    agent.order_app_link("open")
                    self._settle(up=True)
                    outcome("session opened")
                    return
                except BleError:
                    if agent.connected:
                        raise  # the link is up and still refused the write: not a lost link
            agent.connect(self._connect_timeout)
            agent.order_app_link("open")
            self._settle(up=True)
            outcome("BLE reconnected, session opened")

    def set_app_installed(self, installed: bool) -> None:
        """The phone app appears (un)installed to the watch: diagnosis answers 1001."""
        with self._step(
            f"peer.set_app_installed({installed})", {"installed": installed}
        ) as outcome:
            self._agent.set_phone_installed(installed)
            outcome("installed" if installed else "uninstalled")

    def set_responsive(self, responsive: bool) -> None:
        """An unresponsive phone app stops acknowledging and answering the watch's pings: under
        the documented model the watch's sends then fail 204 and ``diagnosis`` answers 204.

        Under the openvela profile (the watch's own source) it causes nothing the watch app
        can see: a send succeeds once the watch's link daemon has the message, and
        ``diagnosis`` answers from the link's state without asking the phone, so neither can
        give 204 for it (messages still reach the phone: ``expect_message`` gets them). There
        204 comes only from a send queued while the link is still connecting, when its timer
        runs out, and from a ``diagnosis`` that waits while connecting."""
        with self._step(
            f"peer.set_responsive({responsive})", {"responsive": responsive}
        ) as outcome:
            self._agent.set_phone_responsive(responsive)
            said = "answering" if responsive else "no longer answering"
            if not responsive and self._link_profile == "openvela":
                said += " (openvela: the watch's sends and diagnosis do not wait for the phone)"
            outcome(said)
