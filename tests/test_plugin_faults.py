"""Faults of the watch in a user's run: each ends its test with the evidence (the error that
names it, the console log kept, the result's status and attachments in Allure), and the session
goes on to pass the next test.

One pytest run over every fault serves every test of this module (module scope).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.support.plugin_runs import allure_results
from tests.support.projects import outcome, run_project
from tests.support.rigs import FAST_SIM


def label(result: dict[str, Any], name: str) -> str:
    value = next(item["value"] for item in result["labels"] if item["name"] == name)
    assert isinstance(value, str), f"label {name} is {value!r}, not text"
    return value


FAULT_TESTS = """
    import pytest

    def test_hang(watch, vela_sim):
        vela_sim.hang()
        watch.shell("ls")

    def test_after_hang(watch):
        assert watch.shell("echo alive-1") == "alive-1\\n"

    def test_unplug(watch, vela_sim):
        vela_sim.unplug()
        watch.shell("ls")

    def test_after_unplug(watch):
        assert watch.shell("echo alive-2") == "alive-2\\n"

    def test_garbage(watch, vela_sim):
        vela_sim.garbage(50_000)
        assert watch.shell("echo alive-3") == "alive-3\\n"

    def test_crash(watch, vela_sim):
        vela_sim.crash()
        watch.console.expect(r"NuttShell \\(NSH\\)", timeout=5)

    def test_after_crash(watch):
        assert watch.shell("echo alive-4") == "alive-4\\n"

    def test_product_failure(watch):
        assert watch.shell("echo 1") == "2\\n"
"""


@pytest.fixture(scope="module")
def fault_run(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[subprocess.CompletedProcess[str], Path]:
    """One pytest run over every fault; the tests below read its output and its reports."""
    root = tmp_path_factory.mktemp("faults")
    return run_project(root, FAULT_TESTS, rig=FAST_SIM, timeout=150), root


def test_a_hung_watch_is_a_watch_hung_naming_prompt_and_log(
    fault_run: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    done, root = fault_run
    line = outcome(done.stdout, "test_hang")
    assert line.startswith("FAILED")
    assert "WatchHung" in line
    assert "did not return to its prompt 'nsh> ' within 3 s" in done.stdout
    # The log is named as the project sees it, not by the machine's whole path.
    assert "full console log: reports/sim/logs/console-" in done.stdout
    failures = done.stdout.split("= FAILURES =")[1].split("short test summary")[0]
    assert str(root) not in failures


def test_a_vanished_port_is_a_serial_lost_with_the_log_kept(
    fault_run: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    done, root = fault_run
    assert "SerialLost" in outcome(done.stdout, "test_unplug")
    assert "the console log up to that moment is kept at" in done.stdout
    logs = list((root / "reports" / "sim" / "logs").glob("console-*.log"))
    assert len(logs) == 1
    assert "port lost" in logs[0].read_text()


def test_a_crash_fails_the_test_naming_the_panic_line(
    fault_run: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    done, _ = fault_run
    line = outcome(done.stdout, "test_crash")
    # Failed once, as the crash (the test's own expect of the boot line was not its undoing).
    assert line.startswith("FAILED") and "WatchCrashed" in line, done.stdout
    assert "ERROR at teardown of test_crash" not in done.stdout
    assert "dump_assert_info: Assertion failed" in done.stdout


def test_the_session_goes_on_after_each_fault(
    fault_run: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    done, _ = fault_run
    for test in ("test_after_hang", "test_after_unplug", "test_garbage", "test_after_crash"):
        assert outcome(done.stdout, test).startswith("PASSED"), done.stdout
    assert outcome(done.stdout, "test_product_failure").startswith("FAILED")


def test_allure_results_carry_rig_status_and_console(
    fault_run: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    _, root = fault_run
    results_dir = root / "reports" / "sim" / "allure-results"
    results = allure_results(root / "reports", "sim")
    assert set(results) == {
        f"{name}[sim]"
        for name in (
            "test_hang",
            "test_after_hang",
            "test_unplug",
            "test_after_unplug",
            "test_garbage",
            "test_crash",
            "test_after_crash",
            "test_product_failure",
        )
    }
    for result in results.values():
        assert label(result, "parentSuite") == "sim"
        assert {"name": "rig", "value": "'sim'"} in result["parameters"]
    assert results["test_hang[sim]"]["status"] == "broken"
    assert results["test_unplug[sim]"]["status"] == "broken"
    assert results["test_crash[sim]"]["status"] == "failed"
    assert results["test_product_failure[sim]"]["status"] == "failed"
    assert results["test_after_hang[sim]"]["status"] == "passed"
    garbage = results["test_garbage[sim]"]
    consoles = [a for a in garbage["attachments"] if a["name"] == "console"]
    assert consoles, garbage["attachments"]
    attached = (results_dir / consoles[0]["source"]).read_text()
    assert "> echo alive-3" in attached
    categories = json.loads((results_dir / "categories.json").read_text())
    infra = next(c for c in categories if c["name"] == "Rig infrastructure")
    assert infra["matchedStatuses"] == ["broken"]
