"""Figures the benchmarks share: percentiles, median and spread of repeats, verdicts, and the
JSON report under ``reports/bench/`` (git-ignored)."""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def repeats(values: list[float]) -> dict[str, float]:
    """Median of repeated runs, their range, and the largest distance from the median as a
    fraction of it (the spread)."""
    median = statistics.median(values)
    far = max(abs(v - median) for v in values)
    return {
        "median": median,
        "min": min(values),
        "max": max(values),
        "spread": far / median if median else 0.0,
        "n": len(values),
    }


def write_report(name: str, figures: dict[str, Any]) -> Path:
    """``reports/bench/<name>.json``, with when and where it was measured."""
    path = ROOT / "reports" / "bench" / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {"benchmark": name, "measured": time.strftime("%Y-%m-%d %H:%M:%S"), **figures}
    path.write_text(json.dumps(document, indent=2) + "\n")
    return path
