"""The simulated platform under each profile, driven as the relay and an app drive it: every
rule of the openvela profile does what docs/interconnect.md says the watch's source does, and
the documented profile keeps the model it had."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from pytest_vela.rigfile.link_rules import OPENVELA, InterconnectRules, profile_defaults
from pytest_vela.sim.platform import InterconnectPlatform, LinkEvent
from pytest_vela.wire.messages import AppData, Message, Ping

Body = Callable[["Watch"], Awaitable[None]]


class Watch:
    """A platform with a running app and a phone on its bridge, recording both ends."""

    def __init__(self, **rules: Any) -> None:
        self.platform = InterconnectPlatform(
            InterconnectRules.model_validate({"connect_ms": 0, **rules}), self._to_phone
        )
        self.events: list[LinkEvent] = []
        self.to_phone: list[Message] = []
        self.bridge_refuses = False

    async def _to_phone(self, message: Message) -> None:
        if self.bridge_refuses:
            raise ConnectionError("bridge gone")
        self.to_phone.append(message)

    def start(self, session_open: bool = True) -> None:
        self.platform.session_open = session_open
        self.platform.bridge_ready = True
        self.platform.app_started(self.events.append)

    def kinds(self) -> list[tuple[str, Any]]:
        """Each event with what the test looks at: the open's isReconnected, else the code."""
        return [
            (e.kind, e.fields.get("isReconnected", e.fields.get("code")))
            for e in self.events
            if e.kind != "message"
        ]

    async def until(self, ready: Callable[[], bool]) -> None:
        for _ in range(500):
            if ready():
                return
            await asyncio.sleep(0.002)
        raise AssertionError(f"never: events {self.events}, to the phone {self.to_phone}")

    async def opened(self) -> None:
        await self.until(lambda: self.platform.link_up)


def run(body: Body, **rules: Any) -> None:
    async def main() -> None:
        await body(Watch(**rules))

    asyncio.run(main())


def test_the_profile_sets_every_rule_it_names_and_a_written_rule_wins() -> None:
    openvela = profile_defaults("openvela")
    for rule, value in OPENVELA.items():
        assert getattr(openvela, rule) == value, rule
        assert getattr(profile_defaults("documented"), rule) != value, rule
    mixed = InterconnectRules.model_validate({"profile": "openvela", "loss_code": 1006})
    assert (mixed.loss_code, mixed.loss_events) == (1006, ["close"])


def test_openvela_opens_first_as_reconnected_and_loses_with_close_1000_only() -> None:
    async def body(w: Watch) -> None:
        w.start()
        await w.opened()
        w.platform.link_order("drop")
        w.platform.link_order("open")
        await w.until(lambda: len(w.kinds()) == 3)
        assert w.kinds() == [("open", True), ("close", 1000), ("open", False)]
        close = w.events[1]
        assert close.forget == ("open",)  # a kept open is not replayed after the loss
        assert w.events[0].replay == {"isReconnected": True}

    run(body, profile="openvela")


def test_openvela_while_connecting_a_loss_is_an_error_1006_and_sends_wait_in_a_queue() -> None:
    async def body(w: Watch) -> None:
        w.start(session_open=False)  # the phone is away: the app stays connecting
        assert w.platform.connecting
        assert (await w.platform.ready_state()).value == {"status": 2}
        queued = asyncio.ensure_future(w.platform.send('{"n":1}', "object", 60_000))
        timed_out = await w.platform.send('{"n":2}', "object", 20)  # the app's own timer
        assert (timed_out.ok, timed_out.code) == (False, 204)
        w.platform.link_order("drop")
        assert w.kinds() == [("error", 1006)]
        assert w.events[0].replay == {"code": 1006, "data": "connection lost"}
        assert not w.platform.connecting  # the phone's state is known now
        w.platform.link_order("open")
        outcome = await queued  # the queued send goes out once the link opens
        assert outcome.ok
        assert [m.data for m in w.to_phone if isinstance(m, AppData)] == ['{"n":1}']
        assert w.kinds()[-1] == ("open", False)  # not the first status: a reconnection

    run(body, profile="openvela")


