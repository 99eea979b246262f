"""Tests of the ping-pong watch app, through the phone side (``peer``) and the console only.

Build the app, then run them against the simulated watch (or ``--rig`` a real one)::

    npx -p aiot-toolkit@1.1.4 aiot build
    pytest --vela-app dist/com.example.pingpong.debug.1.0.0.rpk tests
"""

from pytest_vela import Peer, Watch


def test_a_ping_is_answered_with_a_pong(peer: Peer, watch: Watch) -> None:
    peer.send({"op": "ping", "n": 1})
    reply = peer.expect_message(timeout=5)
    assert reply["op"] == "pong"
    assert reply["n"] == 1
    watch.console.expect(r"\[JS\] pingpong: ping 1", timeout=5)


def test_reconnects_are_counted(peer: Peer) -> None:
    peer.send({"op": "ping", "n": 1})
    before = peer.expect_message(timeout=5)["reconnects"]
    peer.drop()  # the app sees error then close; returns once the link is down
    assert not peer.is_connected
    peer.reconnect()  # returns once the link is open again
    peer.send({"op": "ping", "n": 2})
    assert peer.expect_message(timeout=5)["reconnects"] == before + 1


def test_the_app_logs_the_link_loss(peer: Peer, watch: Watch) -> None:
    peer.drop()
    watch.console.expect(r"\[ WARN\] \[JS\] pingpong: error 1006", timeout=5)
    watch.console.expect(r"\[JS\] pingpong: close 1006", timeout=5)
    peer.reconnect()
    watch.console.expect(r"\[JS\] pingpong: open, reconnected=true", timeout=5)


def test_a_buzz_is_felt(peer: Peer, watch: Watch) -> None:
    peer.send({"op": "buzz"})
    assert peer.expect_message(timeout=5) == {"op": "buzzed", "ok": True}
    # What the wearer feels is one line on the watch's console.
    watch.console.expect(r"\[SYS\] vibrator\.vibrate: short", timeout=5)


def test_nothing_arrives_while_the_phone_app_does_not_answer(peer: Peer) -> None:
    peer.set_responsive(False)  # no acknowledgements: the app's send fails 204
    peer.send({"op": "ping", "n": 3})
    assert peer.expect_message(timeout=5)["n"] == 3  # sent, only never acknowledged
