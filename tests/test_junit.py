"""``--junitxml`` as a CI server reads it (junitparser): each test case of a rig carries its rig,
its category and what the rig ran as properties; a rig fault is an error, a product failure or
a watch crash a failure — under xdist too."""

from __future__ import annotations

from pathlib import Path

import pytest
from junitparser import Error, Failure, JUnitXml, Properties, Skipped, TestCase

from tests.support.rigs import fast_sim_rig, write_rig

TESTS = """
import pytest

def test_passes(watch):
    assert "up" in watch.shell("echo up")

def test_product_fails(watch):
    assert watch.shell("echo up") == "down"

def test_the_watch_crashes(watch, vela_sim):
    vela_sim.crash()
    watch.shell("echo after")

def test_the_rig_hangs(watch, vela_sim):
    vela_sim.hang()
    watch.shell("echo never")

@pytest.fixture
def broken_setup(vela_sim):
    assert False, "a product check in a fixture"

def test_a_product_failure_in_setup(broken_setup):
    pass

def test_skipped(watch):
    pytest.skip("not today")
"""


def _cases(xml: Path) -> dict[str, TestCase]:
    found = {}
    for suite in JUnitXml.fromfile(str(xml)):
        for case in suite:
            found[case.name.split("[")[0]] = case
    return found


def _properties(case: TestCase) -> dict[str, str]:
    found = case.child(Properties)
    return {p.name: p.value for p in found} if found is not None else {}


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["serial", "xdist"])
def test_each_case_carries_its_rig_category_and_identity(
    pytester: pytest.Pytester, workers: list[str]
) -> None:
    write_rig(pytester.path / "rigs", "sim", fast_sim_rig(shell=1))
    pytester.makepyfile(test_junit=TESTS)
    xml = pytester.path / "junit.xml"
    pytester.runpytest_subprocess("-p", "no:cacheprovider", f"--junitxml={xml}", *workers)
    cases = _cases(xml)

    def result(name: str) -> type | None:
        kinds = [type(r) for r in cases[name].result]
        return kinds[0] if kinds else None

    expected = {
        "test_passes": ("passed", None),
        "test_product_fails": ("product failure", Failure),
        "test_the_watch_crashes": ("watch crash", Failure),
        "test_the_rig_hangs": ("rig fault", Error),
        "test_a_product_failure_in_setup": ("product failure", Failure),  # not pytest's error
        "test_skipped": ("skipped", Skipped),
    }
    for name, (category, kind) in expected.items():
        properties = _properties(cases[name])
        assert properties["rig"] == "sim", (name, properties)
        assert properties["category"] == category, (name, properties)
        assert result(name) is kind, (name, cases[name].result)
    identity = _properties(cases["test_passes"])
    assert len(identity["firmware"]) == 64  # the image's SHA-256
    assert identity["os"].startswith("NuttX")
    suites = list(JUnitXml.fromfile(str(xml)))
    assert sum(s.errors for s in suites) == 1  # the rig fault only
    assert sum(s.failures for s in suites) == 3
