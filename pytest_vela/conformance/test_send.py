"""``send``: success when the phone acknowledges; 1006 while disconnected; 204 without an
acknowledgement in time; the object is serialised exactly once; the size limit holds."""

import json

import allure
import pytest

from pytest_vela import ErrorCode, Interconnect, Peer, Rig

pytestmark = allure.feature("connect.send")


@allure.story("success")
def test_send_succeeds_and_the_phone_gets_the_object(
    interconnect: Interconnect, peer: Peer
) -> None:
    payload = {"n": 1, "text": "héllo", "nested": {"list": [1, 2, 3]}}
    result = interconnect.send(payload)
    assert result.ok, f"send failed with code {result.code}: {result.data!r}"
    # Serialised once: the phone parses an object back, not a string holding JSON.
    assert peer.expect_message(timeout=5) == payload


@allure.story("fail DISCONNECTED (1006)")
def test_send_while_disconnected_fails_1006(interconnect: Interconnect, peer: Peer) -> None:
    peer.drop()
    interconnect.events.wait_for("close", timeout=5)
    result = interconnect.send({"n": 1})
    assert not result.ok
    assert result.code == ErrorCode.DISCONNECTED


@allure.story("fail TIMEOUT (204)")
def test_send_without_acknowledgement_fails_204(interconnect: Interconnect, peer: Peer) -> None:
    peer.set_responsive(False)
    result = interconnect.send({"n": 1})
    assert not result.ok
    assert result.code == ErrorCode.TIMEOUT


@allure.story("right after onopen")
def test_send_right_after_open_is_delivered(interconnect: Interconnect, peer: Peer) -> None:
    peer.disconnect()
    interconnect.events.wait_for("close", timeout=5)
    peer.reconnect()
    interconnect.events.wait_for("open", timeout=10)
    result = interconnect.send({"first": True})
    assert result.ok, f"a send right after onopen failed with code {result.code}"
    assert peer.expect_message(timeout=5) == {"first": True}


def _message_of(size: int) -> dict[str, str]:
    """An object whose compact JSON serialisation is exactly ``size`` bytes."""
    message = {"p": "x" * (size - len('{"p":""}'))}
    assert len(json.dumps(message, separators=(",", ":")).encode()) == size
    return message


@allure.story("size limit")
def test_a_message_at_the_size_limit_is_sent(
    interconnect: Interconnect, peer: Peer, rig: Rig
) -> None:
    limit = rig.settings.app.message_limit
    result = interconnect.send(_message_of(limit), timeout=30)
    assert result.ok, f"a {limit}-byte message failed with code {result.code}: {result.data!r}"
    assert peer.expect_message(timeout=10) == _message_of(limit)


@allure.story("size limit")
def test_a_message_one_byte_over_the_limit_is_refused(interconnect: Interconnect, rig: Rig) -> None:
    limit = rig.settings.app.message_limit
    result = interconnect.send(_message_of(limit + 1), timeout=30)
    assert not result.ok, f"a {limit + 1}-byte message was accepted; the limit is {limit}"


@pytest.mark.parametrize("text", ["plain", '引号"and\\slashes', ""])
@allure.story("onmessage of a phone message")
def test_a_phone_message_arrives_as_a_json_string(
    interconnect: Interconnect, peer: Peer, text: str
) -> None:
    peer.send({"text": text})
    event = interconnect.events.wait_for("message", timeout=5)
    assert isinstance(event.data, str), f"onmessage data is {type(event.data).__name__}"
    assert json.loads(event.data) == {"text": text}
