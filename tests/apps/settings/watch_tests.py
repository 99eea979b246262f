"""Tests of the settings app, through the phone side (``peer``) and the app's stored settings
(``vela_sim``), run with ``--vela-app`` (tests/test_own_apps.py copies this file as a test file).

The app reads its ``sync`` setting in ``onCreate``: only when it is on does it open the link, so
each test sets the setting, then restarts the app, as a user's earlier session would have left it.
"""

from pytest_vela import Peer, VelaSim, Watch

PACKAGE = "com.example.settings"


def restart(watch: Watch, peer: Peer) -> None:
    watch.stop_app(PACKAGE)
    watch.launch(PACKAGE)
    peer.reconnect()


def test_with_sync_off_the_app_never_answers(peer: Peer, watch: Watch, vela_sim: VelaSim) -> None:
    vela_sim.set_storage(PACKAGE, {"sync": "off"})
    restart(watch, peer)
    peer.send("status")
    peer.expect_no_message(within=1.0)


def test_with_sync_on_it_answers_in_plain_text(peer: Peer, watch: Watch, vela_sim: VelaSim) -> None:
    vela_sim.set_storage(PACKAGE, {"sync": "on"})
    restart(watch, peer)
    peer.send("status")
    assert peer.expect_message(timeout=5) == "sync on"
    peer.send("what")
    assert peer.expect_message(timeout=5) == "unknown what"


def test_a_toggle_is_stored_and_shown(peer: Peer, watch: Watch, vela_sim: VelaSim) -> None:
    vela_sim.set_storage(PACKAGE, {"sync": "on"})
    restart(watch, peer)
    peer.send("toggle")
    assert peer.expect_message(timeout=5) == "sync off"
    assert vela_sim.storage(PACKAGE) == {"sync": "off"}
    watch.console.expect(r"\[SYS\] prompt\.showToast: saved", timeout=5)


def test_turning_sync_off_in_the_dialog_is_stored(
    peer: Peer, watch: Watch, vela_sim: VelaSim
) -> None:
    vela_sim.set_storage(PACKAGE, {"sync": "on"})
    restart(watch, peer)
    vela_sim.answer_dialogs(1)  # "Turn off", in the dialog the app shows when it starts
    assert peer.expect_message(timeout=5) == "sync off"
    assert vela_sim.storage(PACKAGE) == {"sync": "off"}
