"""After a crash the next test starts healthy, a crash a test asked for does not fail it, and
a crash that broke a call is reported as the crash — once, as the root cause."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.projects import allure_results, outcome, run_project

CRASH_TESTS = """
    import pytest
    from pytest_vela import ReadyState

    def test_crash_then_nothing(vela_sim):
        vela_sim.crash()

    def test_next_test_has_its_agent(interconnect):
        assert interconnect.get_ready_state() == ReadyState.CONNECTED
        assert interconnect.send({"after": "crash"}).ok

    def test_expected_crash(watch, vela_sim, interconnect):
        with watch.expect_crash(timeout=5) as crash:
            vela_sim.crash()
        assert "Assertion failed" in crash.line
        assert "alive" in watch.shell("echo alive")
        assert interconnect.get_ready_state() == ReadyState.CONNECTED

    def test_expected_crash_that_never_comes(watch):
        with watch.expect_crash(timeout=0.5):
            pass

    def test_crash_during_send(interconnect, vela_sim):
        vela_sim.set_latency(300)
        import threading
        threading.Timer(0.1, vela_sim.crash).start()
        result = interconnect.send({"n": 1}, timeout=5)
        assert result.ok, result

    def test_after_the_crash_during_send(interconnect, peer):
        peer.send({"hello": 1})
        assert interconnect.events.wait_for("message", timeout=5)

    def test_uninstalled_agent(watch):
        watch.uninstall("com.vela.agent")

    def test_agent_is_back(interconnect):
        assert interconnect.get_ready_state() == ReadyState.CONNECTED
"""


@pytest.fixture(scope="module")
def crash_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    root = tmp_path_factory.mktemp("crashes")
    done = run_project(root, CRASH_TESTS)
    return done.stdout + done.stderr, root / "reports"


def test_an_unexpected_crash_fails_its_own_test_once(crash_run: tuple[str, Path]) -> None:
    output, root = crash_run
    assert outcome(output, "test_crash_then_nothing").startswith("FAILED"), output
    assert "ERROR at teardown of test_crash_then_nothing" not in output
    result = allure_results(root)["test_crash_then_nothing"]
    assert result["status"] == "failed"
    assert "WatchCrashed" in result["statusDetails"]["message"]
    assert "dump_assert_info: Assertion failed" in result["statusDetails"]["message"]


def test_after_a_crash_the_next_test_has_its_agent(crash_run: tuple[str, Path]) -> None:
    output, _ = crash_run
    assert outcome(output, "test_next_test_has_its_agent").startswith("PASSED"), output


def test_an_expected_crash_passes_and_leaves_the_watch_ready(crash_run: tuple[str, Path]) -> None:
    output, _ = crash_run
    assert outcome(output, "test_expected_crash").startswith("PASSED"), output


def test_an_expected_crash_that_never_comes_fails_the_test(crash_run: tuple[str, Path]) -> None:
    output, root = crash_run
    assert outcome(output, "test_expected_crash_that_never_comes").startswith("FAILED"), output
    result = allure_results(root)["test_expected_crash_that_never_comes"]
    assert result["status"] == "failed"
    assert "ExpectTimeout" in result["statusDetails"]["message"]


def test_a_crash_that_broke_a_call_is_reported_as_the_crash(crash_run: tuple[str, Path]) -> None:
    output, root = crash_run
    assert outcome(output, "test_crash_during_send").startswith("FAILED"), output
    assert "ERROR at teardown of test_crash_during_send" not in output
    result = allure_results(root)["test_crash_during_send"]
    assert result["status"] == "failed"  # a product failure, not a broken rig
    message = result["statusDetails"]["message"]
    assert (
        "WatchCrashed" in message
        and "Assertion failed" in message
        and "as a consequence" in message
    )
    assert outcome(output, "test_after_the_crash_during_send").startswith("PASSED"), output


def test_an_uninstalled_agent_is_installed_again(crash_run: tuple[str, Path]) -> None:
    output, _ = crash_run
    assert outcome(output, "test_uninstalled_agent").startswith("PASSED"), output
    assert outcome(output, "test_agent_is_back").startswith("PASSED"), output
