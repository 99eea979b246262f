"""``getReadyState``: 1 while the link is up, 2 once it is down."""

import allure

from pytest_vela import Interconnect, Peer, ReadyState

pytestmark = allure.feature("connect.getReadyState")


@allure.story("CONNECTED (1)")
def test_ready_state_is_connected_while_the_link_is_up(interconnect: Interconnect) -> None:
    assert interconnect.get_ready_state() == ReadyState.CONNECTED


@allure.story("DISCONNECTED (2)")
def test_ready_state_is_disconnected_after_the_phone_closes(
    interconnect: Interconnect, peer: Peer
) -> None:
    peer.disconnect()
    interconnect.events.wait_for("close", timeout=5)
    assert interconnect.get_ready_state() == ReadyState.DISCONNECTED
