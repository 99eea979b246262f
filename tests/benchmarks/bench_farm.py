"""Farm benchmark: 1, 2 and 4 simulated rigs, each running the conformance suite, in parallel
under ``-n K`` (one xdist worker per rig) against one after another (``--rig`` with all of
them in one process, no workers). The 1-rig row is the cost of xdist itself: ``-n 1`` against
the same run without it.

Run: ``python tests/benchmarks/run_all.py farm`` or ``python tests/benchmarks/bench_farm.py
[REPEATS]``. For each K it prints the wall time of both, the ratio parallel / sequential and
the CPU time per rig (user + system of pytest and everything it started: workers, simulated
watches, their app hosts and buses), each the median over REPEATS runs (3 by default) with
their range (min–max). The runs alternate — every configuration once, then again — so that a
busy moment of a shared machine lands on all of them, not on one side; the load average at
start and end is printed with them. The ratio's range comes from the pairs of one round.
The goal: four rigs under ``-n 4`` in at most 0.6 × the sequential time.

The runs block the pytest plugins that the labgrid and dev extras install (``-p no:labgrid -p
no:hypothesispytest``), as a farm with the ``farm`` extra alone has it: each costs every pytest
process, each worker included — labgrid's about half a second of CPU at start, hypothesis's
about 0.15 s at the end (its terminal summary imports all of hypothesis, uncached when
``PYTHONDONTWRITEBYTECODE`` is set). A last row measures four rigs with both loaded.
Each simulated rig is three processes (its watch, the watch's Node.js app host and a
dbus-daemon) besides its worker, so on a machine with fewer cores than rigs the ratio is bound
by CPU while the workers and watches start (the start-up line: each worker's Python, pytest,
plugins and collection, each watch's process and Node.js), and by the suite's own waits after
that.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.benchmarks.farm_startup import children_cpu, watch_start_cpu, worker_start_cpu
from tests.benchmarks.figures import repeats, verdict, write_report

RIGS = (1, 2, 4)
GOAL = 0.6  # four rigs under -n 4, as a fraction of one after another
# The labgrid and dev extras' pytest plugins, blocked as a farm without those extras has them.
EXTRA_PLUGINS = ("labgrid", "hypothesispytest")


def run_suite(count: int, parallel: bool, extra_plugins: bool = False) -> tuple[float, float]:
    """(wall seconds, CPU seconds per rig) of one run of the conformance suite on ``count``
    simulated rigs."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        names = [f"s{i}" for i in range(1, count + 1)]
        (root / "rigs").mkdir()
        for name in names:
            (root / "rigs" / f"{name}.toml").write_text("kind = 'sim'\n")
        argv = [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--rig",
            ",".join(names),
            "--pyargs",
            "pytest_vela.conformance",
        ]
        if parallel:
            argv += ["-n", str(count)]
        if not extra_plugins:
            for plugin in EXTRA_PLUGINS:
                argv += ["-p", f"no:{plugin}"]
        cpu = children_cpu()
        started = time.monotonic()
        done = subprocess.run(argv, cwd=root, capture_output=True, text=True)
        wall = time.monotonic() - started
        cpu = children_cpu() - cpu
        if done.returncode != 0:
            raise SystemExit(f"the suite failed on {count} rig(s):\n{done.stdout[-3000:]}")
        return wall, cpu / count


def _extras_installed() -> bool:
    import importlib.util

    return any(importlib.util.find_spec(name) is not None for name in ("labgrid", "hypothesis"))


def _range(figure: dict[str, float], unit: str = " s", digits: int = 1) -> str:
    """A median with its range: ``11.8 s (11.2–12.4)``."""
    return (
        f"{figure['median']:.{digits}f}{unit} "
        f"({figure['min']:.{digits}f}–{figure['max']:.{digits}f})"
    )


