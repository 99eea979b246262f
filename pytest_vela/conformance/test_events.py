"""The order and content of open / message / close / error events."""

import json

import allure

from pytest_vela import ErrorCode, Interconnect, Peer, Watch

pytestmark = allure.feature("events")


@allure.story("onerror")
@allure.story("onclose")
@allure.story("onopen")
def test_abrupt_loss_fires_error_then_close_and_reopens_as_reconnected(
    interconnect: Interconnect, peer: Peer
) -> None:
    peer.drop()
    error = interconnect.events.wait_for("error", timeout=5)
    close = interconnect.events.wait_for("close", timeout=5)
    assert error.code == ErrorCode.DISCONNECTED
    assert close.code == ErrorCode.DISCONNECTED
    peer.reconnect()
    opened = interconnect.events.wait_for("open", timeout=10)
    assert opened.is_reconnected is True
    interconnect.events.assert_order(["error", "close", "open"])


@allure.story("onclose")
def test_clean_close_fires_close_1000_without_error(interconnect: Interconnect, peer: Peer) -> None:
    peer.disconnect()
    close = interconnect.events.wait_for("close", timeout=5)
    assert close.code == 1000
    assert "error" not in interconnect.events.kinds()


@allure.story("onopen")
def test_link_recovers_after_a_watch_reset_with_a_first_open(
    interconnect: Interconnect, watch: Watch
) -> None:
    watch.reset()
    opened = interconnect.events.wait_for("open", timeout=15)
    # A reset starts a new app run: its first open is not a reconnection.
    assert opened.is_reconnected is False


@allure.story("onmessage")
def test_messages_arrive_in_order(interconnect: Interconnect, peer: Peer) -> None:
    for n in range(5):
        peer.send({"n": n})
    received = [interconnect.events.wait_for("message", timeout=5).data for _ in range(5)]
    assert all(isinstance(data, str) for data in received), received
    assert [json.loads(str(data)) for data in received] == [{"n": n} for n in range(5)]
