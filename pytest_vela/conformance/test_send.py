"""``send``: success when the phone acknowledges; 1006 while disconnected; 204 without an
acknowledgement in time; the object is serialised exactly once; the size limit holds.

The openvela source differs: success once the watch's own link daemon has the message (an
unresponsive phone app cannot make it fail), no size check, and ``data`` that is not an object
refused 202."""

import json

import allure
import pytest

from pytest_vela import ErrorCode, Interconnect, LinkProfile, Peer, Rig

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
def test_send_to_a_phone_app_that_does_not_answer(
    interconnect: Interconnect, peer: Peer, link_profile: LinkProfile
) -> None:
    peer.set_responsive(False)
    result = interconnect.send({"n": 1})
    link_profile.check(
        "send acknowledgement",
        f"send to an unresponsive phone app: {'success' if result.ok else f'fail {result.code}'}",
        documented=not result.ok and result.code == ErrorCode.TIMEOUT,
        openvela=result.ok,
    )


@allure.story("fail PARAMETER_ERROR (202)")
def test_send_of_a_string_as_data(
    interconnect: Interconnect, peer: Peer, link_profile: LinkProfile
) -> None:
    result = interconnect.send("plain text")
    arrived = peer.expect_message(timeout=5) if result.ok else None
    link_profile.check(
        "data checks",
        f"send(data='plain text'): {'success' if result.ok else f'fail {result.code}'}"
        + (f", the phone got {arrived!r}" if result.ok else ""),
        # Serialised once more: the phone gets a JSON string, which parses back to the text.
        documented=result.ok and arrived == "plain text",
        openvela=not result.ok and result.code == ErrorCode.PARAMETER_ERROR,
    )


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
def test_a_message_one_byte_over_the_limit(
    interconnect: Interconnect, rig: Rig, link_profile: LinkProfile
) -> None:
    limit = rig.settings.app.message_limit
    result = interconnect.send(_message_of(limit + 1), timeout=30)
    link_profile.check(
        "size limit",
        f"a {limit + 1}-byte message (the limit is {limit}): "
        + ("accepted" if result.ok else f"refused, code {result.code}"),
        documented=not result.ok,
        openvela=result.ok,
    )


@pytest.mark.parametrize("text", ["plain", '引号"and\\slashes', ""])
@allure.story("onmessage of a phone message")
def test_a_phone_message_arrives_as_a_json_string(
    interconnect: Interconnect, peer: Peer, text: str
) -> None:
    peer.send({"text": text})
    event = interconnect.events.wait_for("message", timeout=5)
    assert isinstance(event.data, str), f"onmessage data is {type(event.data).__name__}"
    assert json.loads(event.data) == {"text": text}
