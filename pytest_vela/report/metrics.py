"""The runs' metrics: read from each results directory, summed up per run, kept as a trend.

The plugin writes each test's metrics to ``<results dir>/vela-metrics.jsonl``, one JSON object
a line: ``{"run", "rig", "test", "name", "value", "unit", "ts"}`` (its own ``boot_time`` and
``connect_time`` in s, ``send_round_trip`` in ms; users' with any name). Reading is tolerant:
a line that is not such an object (cut short, garbled, a value that is not a finite number)
is skipped and counted, and the command says how many and why. A missing ``run`` or ``rig``
is the directory's.

Each run, rig and metric becomes one point (count, median, min, max); the points of the runs
the trend already holds are kept beside the history in ``history-metrics.jsonl``, one line
each, and a build adds the points of its new runs only (as ``history`` adds one trend point
per run, not per build).
"""

from __future__ import annotations

import json
import math
import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pytest_vela.report.history import json_lines
from pytest_vela.report.sources import ResultsDir

METRICS_FILE = "vela-metrics.jsonl"
REASONS_SHOWN = 3


@dataclass(frozen=True)
class Sample:
    run: str
    rig: str
    name: str
    value: float
    unit: str


@dataclass
class Skipped:
    """The lines of one metrics file that were not metrics: how many, and the first reasons."""

    path: Path
    lines: int = 0
    total: int = 0
    reasons: list[str] = field(default_factory=list)

    def note(self, number: int, why: str) -> None:
        self.lines += 1
        if len(self.reasons) < REASONS_SHOWN:
            self.reasons.append(f"line {number}: {why}")

    def __str__(self) -> str:
        more = ", …" if self.lines > len(self.reasons) else ""
        return (
            f"{self.lines} of {self.total} lines skipped in {self.path} "
            f"({'; '.join(self.reasons)}{more})"
        )


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _sample(line: str, directory: ResultsDir) -> Sample | str:
    """The sample a line holds, or why it holds none."""
    try:
        found = json.loads(line)
    except ValueError:
        return "not JSON"
    if not isinstance(found, dict):
        return "not a JSON object"
    name = found.get("name")
    if not isinstance(name, str) or not name.strip():
        return "no name"
    value = _number(found.get("value"))
    if value is None:
        return f"{name}: its value {found.get('value')!r} is not a finite number"
    unit = found.get("unit", "")
    run, rig = found.get("run") or directory.run, found.get("rig") or directory.rig
    if not isinstance(unit, str) or not isinstance(run, str) or not isinstance(rig, str):
        return f"{name}: run, rig and unit must be strings"
    return Sample(run, rig, name.strip(), value, unit)


def read_samples(dirs: Iterable[ResultsDir]) -> tuple[list[Sample], list[Skipped]]:
    """Every metric of these results directories, and what was skipped, per file."""
    samples: list[Sample] = []
    skipped: list[Skipped] = []
    for directory in dirs:
        path = directory.path / METRICS_FILE
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        bad = Skipped(path)
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            bad.total += 1
            found = _sample(line, directory)
            if isinstance(found, str):
                bad.note(number, found)
            else:
                samples.append(found)
        if bad.lines:
            skipped.append(bad)
    return samples, skipped


@dataclass(frozen=True)
class Point:
    """One run's values of one metric on one rig."""

    run: str
    rig: str
    name: str
    unit: str
    count: int
    median: float
    min: float
    max: float
    ts: float  # when the run began (host clock, s): the trend's order

    def line(self) -> dict[str, Any]:
        return asdict(self)


def points(samples: Sequence[Sample], began: dict[str, float]) -> list[Point]:
    """One point per run, rig and metric (``began``: each run's start, for the order)."""
    groups: dict[tuple[str, str, str], list[Sample]] = {}
    for sample in samples:
        groups.setdefault((sample.run, sample.rig, sample.name), []).append(sample)
    found = []
    for (run, rig, name), group in groups.items():
        values = [s.value for s in group]
        unit = Counter(s.unit for s in group).most_common(1)[0][0]
        found.append(
            Point(
                run,
                rig,
                name,
                unit,
                len(values),
                statistics.median(values),
                min(values),
                max(values),
                began.get(run, 0.0),
            )
        )
    return sorted(found, key=lambda p: (p.ts, p.rig, p.name))


def metrics_file(history: Path) -> Path:
    """``history.jsonl`` → ``history-metrics.jsonl`` beside it."""
    return history.with_name(f"{history.stem}-metrics.jsonl")


def kept_points(history: Path, runs: Iterable[str]) -> list[Point]:
    """The points kept beside the history for these runs (lines that are not points: left
    out)."""
    wanted = set(runs)
    kept = []
    for line in json_lines(metrics_file(history)):
        if line.get("run") not in wanted:
            continue
        try:
            kept.append(
                Point(
                    str(line["run"]),
                    str(line["rig"]),
                    str(line["name"]),
                    str(line.get("unit", "")),
                    int(line["count"]),
                    float(line["median"]),
                    float(line["min"]),
                    float(line["max"]),
                    float(line.get("ts", 0.0)),
                )
            )
        except (KeyError, TypeError, ValueError):
            continue
    return kept


def keep(history: Path, new: Sequence[Point]) -> None:
    """Add the points of a build's new runs beside the history."""
    if not new:
        return
    with metrics_file(history).open("a", encoding="utf-8") as out:
        for point in new:
            out.write(json.dumps(point.line(), sort_keys=True) + "\n")
