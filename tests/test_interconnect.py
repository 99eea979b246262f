"""The interconnect fixtures against the simulated watch, under each of its BLE and runtime
faults (the conformance suite covers the fault-free contract)."""

from __future__ import annotations

import pytest

from pytest_vela import BleError, ErrorCode, ReadyState
from pytest_vela.peer.interconnect import Interconnect
from pytest_vela.peer.phone import Peer
from pytest_vela.rig.sim_faults import VelaSim
from pytest_vela.rigfile.loader import Rig
from tests.support.rigs import fast_sim_rig, write_rig


def test_the_message_limit_fault_moves_the_limit(
    interconnect: Interconnect, vela_sim: VelaSim
) -> None:
    vela_sim.set_message_limit(100)
    assert interconnect.send({"p": "x" * 92}).ok  # exactly 100 bytes of JSON
    refused = interconnect.send({"p": "x" * 93})
    assert not refused.ok
    assert refused.code == ErrorCode.PARAMETER_ERROR
    assert "exceeds the limit of 100" in str(refused.data)


def test_a_watch_side_drop_is_an_abrupt_loss_seen_after_reconnecting(
    interconnect: Interconnect, peer: Peer, vela_sim: VelaSim
) -> None:
    vela_sim.drop_link()
    peer.reconnect()
    opened = interconnect.events.wait_for("open", timeout=10)
    assert opened.is_reconnected is True
    # The watch app saw the loss while the harness was away; the events arrive afterwards.
    interconnect.events.assert_order(["error", "close", "open"])
    assert interconnect.events.wait_for("close").code == ErrorCode.DISCONNECTED
    assert peer.is_connected


def test_events_come_by_the_console_mirror_while_the_bridge_is_down(
    interconnect: Interconnect, peer: Peer, vela_sim: VelaSim
) -> None:
    vela_sim.drop_link()  # the BLE bridge is gone: nothing can come over it now
    error = interconnect.events.wait_for("error", timeout=5)
    close = interconnect.events.wait_for("close", timeout=5)
    assert (error.code, close.code) == (ErrorCode.DISCONNECTED, ErrorCode.DISCONNECTED)
    assert not peer.is_connected
    peer.reconnect()  # the watch replays its queued events over the bridge: not twice
    interconnect.events.wait_for("open", timeout=10)
    assert interconnect.events.kinds() == ["error", "close", "open"]


def test_refused_connects_within_the_retry_budget_succeed(
    interconnect: Interconnect, peer: Peer, vela_sim: VelaSim, rig: Rig
) -> None:
    refusals = rig.settings.ble.connect_attempts - 1
    vela_sim.drop_link()
    vela_sim.fail_next_connects(refusals)
    peer.reconnect()
    interconnect.events.wait_for("open", timeout=10)
    assert interconnect.get_ready_state() == ReadyState.CONNECTED


def test_connects_refused_forever_fail_with_a_rig_error(
    interconnect: Interconnect, peer: Peer, vela_sim: VelaSim, rig: Rig
) -> None:
    vela_sim.drop_link()
    vela_sim.fail_next_connects(1000)
    with pytest.raises(BleError, match=r"after \d+ attempts") as raised:
        peer.reconnect()
    assert str(rig.settings.ble.connect_attempts) in str(raised.value)


def test_the_link_works_under_added_latency(
    interconnect: Interconnect, peer: Peer, vela_sim: VelaSim
) -> None:
    vela_sim.set_latency(20)
    assert interconnect.send({"slow": True}).ok
    assert peer.expect_message(timeout=5) == {"slow": True}
    peer.send({"n": 1})
    assert interconnect.events.wait_for("message", timeout=5).data == '{"n": 1}'


def test_a_send_timeout_covers_writing_a_large_message_over_a_slow_link(
    interconnect: Interconnect, peer: Peer, vela_sim: VelaSim
) -> None:
    """20 KB at 150 ms a frame takes over 10 s just to write: the caller's timeout covers it."""
    vela_sim.set_latency(150)
    payload = {"p": "x" * 20_000}
    assert interconnect.send(payload, timeout=60).ok
    assert peer.expect_message(timeout=10) == payload


def test_a_small_mtu_still_carries_large_messages(
    interconnect: Interconnect, peer: Peer, vela_sim: VelaSim
) -> None:
    vela_sim.drop_link()
    vela_sim.set_mtu(23)
    peer.reconnect()
    interconnect.events.wait_for("open", timeout=10)
    payload = {"p": "y" * 5000}
    assert interconnect.send(payload).ok
    assert peer.expect_message(timeout=10) == payload


def test_a_command_too_big_for_the_bridge_is_a_rig_error_naming_the_setting(
    interconnect: Interconnect,
) -> None:
    with pytest.raises(BleError, match=r"exceeds the limit of 65536 bytes.*ble\.max_message_bytes"):
        interconnect.send({"p": "x" * 70_000})
    assert interconnect.send({"p": "fits"}).ok  # nothing was half sent


def test_each_test_starts_healthy_after_the_faults_above(
    interconnect: Interconnect, peer: Peer
) -> None:
    assert peer.is_connected
    assert interconnect.get_ready_state() == ReadyState.CONNECTED
    assert interconnect.send({"p": "z" * 200}).ok  # the message limit is back
    assert len(interconnect.events) == 0  # no leftovers from earlier tests


def test_a_crash_fails_its_test_and_the_next_test_finds_the_link_again(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        """
        def test_crashes(interconnect, vela_sim):
            vela_sim.crash()
            interconnect.events.wait_for("open", timeout=2)  # never: the agent died

        def test_after(interconnect, peer):
            assert peer.is_connected
            assert interconnect.send({"alive": True}).ok
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-rA")
    # Once, as the crash: the missing open it caused is named as its consequence.
    result.assert_outcomes(passed=1, failed=1, errors=0)
    result.stdout.fnmatch_lines(
        ["*WatchCrashed*Assertion failed*", "*as a consequence: EventTimeout*"]
    )
    result.stdout.fnmatch_lines(["PASSED *test_after*"])


def test_a_link_dropped_on_the_way_out_is_restored_for_the_next_test(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        """
        def test_leaves_the_link_dropped(interconnect, peer, vela_sim):
            vela_sim.set_latency(300)  # the watch's close arrives after this test has ended
            peer.drop()

        def test_starts_healthy(interconnect, peer):
            assert interconnect.get_ready_state() == 1
            assert "close" not in interconnect.events.kinds()  # the last test's events
            assert interconnect.send({"ok": True}).ok
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)


def test_the_rigs_command_timeout_bounds_an_agent_command(pytester: pytest.Pytester) -> None:
    """``timeouts.command`` is how long the harness waits for an agent's answer: a send the
    watch keeps waiting on (an unresponsive phone, a 1 s acknowledgement timeout) is given up
    after it, and a send with its own ``timeout`` waits that long instead."""
    write_rig(
        pytester.path / "rigs",
        "sim",
        fast_sim_rig(command=0.3),
    )
    pytester.makepyfile(
        r"""
        import pytest
        from pytest_vela import AgentError

        def test_bounded(interconnect, peer):
            peer.set_responsive(False)
            gave_up = r"waited 0\.[23]\d* s for the agent's answer to 'send'"
            with pytest.raises(AgentError, match=gave_up):
                interconnect.send({"n": 1})
            assert interconnect.send({"n": 2}, timeout=10).code == 204
        """
    )
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)
