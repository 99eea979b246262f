"""Each test's figures — those its rig measured while it ran (``boot_time`` s, ``connect_time``
s, ``send_round_trip`` ms) and those it recorded with the ``vela_metric`` fixture — on its
Allure result (a parameter per metric: its median, count and range; left out of the test's
history id, so the history still follows the test) and, one JSON object per figure, in
``vela-metrics.jsonl`` beside the rig's results: the run's figures, from which
``pytest-vela report`` draws each metric's trend across runs."""

from __future__ import annotations

import json
import os
import statistics
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import allure
import pytest

from pytest_vela.common.metrics import Metric
from pytest_vela.plugin.record import record_of
from pytest_vela.plugin.run import SESSION
from pytest_vela.report.metrics import METRICS_FILE


@pytest.fixture
def vela_metric(request: pytest.FixtureRequest) -> Callable[..., None]:
    """Record a figure of this test: ``vela_metric(name, value, unit="")`` — ``name`` a word
    (``frames_per_second``), ``value`` a finite number, ``unit`` as the report shall say it
    (``"ms"``, ``"s"``, ``"bytes"``). It lands on the test's Allure result and in the run's
    ``vela-metrics.jsonl``; ``pytest-vela report`` shows its trend across runs."""
    record = record_of(request.node)
    if record is None:
        raise pytest.UsageError("vela_metric is for tests that run on a rig (use rig or watch)")
    session = request.config.stash[SESSION].sessions[record.rig]
    return session.metrics.record


def report(item: pytest.Item, metrics: list[Metric], results: Path, run: str) -> None:
    """The test's figures on its Allure result and in the run's metrics file."""
    record = record_of(item)
    if record is None or not metrics:
        return
    by_name: dict[str, list[Metric]] = defaultdict(list)
    for metric in metrics:
        by_name[metric.name].append(metric)
    for name, taken in by_name.items():
        values = [m.value for m in taken]
        unit = f" {taken[0].unit}" if taken[0].unit else ""
        shown = f"{statistics.median(values):.4g}{unit}"
        if len(values) > 1:
            shown += f" (median of {len(values)}, {min(values):.4g}–{max(values):.4g}{unit})"
        allure.dynamic.parameter(f"metric {name}", shown, excluded=True)
    lines = "".join(
        json.dumps(
            {
                "run": run,
                "rig": record.rig,
                "test": item.nodeid,
                "name": m.name,
                "value": m.value,
                "unit": m.unit,
                "ts": m.ts,
            }
        )
        + "\n"
        for m in metrics
    )
    results.mkdir(parents=True, exist_ok=True)
    # One append per test, short lines: the workers of one run share the file.
    fd = os.open(results / METRICS_FILE, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, lines.encode())
    finally:
        os.close(fd)
