"""The Allure results a run wrote: every file must parse, and each test's status and error."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Outcome:
    """One test's result as Allure has it: ``passed``, ``failed`` (a product failure),
    ``broken`` (a rig fault or any other error) or ``skipped``; the error's class name, as
    the message begins with it (``pytest_vela.errors.WatchCrashed: …``); the message."""

    status: str
    error: str | None
    message: str

    def __str__(self) -> str:
        if self.status == "passed":
            return "passed"
        first = self.message.splitlines()[0] if self.message else ""
        return f"{self.status}: {first[:160]}"


_ERROR = re.compile(r"^(?:[A-Za-z_][\w]*\.)*(?P<name>[A-Za-z_]\w*): ")


def result_files(results_dir: Path) -> list[Path]:
    """Every result and container file of a results directory."""
    return sorted([*results_dir.glob("*-result.json"), *results_dir.glob("*-container.json")])


def unreadable(results_dir: Path) -> dict[str, str]:
    """The result and container files that are not whole JSON objects, with why."""
    bad = {}
    for path in result_files(results_dir):
        try:
            data = json.loads(path.read_text())
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            bad[path.name] = f"{type(exc).__name__}: {exc}"
            continue
        if not isinstance(data, dict) or "uuid" not in data:
            bad[path.name] = f"not an Allure object: {str(data)[:80]}"
    return bad


def outcomes(results_dir: Path) -> dict[str, Outcome]:
    """Each test's outcome by its name without parameters (``test_x`` of ``test_x[sim]``)."""
    found: dict[str, Outcome] = {}
    for path in results_dir.glob("*-result.json"):
        data: dict[str, Any] = json.loads(path.read_text())
        message = (data.get("statusDetails") or {}).get("message") or ""
        match = _ERROR.match(message)
        name = str(data["name"]).split("[")[0]
        found[name] = Outcome(data["status"], match["name"] if match else None, message)
    return found


def results_by_rig(reports: Path) -> dict[str, list[dict[str, Any]]]:
    """Each rig's Allure results under ``reports`` (``<rig>/allure-results``), by rig."""
    found: dict[str, list[dict[str, Any]]] = {}
    for path in reports.glob("*/allure-results/*-result.json"):
        found.setdefault(path.parent.parent.name, []).append(json.loads(path.read_text()))
    return found


def label(result: dict[str, Any], name: str) -> str:
    """The value of a result's label ``name`` (``rig``, ``parentSuite``…)."""
    return next(str(la["value"]) for la in result["labels"] if la["name"] == name)
