"""``peer``: the phone app at the other end of the watch app's link, played by the harness over
the bridge. Thin: the protocol lives in ``phone_side``; each action is a report step.

What the watch app sends is read in order, each message once, by whichever of
``expect_message`` (parsed from JSON), ``expect_text`` (the text as sent) or ``collect`` comes
first; ``messages`` and ``texts`` keep every one of the test.
"""

from __future__ import annotations

import json
import time
from typing import Any

from pytest_vela.errors import AgentError, BleError
from pytest_vela.peer.phone_side import PhoneSide
from pytest_vela.peer.steps import CallStep, no_step, shown


def parsed(text: str) -> Any:
    """A message as ``expect_message`` returns it: the object its JSON text stands for, or the
    text itself when it is not JSON (a plain-text protocol)."""
    try:
        return json.loads(text)
    except ValueError:
        return text


class Peer:
    """The phone app at the other end of the link.

    On a rig that tests the user's own app (``--vela-app``) there is no event log to wait on,
    so ``drop``, ``disconnect`` and ``reconnect`` return once the link is down, or open again.
    """

    def __init__(
        self,
        side: PhoneSide,
        connect_timeout: float,
        step: CallStep | None = None,
        link_profile: str | None = None,
    ) -> None:
        self._side = side
        self._connect_timeout = connect_timeout
        self._step: CallStep = step or no_step
        self._read = 0
        self._link_profile = link_profile  # the link model the watch should follow, if known

    @property
    def messages(self) -> list[Any]:
        """Every message the watch app sent since the test began, parsed as by
        ``expect_message``."""
        return [parsed(text) for text in self._side.phone.inbox]

    @property
    def texts(self) -> list[str]:
        """Every message the watch app sent since the test began, as the texts it sent."""
        return list(self._side.phone.inbox)

    def send(self, obj: Any) -> None:
        """Phone → watch: arrives as ``onmessage`` with ``data`` a string — ``obj`` itself when
        it is a ``str`` (sent verbatim, as a plain-text protocol does), else its JSON."""
        with self._step(f"peer.send({shown(obj)})", {"obj": obj}) as outcome:
            self._side.phone.send(obj)
            outcome("written to the link")

    def expect_message(self, timeout: float = 10.0) -> Any:
        """The next message the watch app sent, parsed from JSON (a text that is not JSON is
        returned as it is); in order, each returned once; seconds."""
        __tracebackhide__ = True
        title = f"peer.expect_message(timeout={timeout:g} s)"
        with self._step(title, {"timeout": f"{timeout:g} s"}) as outcome:
            index, text = self._next(timeout)
            message = parsed(text)
            outcome(f"message #{index + 1}: {shown(message)}")
            return message

    def expect_text(self, timeout: float = 10.0) -> str:
        """The next message the watch app sent, as the text it sent (no JSON parsing); in
        order, each returned once; seconds."""
        __tracebackhide__ = True
        title = f"peer.expect_text(timeout={timeout:g} s)"
        with self._step(title, {"timeout": f"{timeout:g} s"}) as outcome:
            index, text = self._next(timeout)
            outcome(f"message #{index + 1}: {shown(text)}")
            return text

    def collect(self, seconds: float, text: bool = False) -> list[Any]:
        """Wait ``seconds`` and return every message not yet read, those already here and those
        that arrive meanwhile (parsed as by ``expect_message``, or the texts with
        ``text=True``); none is no failure."""
        with self._step(f"peer.collect({seconds:g} s)", {"seconds": f"{seconds:g} s"}) as outcome:
            time.sleep(max(0.0, seconds))
            inbox = self._side.phone.inbox
            found = inbox[self._read :]
            self._read = len(inbox)
            outcome(f"{len(found)} message{'' if len(found) == 1 else 's'}")
            return list(found) if text else [parsed(t) for t in found]

    def expect_no_message(self, within: float = 1.0) -> None:
        """Silence: no message not yet read, and none arriving within ``within`` seconds; a
        failure names what came."""
        __tracebackhide__ = True
        title = f"peer.expect_no_message(within={within:g} s)"
        with self._step(title, {"within": f"{within:g} s"}) as outcome:
            side, index = self._side, self._read
            try:
                side.bridge.wait_for(lambda: len(side.phone.inbox) > index, within, "a message")
            except AgentError:
                outcome("silence")
                return
            except BleError:
                if len(side.phone.inbox) <= index:
                    outcome("silence (the BLE link went down)")
                    return
            first = side.phone.inbox[index]
            raise AssertionError(
                f"expected no message from the watch app within {within:g} s, but it sent "
                f"message #{index + 1}: {shown(parsed(first), 200)}"
            )

    def _next(self, timeout: float) -> tuple[int, str]:
        __tracebackhide__ = True
        side, index = self._side, self._read
        try:
            side.bridge.wait_for(
                lambda: len(side.phone.inbox) > index, timeout, "message from the watch app"
            )
        except AgentError:
            raise AssertionError(
                f"the watch app sent no message within {timeout:g} s "
                f"({index} received earlier in this test)"
            ) from None
        self._read += 1
        return index, side.phone.inbox[index]

    @property
    def is_connected(self) -> bool:
        return self._side.connected and self._side.app_link_up

    def drop(self) -> None:
        """Abrupt link loss: the watch app sees error(1006) then close(1006)."""
        with self._step("peer.drop()", {}) as outcome:
            self._side.phone.order_link("drop")
            self._side.end.wait_link(False, self._connect_timeout)
            outcome("link dropped")

    def disconnect(self) -> None:
        """Clean close from the phone: the watch app sees close(1000)."""
        with self._step("peer.disconnect()", {}) as outcome:
            self._side.phone.order_link("close")
            self._side.end.wait_link(False, self._connect_timeout)
            outcome("session closed")

    def reconnect(self) -> None:
        """Open the link again (reconnecting the BLE bridge first if it was lost)."""
        with self._step("peer.reconnect()", {}) as outcome:
            side = self._side
            if side.connected:
                try:
                    side.phone.order_link("open")
                    side.end.wait_link(True, self._connect_timeout)
                    outcome("session opened")
                    return
                except BleError:
                    if side.connected:
                        raise  # the link is up and still refused the write: not a lost link
            side.connect(self._connect_timeout)
            side.phone.order_link("open")
            side.end.wait_link(True, self._connect_timeout)
            outcome("BLE reconnected, session opened")

    def set_app_installed(self, installed: bool) -> None:
        """The phone app appears (un)installed to the watch: diagnosis answers 1001."""
        with self._step(
            f"peer.set_app_installed({installed})", {"installed": installed}
        ) as outcome:
            self._side.phone.set_installed(installed)
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
            self._side.phone.set_responsive(responsive)
            said = "answering" if responsive else "no longer answering"
            if not responsive and self._link_profile == "openvela":
                said += " (openvela: the watch's sends and diagnosis do not wait for the phone)"
            outcome(said)
