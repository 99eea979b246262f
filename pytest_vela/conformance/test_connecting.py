"""While the app's link is still connecting: the phone is away when the app starts (its
session closed, then the watch reset).

The documented model has no connection attempt then: sends fail 1006 and diagnosis answers
1000 at once. The openvela source counts the app as connecting until the phone's state is
first known: sends wait in a queue (204 when their timer, 5000 ms unless the app gives its
own, runs out), diagnosis waits (204 at its timeout) and refuses a timeout of 0 (1000), the
phone going away fires onerror(1006), and the open that ends the phase says isReconnected
true. A watch that reports the phone away at once (an error or close right after its start)
has no such phase: those tests skip there."""

import allure
import pytest

from pytest_vela import (
    CallFailed,
    DiagnosisStatus,
    ErrorCode,
    EventTimeout,
    Interconnect,
    LinkProfile,
    Peer,
    Watch,
)

pytestmark = allure.feature("while connecting")

NO_EVENT_WAIT = 1.0  # seconds an event that one profile fires and the other does not may take


def _app_started_with_the_phone_away(interconnect: Interconnect, peer: Peer, watch: Watch) -> None:
    peer.disconnect()
    interconnect.events.wait_for("close", timeout=5)
    watch.reset()
    kinds = interconnect.events.kinds()
    if {"error", "close"} & set(kinds[kinds.index("close") + 1 :]):
        pytest.skip(f"the watch reported the phone away at once ({kinds}): it is not connecting")


@allure.story("diagnosis")
def test_diagnosis_while_the_app_is_still_connecting(
    interconnect: Interconnect, peer: Peer, watch: Watch, link_profile: LinkProfile
) -> None:
    _app_started_with_the_phone_away(interconnect, peer, watch)
    status = interconnect.diagnosis(timeout=500).status
    link_profile.check(
        "diagnosis while connecting",
        f"diagnosis(timeout=500) answered status {status!r}",
        documented=status == DiagnosisStatus.OTHERS,
        openvela=status == DiagnosisStatus.CONNECT_TIMEOUT,
    )
    peer.reconnect()
    opened = interconnect.events.wait_for("open", timeout=10)
    link_profile.check(
        "isReconnected",
        f"isReconnected {opened.is_reconnected} on the open that ends the app's first connecting",
        documented=opened.is_reconnected is False,
        openvela=opened.is_reconnected is True,
    )


@allure.story("diagnosis")
def test_a_diagnosis_timeout_of_zero_while_connecting(
    interconnect: Interconnect, peer: Peer, watch: Watch, link_profile: LinkProfile
) -> None:
    _app_started_with_the_phone_away(interconnect, peer, watch)
    try:
        status = interconnect.diagnosis(timeout=0).status
        refused, seen = None, f"success, status {status!r}"
    except CallFailed as exc:
        status, refused, seen = None, exc.code, f"fail {exc.code}: {exc.data!r}"
    link_profile.check(
        "diagnosis refusals",
        f"diagnosis(timeout=0): {seen}",
        documented=refused is None and status == DiagnosisStatus.OTHERS,
        openvela=refused == ErrorCode.UNKNOWN,
    )


@allure.story("send")
def test_send_while_the_app_is_still_connecting(
    interconnect: Interconnect, peer: Peer, watch: Watch, link_profile: LinkProfile
) -> None:
    _app_started_with_the_phone_away(interconnect, peer, watch)
    result = interconnect.send({"n": 1})
    link_profile.check(
        "sends while connecting",
        f"send: {'success' if result.ok else f'fail {result.code}'}",
        documented=not result.ok and result.code == ErrorCode.DISCONNECTED,
        openvela=not result.ok and result.code == ErrorCode.TIMEOUT,
    )


@allure.story("onerror")
def test_the_phone_going_away_while_the_app_is_still_connecting(
    interconnect: Interconnect, peer: Peer, watch: Watch, link_profile: LinkProfile
) -> None:
    _app_started_with_the_phone_away(interconnect, peer, watch)
    peer.drop()
    try:
        error = interconnect.events.wait_for("error", timeout=NO_EVENT_WAIT)
        seen = f"error {error.code}, events {interconnect.events.kinds()}"
    except EventTimeout:
        error, seen = None, f"no error within {NO_EVENT_WAIT:g} s"
    link_profile.check(
        "loss while connecting",
        seen,
        documented=error is None,
        openvela=error is not None and error.code == ErrorCode.DISCONNECTED,
    )
