"""Pools of identical rigs: ``--rig pool:NAME`` runs each test once, on whichever rig of the pool
is free — one rig without xdist, a rig per worker under it — and names the rig that ran it in
Allure and JUnit; a rig that cannot come up is passed over for the next, and a pool with no rig
left ends the run with exit 10, saying so."""

from __future__ import annotations

import pytest
from junitparser import JUnitXml, Properties

from tests.support.allure_results import label, results_by_rig
from tests.support.rigs import FAST_SIM, write_rig

TESTS = "\n".join(
    f"def test_{n}(watch):\n    assert 'up' in watch.shell('echo up')\n" for n in range(6)
)
DEAD = """
kind = "hardware"
pool = "desks"
[serial]
port = "/dev/ttyNONE-{name}"
[ble]
name = "Vela-gone"
[timeouts]
boot = 1
shell = 1
"""


def _pool(pytester: pytest.Pytester, *members: str, dead: tuple[str, ...] = ()) -> None:
    for name in members:
        write_rig(pytester.path / "rigs", name, 'pool = "desks"\n' + FAST_SIM)
    for name in dead:
        write_rig(pytester.path / "rigs", name, DEAD.format(name=name))
    pytester.makepyfile(test_pooled=TESTS)


@pytest.mark.parametrize(
    ("workers", "rigs_used"), [([], {"desk-a"}), (["-n", "2"], {"desk-a", "desk-b"})]
)
def test_each_test_runs_once_on_a_rig_of_the_pool(
    pytester: pytest.Pytester, workers: list[str], rigs_used: set[str]
) -> None:
    _pool(pytester, "desk-a", "desk-b")
    xml = pytester.path / "junit.xml"
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--rig", "pool:desks", f"--junitxml={xml}", *workers
    )
    result.assert_outcomes(passed=6)
    results = results_by_rig(pytester.path / "reports")
    assert set(results) == rigs_used  # without xdist the first rig runs them all
    assert sum(len(r) for r in results.values()) == 6  # once each
    for rig, written in results.items():
        assert all(label(r, "rig") == rig for r in written)  # filed under the rig that ran it
    ran = set()
    for suite in JUnitXml.fromfile(str(xml)):
        for case in suite:
            properties = {p.name: p.value for p in case.child(Properties)}
            assert "[pool:desks]" in case.name
            ran.add(properties["rig"])
    assert ran == rigs_used


def test_a_rig_that_cannot_come_up_is_passed_over(pytester: pytest.Pytester) -> None:
    _pool(pytester, "desk-b", dead=("desk-a",))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--rig", "pool:desks")
    result.assert_outcomes(passed=6)
    result.stdout.fnmatch_lines(["*desk-a down: SerialLost*its pool goes on*"])
    assert set(results_by_rig(pytester.path / "reports")) == {"desk-b"}


def test_a_pool_with_no_rig_left_ends_the_run_with_exit_10(pytester: pytest.Pytester) -> None:
    _pool(pytester, dead=("desk-a", "desk-b"))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--rig", "pool:desks")
    result.assert_outcomes(skipped=6)
    assert result.ret == 10
    result.stdout.fnmatch_lines(["*pool 'desks' has no rig left for this worker (desk-a: *"])


def test_an_unknown_pool_and_too_many_workers_are_usage_errors(pytester: pytest.Pytester) -> None:
    _pool(pytester, "desk-a", "desk-b")
    unknown = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--rig", "pool:benches")
    assert unknown.ret == pytest.ExitCode.USAGE_ERROR
    unknown.stderr.fnmatch_lines(["*no rig file in * says pool = 'benches'*"])
    crowded = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--rig", "pool:desks", "-n", "3"
    )
    assert crowded.ret == pytest.ExitCode.USAGE_ERROR
    crowded.stderr.fnmatch_lines(["*-n 3: pool 'desks' has 2 rig(s)*give -n 2 or fewer*"])


def test_a_pool_and_a_named_rig_share_a_run(pytester: pytest.Pytester) -> None:
    _pool(pytester, "desk-a", "desk-b")
    write_rig(pytester.path / "rigs", "solo", FAST_SIM)
    run = ("-p", "no:cacheprovider", "--rig", "pool:desks,solo")
    # Each worker holds a rig of the pool, whichever other rig it runs.
    result = pytester.runpytest_subprocess(*run, "-n", "2")
    result.assert_outcomes(passed=12)  # once on the pool, once on solo
    results = results_by_rig(pytester.path / "reports")
    assert len(results.pop("solo")) == 6
    assert set(results) <= {"desk-a", "desk-b"}
    assert sum(len(r) for r in results.values()) == 6
    # A third worker would hold no rig of the pool: refused, whatever else the run names.
    crowded = pytester.runpytest_subprocess(*run, "-n", "3")
    assert crowded.ret == pytest.ExitCode.USAGE_ERROR
    crowded.stderr.fnmatch_lines(["*-n 3: pool 'desks' has 2 rig(s)*give -n 2 or fewer*"])
