"""Figures: a test's own (``vela_metric``) and those its rig measured while it ran (boot,
connect, send round trip), on its Allure result and in the run's ``vela-metrics.jsonl``."""

from __future__ import annotations

import json

import pytest

from pytest_vela.report.metrics import read_samples
from pytest_vela.report.sources import find_results
from tests.support.rigs import FAST_SIM, write_rig

TESTS = """
import pytest

def test_measures(interconnect, watch, vela_metric):
    watch.reset()  # boot_time
    for n in range(3):
        assert interconnect.send({"n": n}).ok  # send_round_trip, three times
    vela_metric("frames_per_second", 59.5, "fps")

def test_a_bad_figure_is_refused(watch, vela_metric):
    with pytest.raises(ValueError, match="not a finite number"):
        vela_metric("lag", float("nan"), "ms")
    with pytest.raises(ValueError, match="a word such as"):
        vela_metric("two words", 1.0)
"""


def test_figures_land_on_the_result_and_in_the_runs_metrics(pytester: pytest.Pytester) -> None:
    write_rig(pytester.path / "rigs", "sim", FAST_SIM)
    pytester.makepyfile(test_figures=TESTS)
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=2)
    results = pytester.path / "reports" / "sim" / "allure-results"
    lines = [json.loads(line) for line in (results / "vela-metrics.jsonl").read_text().splitlines()]
    measured = [m for m in lines if m["test"].endswith("test_measures[sim]")]
    names = sorted({m["name"] for m in measured})
    assert names == ["boot_time", "connect_time", "frames_per_second", "send_round_trip"], names
    assert {m["unit"] for m in measured if m["name"] == "send_round_trip"} == {"ms"}
    assert len([m for m in measured if m["name"] == "send_round_trip"]) == 3
    assert all(m["rig"] == "sim" and m["run"] and m["value"] > 0 for m in measured)
    run_id = (results / ".vela-run").read_text().strip()
    assert {m["run"] for m in lines} == {run_id}
    written = [json.loads(p.read_text()) for p in results.glob("*-result.json")]
    result = next(r for r in written if r["name"] == "test_measures[sim]")
    parameters = {p["name"]: p for p in result["parameters"]}
    assert parameters["metric frames_per_second"]["value"] == "'59.5 fps'"  # allure's repr
    assert "(median of 3," in parameters["metric send_round_trip"]["value"]
    assert parameters["metric boot_time"]["excluded"] is True  # not part of the history id
    samples, skipped = read_samples(find_results([pytester.path / "reports"]))
    assert not skipped, skipped  # what the plugin writes, the report reads whole
    assert {(s.run, s.rig, s.name, s.unit) for s in samples if s.name == "frames_per_second"} == {
        (run_id, "sim", "frames_per_second", "fps")
    }
