"""Results directories as the plugin leaves them, written by hand for the report command's
tests: Allure results with a ``rig`` label, ``vela-rig.json``, the run's id in ``.vela-run``
and, when asked, the run's metrics in ``vela-metrics.jsonl``."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

T0 = 1_800_000_000.0  # the first run's start (host clock, s)


def write_run(
    results: Path,
    rig: str,
    run: str,
    statuses: Sequence[str],
    *,
    start: float = T0,
    metrics: Sequence[dict[str, Any] | str] = (),
) -> Path:
    """``results`` emptied and filled with one run's results: a test per status given
    (``test_0`` …), and its metrics (objects as JSON lines, strings as they are)."""
    if results.exists():
        for file in results.iterdir():
            file.unlink()
    results.mkdir(parents=True, exist_ok=True)
    (results / ".vela-run").write_text(run + "\n")
    environment = {"rig": rig, "rig.kind": "sim"}
    (results / "vela-rig.json").write_text(json.dumps({"rig": rig, "environment": environment}))
    for n, status in enumerate(statuses):
        name = f"test_{n}[{rig}]"
        result = {
            "uuid": str(uuid.uuid4()),
            "historyId": f"{rig}-{n}",
            "testCaseId": f"{rig}-{n}",
            "name": name,
            "fullName": f"test_x#{name}",
            "status": status,
            "stage": "finished",
            "start": int((start + n) * 1000),
            "stop": int((start + n + 0.5) * 1000),
            "labels": [{"name": "rig", "value": rig}, {"name": "parentSuite", "value": rig}],
        }
        (results / f"{result['uuid']}-result.json").write_text(json.dumps(result))
    if metrics:
        lines = [m if isinstance(m, str) else json.dumps(m) for m in metrics]
        (results / "vela-metrics.jsonl").write_text("\n".join(lines) + "\n")
    return results


def report(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``pytest-vela report ARGS`` run in ``root``."""
    return subprocess.run(
        [sys.executable, "-m", "pytest_vela.cli", "report", *args],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=600,
    )


@contextmanager
def serving(root: Path, *args: str) -> Iterator[tuple[str, str]]:
    """``pytest-vela report --serve ARGS`` running in ``root``: (what it printed up to the
    URL, the URL); ended when the block ends."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "pytest_vela.cli", "report", "--serve", *args],
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert proc.stdout is not None
        said = ""
        while "serving the report at" not in said:
            line = proc.stdout.readline()
            assert line, f"the command ended without serving:\n{said}"
            said += line
        url = re.search(r"http://127\.0\.0\.1:\d+/", said)
        assert url, said
        yield said, url.group(0)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if proc.stdout is not None:
            proc.stdout.close()
