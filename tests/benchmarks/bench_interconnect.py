"""Interconnect benchmark: the per-test cost of the ``interconnect`` and ``peer`` fixtures with a
healthy link (``peer`` both at the agent and at an app under test, the ping-pong example built
by the vendor toolkit), and the wall time of the whole conformance suite, all against the
simulated watch.

Run: ``python tests/benchmarks/bench_interconnect.py [RPK]`` (RPK: an app under test already
built; without it the example is built, which needs Node.js). Each figure is a median over
repeated runs; the goals: fixture overhead ≤ 20 ms, conformance suite ≤ 60 s.
"""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

TESTS = 40
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "pingpong-app"
SUITE_RUNS = 3
GOAL_MS = 20.0  # a test's cost beyond its own body, with a healthy link
PING = 'peer.send({"op": "ping", "n": n}); assert peer.expect_message(timeout=5)["op"] == "pong"'


def per_test_ms(fixture: str, body: str, *args: str) -> list[float]:
    """Wall time of each test that takes only ``fixture`` and runs ``body``, from pytest's
    start of the test to its end (set-up, body, teardown and what the plugin does around
    them, reports included); the first test, which starts the simulated watch and connects,
    is left out: that is per session, not per test. ``args`` go to pytest."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "test_overhead.py").write_text(
            textwrap.dedent(
                f"""
                import pytest

                @pytest.mark.parametrize("n", range({TESTS}))
                def test_one({fixture}, n):
                    {body}
                """
            )
        )
        (root / "conftest.py").write_text(
            textwrap.dedent(
                """
                import json, os, time

                began, took = {}, []

                def pytest_runtest_logstart(nodeid):
                    began[nodeid] = time.perf_counter()

                def pytest_runtest_logfinish(nodeid):
                    took.append((time.perf_counter() - began[nodeid]) * 1000)

                def pytest_sessionfinish(session):
                    with open(os.path.join(str(session.config.rootpath), "took.json"), "w") as f:
                        json.dump(took, f)
                """
            )
        )
        subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args, str(root)],
            cwd=root,
            check=True,
            capture_output=True,
        )
        took: list[float] = json.loads((root / "took.json").read_text())
    return took[1:]


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


def app_under_test(argv: list[str], tmp: Path) -> Path:
    """The rpk named on the command line, else the ping-pong example built into ``tmp``."""
    if argv:
        return Path(argv[0]).resolve()
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from tests.support.aiot import build_project

    project = tmp / "pingpong-app"
    shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns("build", "dist", "tests"))
    built = build_project(project)
    if not built.ok or built.rpk_path is None:
        raise SystemExit(f"the example did not build:\n{built.output}")
    return built.rpk_path


def print_figure(what: str, took: list[float], goal_ms: float | None = None) -> None:
    median = statistics.median(took)
    goal = (
        ""
        if goal_ms is None
        else (f"  (goal ≤ {goal_ms:g} ms: {'PASS' if median <= goal_ms else 'MISS'})")
    )
    print(f"  {what}: median {median:.2f} ms, p99 {p99(took):.2f} ms over {len(took)} tests{goal}")


def main(argv: list[str]) -> None:
    print("interconnect benchmark (simulated watch), per test, start to end")
    noop = "assert {} is not None"
    print_figure(
        "interconnect, a test that does nothing",
        per_test_ms("interconnect", noop.format("interconnect")),
        GOAL_MS,
    )
    print_figure(
        "peer at the agent, a test that does nothing",
        per_test_ms("peer", noop.format("peer")),
        GOAL_MS,
    )
    with tempfile.TemporaryDirectory() as tmp:
        rpk = app_under_test(argv, Path(tmp))
        app = f"--vela-app={rpk}"
        print_figure(
            f"peer at {rpk.name} (--vela-app), a test that does nothing",
            per_test_ms("peer", noop.format("peer"), app),
            GOAL_MS,
        )
        print_figure(
            f"peer at {rpk.name}, one ping answered (a test that touched the link waits "
            "until the watch says the app has settled)",
            per_test_ms("peer", PING, app),
        )
    suite = conformance_seconds()
    median_s = statistics.median(suite)
    print(
        f"  conformance suite wall time (pytest start to exit): median {median_s:.2f} s over "
        f"{len(suite)} runs  (goal ≤ 60 s: {'PASS' if median_s <= 60 else 'MISS'})"
    )


if __name__ == "__main__":
    main(sys.argv[1:])