def _load() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def main(argv: list[str]) -> None:
    runs = int(argv[0]) if argv else 3
    walls: dict[tuple[int, bool], list[float]] = {}
    cpus: dict[tuple[int, bool], list[float]] = {}
    with_extras: dict[bool, list[tuple[float, float]]] = {}
    starts: dict[str, list[float]] = {}
    load_before = _load()
    for _ in range(runs):
        for _twice in range(2):
            starts.setdefault("worker", []).append(worker_start_cpu(EXTRA_PLUGINS))
            starts.setdefault("bare", []).append(worker_start_cpu(EXTRA_PLUGINS, vela=False))
            starts.setdefault("watch", []).append(watch_start_cpu())
        for count in RIGS:
            for parallel in (False, True):
                wall, cpu = run_suite(count, parallel)
                walls.setdefault((count, parallel), []).append(wall)
                cpus.setdefault((count, parallel), []).append(cpu)
        if _extras_installed():
            for parallel in (False, True):
                with_extras.setdefault(parallel, []).append(
                    run_suite(max(RIGS), parallel, extra_plugins=True)
                )
    cores = os.cpu_count() or 1
    print(
        f"farm benchmark: simulated rigs, the conformance suite on each ({cores} cores; "
        f"load average {load_before} at the start, {_load()} at the end; medians of {runs} "
        "alternated runs, (min–max))"
    )
    figures: dict[str, object] = {"cores": cores, "runs": runs, "load": [load_before, _load()]}
    ratios = {}
    for count in RIGS:
        seq = repeats(walls[(count, False)])
        par = repeats(walls[(count, True)])
        rounds = zip(walls[(count, True)], walls[(count, False)], strict=True)
        pairs = repeats([p / q for p, q in rounds])
        ratio = par["median"] / seq["median"]
        ratios[count] = ratio
        seq_cpu = repeats(cpus[(count, False)])
        par_cpu = repeats(cpus[(count, True)])
        without = "no xdist" if count == 1 else "one after another"
        print(
            f"  {count} rig{'s' if count > 1 else ' '}: {without} {_range(seq)}, -n {count} "
            f"{_range(par)}: ratio {ratio:.2f} (rounds {pairs['min']:.2f}–{pairs['max']:.2f})"
            f"  |  CPU per rig {_range(seq_cpu, digits=2)} {without}, {_range(par_cpu, digits=2)} "
            f"under -n {count}"
        )
        figures[f"rigs_{count}"] = {
            "sequential_s": seq,
            "parallel_s": par,
            "ratio": ratio,
            "ratio_rounds": pairs,
            "cpu_per_rig_sequential_s": seq_cpu,
            "cpu_per_rig_parallel_s": par_cpu,
        }
    worker, bare, watch = (repeats(starts[key]) for key in ("worker", "bare", "watch"))
    print(
        f"  start-up, CPU: a worker up to its first test {_range(worker, digits=2)} (pytest and "
        f"the other plugins alone {_range(bare, digits=2)}), a simulated watch "
        f"{_range(watch, digits=2)}"
    )
    figures["start_cpu_s"] = {"worker": worker, "without_pytest_vela": bare, "watch": watch}
    four = ratios[max(RIGS)]
    if with_extras:
        seq_w = repeats([w for w, _ in with_extras[False]])
        par_w = repeats([w for w, _ in with_extras[True]])
        par_cpu = repeats([c for _, c in with_extras[True]])
        print(
            f"  {max(RIGS)} rigs with the labgrid and dev extras' pytest plugins loaded "
            f"({', '.join(EXTRA_PLUGINS)}): one after another {_range(seq_w)}, -n {max(RIGS)} "
            f"{_range(par_w)}: ratio {par_w['median'] / seq_w['median']:.2f}  |  CPU per rig "
            f"{_range(par_cpu, digits=2)} under -n {max(RIGS)}"
        )
        figures["extra_plugins"] = {
            "sequential_s": seq_w,
            "parallel_s": par_w,
            "cpu_per_rig_parallel_s": par_cpu,
        }
    print(
        f"  goal: {max(RIGS)} rigs under -n {max(RIGS)} in ≤ {GOAL}× the sequential time: "
        f"{verdict(four <= GOAL)} ({four:.2f}×)"
    )
    path = write_report("farm", figures)
    print(f"  report: {path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}")


if __name__ == "__main__":
    main(sys.argv[1:])
