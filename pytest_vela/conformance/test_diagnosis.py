"""``diagnosis``: 0 OK, 1001 phone app not installed, 204 connect timeout, 1000 others; it
waits for a connection attempt in progress before answering. Under the openvela source it
never asks the phone app (an unresponsive one changes nothing) and waits only while the app's
first connection is in progress (test_connecting)."""

import allure

from pytest_vela import DiagnosisStatus, Interconnect, LinkProfile, Peer

pytestmark = allure.feature("connect.diagnosis")


@allure.story("OK (0)")
def test_diagnosis_ok_on_a_healthy_link(interconnect: Interconnect) -> None:
    assert interconnect.diagnosis().status == DiagnosisStatus.OK


@allure.story("APP_UNINSTALLED (1001)")
def test_diagnosis_reports_the_phone_app_uninstalled(
    interconnect: Interconnect, peer: Peer
) -> None:
    peer.set_app_installed(False)
    assert interconnect.diagnosis().status == DiagnosisStatus.APP_UNINSTALLED


@allure.story("CONNECT_TIMEOUT (204)")
def test_diagnosis_of_a_phone_app_that_does_not_answer(
    interconnect: Interconnect, peer: Peer, link_profile: LinkProfile
) -> None:
    peer.set_responsive(False)
    status = interconnect.diagnosis(timeout=500).status
    link_profile.check(
        "diagnosis of an unresponsive phone app",
        f"diagnosis(timeout=500) answered status {status!r}",
        documented=status == DiagnosisStatus.CONNECT_TIMEOUT,
        openvela=status == DiagnosisStatus.OK,
    )


@allure.story("OTHERS (1000)")
def test_diagnosis_reports_others_while_the_link_is_closed(
    interconnect: Interconnect, peer: Peer
) -> None:
    peer.disconnect()
    interconnect.events.wait_for("close", timeout=5)
    assert interconnect.diagnosis().status == DiagnosisStatus.OTHERS


@allure.story("waits for a connection in progress")
def test_diagnosis_waits_for_a_connection_in_progress(
    interconnect: Interconnect, peer: Peer, link_profile: LinkProfile
) -> None:
    link_profile.only(
        "documented",
        "after a loss the openvela source is no longer connecting, so a diagnosis during the "
        "reconnection answers at once, 1000 or 0 as its timing falls",
    )
    peer.disconnect()
    interconnect.events.wait_for("close", timeout=5)
    peer.reconnect()
    # Called while the watch is still connecting: it must wait for the outcome, not say 1000.
    assert interconnect.diagnosis().status == DiagnosisStatus.OK
