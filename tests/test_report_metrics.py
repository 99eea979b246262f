"""A metric's trend in ``pytest-vela report``: the runs' ``vela-metrics.jsonl`` read tolerantly,
one point per run, rig and metric kept beside the history, and a self-contained page that
draws each metric across runs beside the same runs' pass/fail counts.

The plugin's side (the ``vela_metric`` fixture, its own metrics) lands separately: these
tests write ``vela-metrics.jsonl`` as the plugin will. The end-to-end test builds with the
pinned Allure 3."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from pytest_vela.report import metrics
from pytest_vela.report.build import METRICS_PAGE
from pytest_vela.report.history import RunSummary
from pytest_vela.report.metrics_page import render_page
from pytest_vela.report.scrub import third_party_requests
from pytest_vela.report.sources import find_results
from tests.support.report_results import T0, report, write_run

SVG = "{http://www.w3.org/2000/svg}"


def _metric(name: str, value: Any, unit: str = "s", **more: Any) -> dict[str, Any]:
    return {"name": name, "value": value, "unit": unit, "test": "t.py::test_x[sim]", **more}


def test_garbled_lines_are_skipped_and_counted(tmp_path: Path) -> None:
    lines: list[dict[str, Any] | str] = [
        _metric("boot_time", 1.5, run="run-1", rig="sim", ts=T0),
        '{"name": "boot_time", "value": 1.',  # cut short
        "[1, 2]",
        json.dumps(_metric("", 3)),
        json.dumps(_metric("connect_time", True)),
        json.dumps(_metric("connect_time", "0.4")),
        '{"name": "connect_time", "value": NaN}',
        _metric("connect_time", 0.25),  # no run, no rig: the directory's
        "",
        _metric("boot_time", 2.5, run="run-1", rig="sim"),
    ]
    results = write_run(tmp_path / "sim", "sim", "run-1", ["passed"], metrics=lines)
    samples, skipped = metrics.read_samples(find_results([results]))
    assert [(s.run, s.rig, s.name, s.value, s.unit) for s in samples] == [
        ("run-1", "sim", "boot_time", 1.5, "s"),
        ("run-1", "sim", "connect_time", 0.25, "s"),
        ("run-1", "sim", "boot_time", 2.5, "s"),
    ]
    [bad] = skipped
    assert (bad.lines, bad.total) == (6, 9)
    said = str(bad)
    assert said.startswith("6 of 9 lines skipped in ") and "vela-metrics.jsonl" in said
    assert "line 2: not JSON" in said and "line 3: not a JSON object" in said
    assert "line 4: no name" in said and said.endswith(", …)")  # the first three reasons


def test_each_run_rig_and_metric_is_one_point() -> None:
    samples = [
        metrics.Sample("r1", "sim", "send_round_trip", value, "ms") for value in (30, 10, 20, 90)
    ]
    samples.append(metrics.Sample("r1", "w1", "send_round_trip", 5, "ms"))
    found = metrics.points(samples, {"r1": T0})
    assert [(p.rig, p.count, p.median, p.min, p.max, p.ts) for p in found] == [
        ("sim", 4, 25, 10, 90, T0),
        ("w1", 1, 5, 5, 5, T0),
    ]


def _page_points(page: str) -> list[ET.Element]:
    found = []
    for chart in re.findall(r"<svg.*?</svg>", page, re.S):
        svg = ET.fromstring(chart)
        found += [g for g in svg.iter(f"{SVG}g") if g.get("class") == "point"]
    return found


def test_the_page_draws_each_runs_point_beside_its_tests() -> None:
    runs = [
        RunSummary("r1", T0, {"sim": {"passed": 3, "failed": 1}}),
        RunSummary("r2", T0 + 60, {"sim": {"passed": 4}}),
        RunSummary("r3", T0 + 120, {"sim": {"broken": 4}}),  # no boot: no metric
    ]
    found = [
        metrics.Point("r1", "sim", "boot_time", "s", 4, 1.5, 1.2, 2.0, T0),
        metrics.Point("r2", "sim", "boot_time", "s", 4, 1.8, 1.7, 2.2, T0 + 60),
    ]
    page = render_page("nightly", runs, found)
    points = _page_points(page)
    assert [g.get("data-run") for g in points] == ["r1", "r2"]
    tip = "".join(points[0].find(f"{SVG}title").itertext())  # type: ignore[union-attr]
    assert "median 1.5 s, min 1.2, max 2, 4 value(s)" in tip
    tests = re.findall(r'<g class="tests"><title>([^<]*)</title>', page)
    assert len(tests) == 3  # a column per run, the run without the metric too
    assert "3 passed, 1 failed, 0 broken" in tests[0] and "4 broken" in tests[2]
    assert "+20.0 %" in page  # the latest median against the run before
    assert "<script" not in page and "http://" not in page.replace(SVG[1:-1], "")


def test_metrics_trend_one_point_per_run_in_the_report(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    results = reports / "sim" / "allure-results"
    first = [_metric("boot_time", v, run="run-1", rig="sim", ts=T0) for v in (1.0, 2.0, 3.0)]
    write_run(results, "sim", "run-1", ["passed", "failed"], metrics=[*first, "garbled"])
    built = report(tmp_path)
    assert built.returncode == 0, built.stderr
    assert "metrics: 1 of 4 lines skipped in reports/sim/allure-results/vela-metrics.jsonl" in (
        built.stdout
    )
    page = reports / "allure-report" / METRICS_PAGE
    assert f"metrics: {page.relative_to(tmp_path)} — 1 metric (boot_time) on sim, 1 run" in (
        built.stdout
    )
    assert report(tmp_path, "--single-file").returncode == 0  # the same run again: no point
    second = [_metric("boot_time", v, unit="s", run="run-2", rig="sim") for v in (4.0, 6.0)]
    second.append(_metric("my_fps", 58, unit="fps", run="run-2", rig="sim"))
    write_run(results, "sim", "run-2", ["passed", "passed"], start=T0 + 3600, metrics=second)
    assert report(tmp_path).returncode == 0
    kept = (reports / "history-metrics.jsonl").read_text().splitlines()
    assert sorted(
        (line["run"], line["name"], line["median"]) for line in map(json.loads, kept)
    ) == [
        ("run-1", "boot_time", 2.0),
        ("run-2", "boot_time", 5.0),
        ("run-2", "my_fps", 58),
    ]
    html = page.read_text()
    boot = html.split('id="m-sim-boot_time"', 1)[1].split("</svg>", 1)[0] + "</svg>"
    assert [g.get("data-run") for g in _page_points(boot)] == ["run-1", "run-2"]
    assert re.findall(r'<g class="tests"><title>[^<]*?(\d+ passed, \d+ failed)', boot) == [
        "1 passed, 1 failed",
        "2 passed, 0 failed",
    ]
    assert third_party_requests(page.parent) == []
    single = reports / "allure-report-single-file" / METRICS_PAGE
    assert [g.get("data-run") for g in _page_points(single.read_text())] == ["run-1"]
