"""The plugin run as a user runs it, by pytester in a process of its own on a user's project
(the ``project`` fixture), and what that run left on disk for the tests to read."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest


def run(project: pytest.Pytester, *args: str) -> pytest.RunResult:
    return project.runpytest_subprocess("-p", "no:cacheprovider", *args, timeout=120)


def allure_results(reports: Path, rig: str) -> dict[str, dict[str, Any]]:
    """Every test result allure-pytest wrote for ``rig``, by test name."""
    results = {}
    for path in (reports / rig / "allure-results").glob("*-result.json"):
        data = json.loads(path.read_text())
        results[data["name"]] = data
    return results


def console_log(project: pytest.Pytester) -> str:
    return "".join(p.read_text() for p in (project.path / "reports" / "sim" / "logs").glob("c*"))
