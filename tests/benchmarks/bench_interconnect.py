"""Interconnect benchmark: the ``interconnect`` fixture's per-test cost with a healthy link, and
the wall time of the whole conformance suite, both against the simulated watch.

Run: ``python tests/benchmarks/bench_interconnect.py``. Each figure is a median over repeated
runs; the goals are issue 4's (fixture overhead ≤ 20 ms, conformance suite ≤ 60 s).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

TESTS = 40
SUITE_RUNS = 3


def fixture_overhead_ms() -> list[float]:
    """Setup time of tests that only take ``interconnect`` (the first, which starts the
    simulated watch and connects, is left out: that is per session, not per test)."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "test_overhead.py").write_text(
            textwrap.dedent(
                f"""
                import pytest

                @pytest.mark.parametrize("n", range({TESTS}))
                def test_noop(interconnect, n):
                    assert interconnect.events is not None
                """
            )
        )
        (root / "conftest.py").write_text(
            textwrap.dedent(
                """
                import json, os

                durations = []

                def pytest_runtest_logreport(report):
                    if report.when == "setup" and report.passed:
                        durations.append(report.duration * 1000)

                def pytest_sessionfinish(session):
                    with open(os.path.join(str(session.config.rootpath), "setup.json"), "w") as f:
                        json.dump(durations, f)
                """
            )
        )
        subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(root)],
            cwd=root,
            check=True,
            capture_output=True,
        )
        import json

        durations: list[float] = json.loads((root / "setup.json").read_text())
    return durations[1:]


def conformance_seconds() -> list[float]:
    times = []
    for _ in range(SUITE_RUNS):
        with tempfile.TemporaryDirectory() as tmp:
            started = time.monotonic()
            done = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "pytest",
                    "-q",
                    "-p",
                    "no:cacheprovider",
                    "--pyargs",
                    "pytest_vela.conformance",
                ],
                cwd=tmp,
                capture_output=True,
                text=True,
            )
            times.append(time.monotonic() - started)
            if done.returncode != 0:
                raise SystemExit(f"the conformance suite failed:\n{done.stdout[-2000:]}")
    return times


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]


def main() -> None:
    overhead = fixture_overhead_ms()
    median = statistics.median(overhead)
    print("interconnect benchmark (simulated watch)")
    print(
        f"  interconnect fixture per-test overhead, healthy link: median {median:.2f} ms, "
        f"p99 {p99(overhead):.2f} ms over {len(overhead)} tests  (goal ≤ 20 ms: "
        f"{'PASS' if median <= 20 else 'MISS'})"
    )
    suite = conformance_seconds()
    median_s = statistics.median(suite)
    print(
        f"  conformance suite wall time (pytest start to exit): median {median_s:.2f} s over "
        f"{len(suite)} runs  (goal ≤ 60 s: {'PASS' if median_s <= 60 else 'MISS'})"
    )


if __name__ == "__main__":
    main()
