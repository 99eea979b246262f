"""Pool benchmark: the conformance suite, four copies of it (about 100 tests), run once spread
over a pool of 1, 2 and 4 simulated rigs (``--rig pool:bench -n K``), against the same tests
on one rig in one process.

Run: ``python tests/benchmarks/bench_pools.py [REPEATS]``. For each pool size it prints the
wall time's median and range over REPEATS runs (3 by default, interleaved so that a busy moment
of the machine does not land on one side only), and its ratio to one rig alone. Every run must
pass, and every test must run exactly once (the pool's point: a suite spread, not repeated).
A pool of K rigs starts K simulated watches (each three processes: the watch, its Node.js app
host, a dbus-daemon) and K xdist workers, so on a machine with fewer cores than that the gain
is bound by CPU, not by the rigs' waiting: the figures say the machine's cores and its load.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.benchmarks.figures import repeats, write_report

POOLS = (1, 2, 4)
POOL = "bench"
COPIES = 4  # of the conformance suite: about 100 tests
SUITE = Path(__file__).resolve().parents[2] / "pytest_vela" / "conformance"


def _suite(root: Path) -> list[str]:
    """COPIES copies of the conformance suite as packages of their own under ``root``."""
    names = []
    for n in range(1, COPIES + 1):
        copy = root / f"suite{n}"
        shutil.copytree(SUITE, copy, ignore=shutil.ignore_patterns("__pycache__"))
        names.append(copy.name)
    return names


def run_suite(members: int | None) -> tuple[float, int]:
    """(wall seconds, tests run) of the conformance suite on a pool of ``members`` rigs
    (None: one rig, no pool, no xdist)."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "rigs").mkdir()
        argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:labgrid"]
        if members is None:
            (root / "rigs" / "alone.toml").write_text("kind = 'sim'\n")
            argv += ["--rig", "alone"]
        else:
            for n in range(1, members + 1):
                (root / "rigs" / f"p{n}.toml").write_text(f"kind = 'sim'\npool = '{POOL}'\n")
            argv += ["--rig", f"pool:{POOL}", "-n", str(members)]
        argv += _suite(root)
        started = time.monotonic()
        done = subprocess.run(argv, cwd=root, capture_output=True, text=True)
        wall = time.monotonic() - started
    if done.returncode != 0:
        raise SystemExit(f"the suite failed on a pool of {members}:\n{done.stdout[-3000:]}")
    counts = re.findall(r"(\d+) (passed|skipped)", done.stdout.splitlines()[-1])
    return wall, sum(int(n) for n, _ in counts)


def main(argv: list[str]) -> None:
    runs = int(argv[0]) if argv else 3
    walls: dict[int | None, list[float]] = {}
    tests: dict[int | None, set[int]] = {}
    for _ in range(runs):
        for members in (None, *POOLS):
            seconds, ran = run_suite(members)
            walls.setdefault(members, []).append(seconds)
            tests.setdefault(members, set()).add(ran)
    alone = repeats(walls[None])
    once = tests[None]
    cores = os.cpu_count() or 1
    load = os.getloadavg()[0]
    print(
        f"pool benchmark: {COPIES} copies of the conformance suite spread over simulated rigs "
        f"({cores} cores, load {load:.2f} at the end)"
    )
    print(
        f"  one rig, no xdist: {alone['median']:5.1f} s (range {alone['min']:.1f}–"
        f"{alone['max']:.1f}, medians of {runs}), {'/'.join(map(str, sorted(once)))} tests"
    )
    figures: dict[str, object] = {"cores": cores, "load": load, "runs": runs, "alone_s": alone}
    for members in POOLS:
        wall = repeats(walls[members])
        same = tests[members] == once
        print(
            f"  pool of {members}, -n {members}: {wall['median']:5.1f} s (range {wall['min']:.1f}–"
            f"{wall['max']:.1f}): {wall['median'] / alone['median']:.2f}× one rig; each test "
            f"{'once' if same else 'NOT once: ' + str(sorted(tests[members]))}"
        )
        figures[f"pool_{members}"] = {
            "wall_s": wall,
            "ratio": wall["median"] / alone["median"],
            "tests": sorted(tests[members]),
        }
    path = write_report("pools", figures)
    print(f"  report: {path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}")


if __name__ == "__main__":
    main(sys.argv[1:])