def test_openvela_diagnosis_waits_only_while_connecting_and_refuses_what_it_cannot_wait_for() -> (
    None
):
    async def body(w: Watch) -> None:
        w.start(session_open=False)
        timed_out = await w.platform.diagnosis(20)
        assert timed_out.value == {"status": 204}
        zero = await w.platform.diagnosis(0)
        assert (zero.ok, zero.code) == (False, 1000)
        waiting = asyncio.ensure_future(w.platform.diagnosis(60_000))
        await w.until(lambda: w.platform._diagnoses_waiting == 1)
        second = await w.platform.diagnosis(60_000)
        assert (second.ok, second.code) == (False, 1000)
        w.platform.link_order("open")
        assert (await waiting).value == {"status": 0}
        # Connected: answered at once, without asking the phone (no ping goes out).
        assert (await w.platform.diagnosis(0)).value == {"status": 0}
        assert not any(isinstance(m, Ping) for m in w.to_phone)
        w.platform.link_order("close")
        # After a loss the link is not connecting: answered at once from its state.
        assert (await w.platform.diagnosis(60_000)).value == {"status": 1000}

    run(body, profile="openvela")


def test_openvela_send_is_acknowledged_by_the_watch_and_checks_its_data() -> None:
    async def body(w: Watch) -> None:
        w.start()
        await w.opened()
        # Nobody acknowledges on the phone side: the send succeeds all the same.
        assert (await w.platform.send('{"n":1}')).ok
        big = '{"p":"' + "x" * 100_000 + '"}'
        assert (await w.platform.send(big)).ok  # no size limit
        for refused in [w.platform.send('"text"', "string"), w.platform.send("", "object")]:
            outcome = await refused
            assert (outcome.ok, outcome.code) == (False, 202)
        w.bridge_refuses = True
        broken = await w.platform.send('{"n":2}')
        assert (broken.ok, broken.code) == (False, 1006)
        w.platform.link_order("drop")
        # Down after a loss: 1006 before any look at the data.
        down = await w.platform.send('"text"', "string")
        assert (down.ok, down.code) == (False, 1006)

    run(body, profile="openvela")


def test_openvela_uninstall_closes_1001_and_the_reinstall_reopens() -> None:
    async def body(w: Watch) -> None:
        w.start()
        await w.opened()
        w.platform.set_phone_installed(False)
        assert w.kinds()[-1] == ("close", 1001)
        assert (await w.platform.ready_state()).value == {"status": 2}
        assert (await w.platform.diagnosis()).value == {"status": 1001}
        assert (await w.platform.send("{}")).code == 1006
        w.platform.set_phone_installed(True)
        await w.opened()
        assert w.kinds()[-1] == ("open", False)

    run(body, profile="openvela")


@pytest.mark.parametrize("profile", ["documented", "openvela"])
def test_a_message_limit_fault_holds_under_either_profile(profile: str) -> None:
    async def body(w: Watch) -> None:
        w.start()
        await w.opened()
        w.platform.message_limit = 10
        assert (await w.platform.send('{"p":"xxxxxx"}')).code == 202
        w.platform.reset_message_limit()
        assert w.platform.message_limit == (None if profile == "openvela" else 30 * 1024)

    run(body, profile=profile, send_acknowledged_by="daemon")


def test_documented_keeps_its_model() -> None:
    async def body(w: Watch) -> None:
        w.start(session_open=False)
        assert not w.platform.connecting  # no attempt in progress: not connecting
        assert (await w.platform.send("{}")).code == 1006
        assert (await w.platform.diagnosis(0)).value == {"status": 1000}
        w.platform.link_order("drop")
        assert w.kinds() == []  # nothing was open: nothing to lose
        w.platform.link_order("open")
        await w.opened()
        w.platform.link_order("drop")
        w.platform.link_order("open")
        await w.until(lambda: len(w.kinds()) == 4)
        assert w.kinds() == [("open", False), ("error", 1006), ("close", 1006), ("open", True)]
        assert all(e.replay is None and not e.forget for e in w.events)
        w.platform.set_phone_installed(False)
        assert w.platform.link_up and len(w.kinds()) == 4  # no event, the link stays
        timeout = await w.platform.send('"text"', "string")  # a string is sent; nobody acks
        assert timeout.code == 204

    run(body, ack_timeout_ms=20)
