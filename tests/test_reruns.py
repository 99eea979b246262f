"""``--vela-reruns``: a test broken by a rig fault runs again after its rig's recovery, a test
that failed for the product never; both attempts are in the terminal and in Allure."""

from __future__ import annotations

import json

import pytest

from tests.support.rigs import fast_sim_rig, write_rig

TESTS = """
from pathlib import Path

def test_flaky_rig(watch, vela_sim):
    first = Path("attempted")
    if not first.exists():  # the first attempt meets a hung watch: a rig fault
        first.write_text("once")
        vela_sim.hang()
    assert "up" in watch.shell("echo up")

def test_the_product_fails(watch):
    assert watch.shell("echo up") == "down"

def test_after(watch):
    assert "up" in watch.shell("echo up")
"""


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["serial", "xdist"])
def test_a_rig_fault_is_run_again_and_a_product_failure_is_not(
    pytester: pytest.Pytester, workers: list[str]
) -> None:
    write_rig(pytester.path / "rigs", "sim", fast_sim_rig(shell=1))
    pytester.makepyfile(test_flaky=TESTS)
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--vela-reruns", "2", "-rA", *workers
    )
    outcomes = result.parseoutcomes()
    assert outcomes.get("passed") == 2 and outcomes.get("failed") == 1, outcomes
    assert outcomes.get("rerun") == 1, outcomes  # the hung attempt; the product failure never
    assert result.ret == 1  # the product failure
    result.stdout.fnmatch_lines(
        ["*1 product failure, 0 watch crashes, 0 rig faults; 1 test passed after a rerun*"]
    )
    results = pytester.path / "reports" / "sim" / "allure-results"
    written = [json.loads(p.read_text()) for p in results.glob("*-result.json")]
    attempts = sorted(
        (r for r in written if r["name"] == "test_flaky_rig[sim]"), key=lambda r: r["start"]
    )
    assert [r["status"] for r in attempts] == ["broken", "passed"]
    assert attempts[0]["historyId"] == attempts[1]["historyId"]  # one test, two attempts
    tags = [la["value"] for la in attempts[1]["labels"] if la["name"] == "tag"]
    assert "rerun 1 after a rig fault" in tags
    product = [r for r in written if r["name"] == "test_the_product_fails[sim]"]
    assert [r["status"] for r in product] == ["failed"]


def test_no_reruns_unless_asked_and_a_bad_count_is_a_usage_error(
    pytester: pytest.Pytester,
) -> None:
    write_rig(pytester.path / "rigs", "sim", fast_sim_rig(shell=1))
    pytester.makepyfile(test_flaky=TESTS)
    plain = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    assert "rerun" not in plain.parseoutcomes()
    assert plain.ret == 1
    pytester.makeini("[pytest]\nvela_reruns = often\n")
    bad = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    assert bad.ret == pytest.ExitCode.USAGE_ERROR
    bad.stderr.fnmatch_lines(["*vela_reruns = 'often'*--vela-reruns 2*"])
