"""One trend point per run, not per build.

Allure 3 appends a point to the history (``history.jsonl``) on every ``generate``: building
the directory form, the single file and a served copy of one run would draw that run three
times. Each results directory names the run that wrote it (``.vela-run``, kept there by the
plugin), and the runs each point stands for are kept beside the history, one line per run in
``history-runs.jsonl``: ``{"run", "point", "ts", "rigs": {rig: {status: count}}}``, where
``point`` is the ``uuid`` of Allure's line.

A build whose runs are all held by the history (their points still in it) hands Allure a
temporary copy of the history, cut before the first of those points: the trend it draws is
the one the run's first build drew, and the real history is left as it was. A build with a
run the history does not hold lets Allure extend the real history by one point and notes its
new runs under that point. The pass/fail counts kept per run and rig are the ones the metrics
page draws beside each metric's trend.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_vela.report.sources import ResultsDir, latest_results

STATUSES = ("passed", "failed", "broken", "skipped")


@dataclass
class RunSummary:
    """One run: when it began (host clock, s) and how its tests came out on each rig."""

    run: str
    ts: float
    rigs: dict[str, dict[str, int]] = field(default_factory=dict)

    def line(self, point: str) -> dict[str, Any]:
        return {"run": self.run, "point": point, "ts": self.ts, "rigs": self.rigs}


def summarise_runs(dirs: Iterable[ResultsDir]) -> list[RunSummary]:
    """The runs of these results directories, each with its per-rig status counts."""
    runs: dict[str, RunSummary] = {}
    for directory in dirs:
        found = latest_results([directory])
        counts = Counter(str(result.get("status", "unknown")) for _, result in found)
        starts = [r["start"] / 1000 for _, r in found if isinstance(r.get("start"), int | float)]
        began = min(starts) if starts else directory.path.stat().st_mtime
        summary = runs.setdefault(directory.run, RunSummary(directory.run, began))
        summary.ts = min(summary.ts, began)
        rig = summary.rigs.setdefault(directory.rig, {})
        for status, n in counts.items():
            rig[status] = rig.get(status, 0) + n
    return sorted(runs.values(), key=lambda r: r.ts)


def runs_file(history: Path) -> Path:
    """``history.jsonl`` → ``history-runs.jsonl`` beside it."""
    return history.with_name(f"{history.stem}-runs.jsonl")


def json_lines(path: Path) -> Iterator[dict[str, Any]]:
    """The JSON objects of a JSON-lines file, garbled lines left out (a missing file: none)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return
    for line in text.splitlines():
        try:
            value = json.loads(line)
        except ValueError:
            continue
        if isinstance(value, dict):
            yield value


def _points(history: Path) -> list[str]:
    """The uuid of each of the history's points, in order ("" for a line without one)."""
    return [str(point.get("uuid", "")) for point in json_lines(history)]


@dataclass
class HeldRun:
    summary: RunSummary
    point: str  # the uuid of the history's point that holds it


def held_runs(history: Path) -> dict[str, HeldRun]:
    """The runs the history holds: those noted beside it whose point is still in it."""
    points = set(_points(history))
    held: dict[str, HeldRun] = {}
    for line in json_lines(runs_file(history)):
        run, point, rigs = line.get("run"), line.get("point"), line.get("rigs")
        if not isinstance(run, str) or point not in points or not isinstance(rigs, dict):
            continue
        try:
            counts = {
                str(rig): {str(k): int(v) for k, v in dict(c).items()} for rig, c in rigs.items()
            }
            held[run] = HeldRun(RunSummary(run, float(line.get("ts", 0.0)), counts), str(point))
        except (TypeError, ValueError):
            continue
    return held


@dataclass
class HistoryPlan:
    """Which history Allure reads and extends for one build, and what the build adds."""

    history: Path  # the real history
    given: Path  # the file Allure is given: the history, or a temporary copy of it
    runs: list[RunSummary]  # this build's runs
    new: list[RunSummary]  # those the history does not hold yet: they add one point
    held: list[RunSummary]  # the runs the history holds (before this build)

    @property
    def extends(self) -> bool:
        return bool(self.new)


def plan(history: Path, runs: list[RunSummary], scratch: Path) -> HistoryPlan:
    """How a build of ``runs`` treats the history (``scratch``: a directory for the copy)."""
    held = held_runs(history)
    earlier = [h.summary for h in held.values()]
    new = [r for r in runs if r.run not in held]
    if new or not runs:
        return HistoryPlan(history, history, runs, new, earlier)
    theirs = {held[r.run].point for r in runs}
    kept = []
    for line in history.read_text(encoding="utf-8").splitlines(keepends=True):
        try:
            uuid = json.loads(line).get("uuid")
        except (ValueError, AttributeError):
            uuid = None
        if uuid in theirs:
            break
        kept.append(line)
    copy = scratch / history.name
    copy.write_text("".join(kept), encoding="utf-8")
    return HistoryPlan(history, copy, runs, [], earlier)


def record(chosen: HistoryPlan) -> None:
    """After Allure extended the history: note the build's new runs under its new point."""
    if not chosen.extends:
        return
    points = _points(chosen.history)
    point = points[-1] if points else ""
    if not point:
        return  # Allure added no point (it was told to keep none): nothing to note
    with runs_file(chosen.history).open("a", encoding="utf-8") as out:
        for summary in chosen.new:
            out.write(json.dumps(summary.line(point), sort_keys=True) + "\n")


def point_count(history: Path) -> int:
    return len(_points(history))
