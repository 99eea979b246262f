"""A user's project made on the fly and run by pytest in a process of its own, as a user runs it:
its outcome lines and what allure-pytest wrote are what the tests read."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from textwrap import dedent
from typing import Any

from tests.support.rigs import FAST_SIM, write_rig


def run_project(
    root: Path, tests: str, *, rig: str = FAST_SIM, timeout: float = 170
) -> subprocess.CompletedProcess[str]:
    """Write ``test_project.py`` and a fast simulated rig under ``root`` and run pytest there,
    with every outcome in the summary (``-rA``) and its lines uncut."""
    (root / "pytest.ini").write_text("[pytest]\n")
    write_rig(root / "rigs", "sim", rig)
    (root / "test_project.py").write_text(dedent(tests))
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-rA", "test_project.py"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "COLUMNS": "300"},
    )


def outcome(output: str, test: str, rig: str = "sim") -> str:
    """The summary lines of ``test`` on ``rig`` (a test may have a call and a teardown line)."""
    lines = [
        line
        for line in output.splitlines()
        if f"::{test}[{rig}]" in line and line.startswith(("PASSED", "FAILED", "ERROR"))
    ]
    assert lines, f"no summary line for {test}:\n{output}"
    return "\n".join(lines)


def allure_results(reports: Path, rig: str = "sim") -> dict[str, dict[str, Any]]:
    """Every test result allure-pytest wrote for ``rig``, by test name without its id."""
    found = {}
    for path in (reports / rig / "allure-results").glob("*-result.json"):
        data = json.loads(path.read_text())
        found[data["name"].split("[")[0]] = data
    return found
