"""Where the results are: the rigs' results directories under one or several reports roots (a
farm's hosts each bring theirs), what each rig was (``vela-rig.json``), which run wrote them
(``.vela-run``), and how each test came out, counted by the report's categories."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_vela.report.categories import class_of_result
from pytest_vela.report.summary import RIG, Outcome, rig_fault_reason

RIG_FILE = "vela-rig.json"
RESULT_GLOB = "*-result.json"
# The plugin keeps the id of the run that wrote a results directory in it (plugin/run.py).
RUN_FILE = ".vela-run"


@dataclass
class ResultsDir:
    path: Path
    rig: str
    environment: dict[str, str] = field(default_factory=dict)
    run: str = ""  # the id of the run that wrote it (``run_of``)


def _is_results_dir(path: Path) -> bool:
    return (path / RIG_FILE).is_file() or any(path.glob(RESULT_GLOB))


def find_results(paths: Iterable[Path]) -> list[ResultsDir]:
    """Every results directory named or found under the paths given: a results directory
    itself, a reports root (``<root>/<rig>/allure-results``), or anything holding those."""
    found: dict[Path, ResultsDir] = {}
    for path in paths:
        candidates = [path] if _is_results_dir(path) else []
        if not candidates and path.is_dir():
            candidates = sorted(
                p.parent for p in path.rglob(RIG_FILE) if p.parent not in found
            ) or sorted({p.parent for p in path.rglob(RESULT_GLOB)})
        for directory in candidates:
            resolved = directory.resolve()
            if resolved not in found:
                found[resolved] = read_results_dir(directory)
    return list(found.values())


def read_results_dir(path: Path) -> ResultsDir:
    """The directory, its rig and its run: the rig from ``vela-rig.json``, else from the
    results' ``rig`` label, else the directory's name."""
    run = run_of(path)
    try:
        described = json.loads((path / RIG_FILE).read_text(encoding="utf-8"))
        rig = str(described["rig"])
        environment = {str(k): str(v) for k, v in dict(described["environment"]).items()}
        return ResultsDir(path, rig, environment, run)
    except (OSError, ValueError, KeyError, TypeError):
        pass
    for result in results(path):
        found = label(result, "rig")
        if found:
            return ResultsDir(path, found, run=run)
    name = path.parent.name if path.name == "allure-results" else path.name
    return ResultsDir(path, name, run=run)


def run_of(path: Path) -> str:
    """The id of the run that wrote the directory: the one the plugin kept there, else (results
    another tool wrote) one made of its results' file names, which are unique per result."""
    try:
        kept = (path / RUN_FILE).read_text(encoding="utf-8").strip()
    except OSError:
        kept = ""
    if kept:
        return kept
    names = "\n".join(sorted(p.name for p in path.glob(RESULT_GLOB)))
    return "results-" + hashlib.sha256(names.encode()).hexdigest()[:16]


def newest_change(directories: Iterable[ResultsDir]) -> int:
    """The latest change (ns) to the directories or a file in them: a result added, removed
    or rewritten moves it."""
    newest = 0
    for directory in directories:
        newest = max(newest, directory.path.stat().st_mtime_ns)
        for file in directory.path.iterdir():
            newest = max(newest, file.stat().st_mtime_ns)
    return newest


def results(path: Path) -> list[dict[str, Any]]:
    found = []
    for file in sorted(path.glob(RESULT_GLOB)):
        try:
            found.append(json.loads(file.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            continue
    return found


def label(result: dict[str, Any], name: str) -> str | None:
    for item in result.get("labels", []):
        if item.get("name") == name:
            return str(item.get("value"))
    return None


def category_of(result: dict[str, Any]) -> str | None:
    """The category a result falls into, as Allure 3 files it with the report's rules."""
    cls = class_of_result(result)
    return cls.name if cls is not None else None


def outcome_of(result: dict[str, Any], rig: str) -> Outcome:
    cls = class_of_result(result)
    if cls is None:
        return Outcome(rig, str(result.get("status", "unknown")))
    message = (result.get("statusDetails") or {}).get("message") or ""
    return Outcome(rig, cls.key, rig_fault_reason(message) if cls.key == RIG else "")


def latest_results(directories: Iterable[ResultsDir]) -> list[tuple[ResultsDir, dict[str, Any]]]:
    """Each test's result once (by its history id, the latest start wins), as the report
    shows it."""
    latest: dict[str, tuple[ResultsDir, dict[str, Any]]] = {}
    for directory in directories:
        for result in results(directory.path):
            key = str(result.get("historyId") or result.get("uuid"))
            known = latest.get(key)
            if known is None or result.get("start", 0) >= known[1].get("start", 0):
                latest[key] = (directory, result)
    return list(latest.values())
