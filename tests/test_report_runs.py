"""One trend point per run: the same run's report built as a directory, as one file and to be
served adds one point to ``history.jsonl``, a new run one more; ``--serve`` serves a report
of unchanged results without rebuilding it; each form has its own default output.

The end-to-end tests build with the pinned Allure 3 (about 2 s a build)."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

from pytest_vela.report import history
from pytest_vela.report.build import DIRECTORY_OUTPUT, SINGLE_FILE_OUTPUT
from pytest_vela.report.sources import find_results
from tests.support.report_results import T0, report, serving, write_run


def _history(path: Path, *uuids: str) -> None:
    path.write_text("".join(json.dumps({"uuid": u, "name": "x"}) + "\n" for u in uuids))


def test_a_run_the_history_holds_gets_a_copy_cut_before_its_point(tmp_path: Path) -> None:
    results = write_run(tmp_path / "sim", "sim", "run-b", ["passed", "failed"])
    runs = history.summarise_runs(find_results([results]))
    assert [(r.run, r.ts, r.rigs) for r in runs] == [
        ("run-b", T0, {"sim": {"passed": 1, "failed": 1}})
    ]
    file = tmp_path / "history.jsonl"
    _history(file, "p-a")
    history.runs_file(file).write_text(
        json.dumps({"run": "run-a", "point": "p-a", "ts": 1.0, "rigs": {"sim": {"passed": 2}}})
        + "\nnot json\n"
    )
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    first = history.plan(file, runs, scratch)  # a new run: Allure extends the real history
    assert first.given == file and [r.run for r in first.new] == ["run-b"]
    assert [r.run for r in first.held] == ["run-a"]
    _history(file, "p-a", "p-b")  # as Allure appends
    history.record(first)
    again = history.plan(file, runs, scratch)  # the same run: a copy without its point
    assert not again.extends and again.given == scratch / "history.jsonl"
    assert [json.loads(line)["uuid"] for line in again.given.read_text().splitlines()] == ["p-a"]
    assert file.read_text().count("\n") == 2
    held = history.held_runs(file)
    assert held["run-b"].point == "p-b" and held["run-b"].summary.rigs == runs[0].rigs


def test_a_run_whose_point_left_the_history_is_not_held(tmp_path: Path) -> None:
    file = tmp_path / "history.jsonl"
    _history(file, "p-b")
    history.runs_file(file).write_text(
        json.dumps({"run": "run-a", "point": "p-a", "ts": 1.0, "rigs": {}}) + "\n"
    )
    assert history.held_runs(file) == {}  # the history was started afresh: run-a counts again


def _points(output: Path) -> int:
    charts = json.loads((output / "widgets" / "charts.json").read_text())["general"]
    return len(next(c for c in charts.values() if c["type"] == "statusDynamics")["data"])


def test_one_point_per_run_whatever_is_built_from_it(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    results = write_run(reports / "sim" / "allure-results", "sim", "run-1", ["passed", "failed"])
    first = report(tmp_path)
    assert first.returncode == 0, first.stderr
    assert "one added for run run-1" in first.stdout
    assert "open it with --serve, or build it with --single-file" in first.stdout
    single = report(tmp_path, "--single-file")
    assert single.returncode == 0, single.stderr
    assert "none added, run run-1 has its point there already" in single.stdout
    assert "--serve" not in single.stdout  # one file opens from file:// as it is
    directory, one_file = reports / DIRECTORY_OUTPUT, reports / SINGLE_FILE_OUTPUT
    assert (directory / "data").is_dir() and (directory / "widgets").is_dir()  # not replaced
    assert (one_file / "index.html").is_file() and not (one_file / "data").exists()
    built = (directory / "index.html").stat().st_mtime_ns
    with serving(tmp_path) as (said, url):
        assert "not rebuilt" in said and "trend:" not in said
        with urllib.request.urlopen(url, timeout=10) as page:
            assert b"pytest-vela" in page.read()
    assert (directory / "index.html").stat().st_mtime_ns == built
    assert len((reports / "history.jsonl").read_text().splitlines()) == 1
    assert _points(directory) == 1

    write_run(results, "sim", "run-2", ["passed", "passed"], start=T0 + 3600)
    with serving(tmp_path) as (said, _url):  # new results: rebuilt before serving
        assert "built in" in said and "one added for run run-2" in said
    assert len((reports / "history.jsonl").read_text().splitlines()) == 2
    assert _points(directory) == 2
    again = report(tmp_path, "-o", str(tmp_path / "elsewhere"))
    assert "none added" in again.stdout and _points(tmp_path / "elsewhere") == 2
    runs = [
        json.loads(line)["run"]
        for line in history.runs_file(reports / "history.jsonl").read_text().splitlines()
    ]
    assert runs == ["run-1", "run-2"]
