"""Farm benchmark: 1, 2 and 4 simulated rigs, each running the conformance suite, in parallel
under ``-n K`` (one xdist worker per rig) against one after another (``--rig`` with all of
them in one process, no workers).

Run: ``python tests/benchmarks/bench_farm.py [REPEATS]``. For each K it prints the wall time of
both, the ratio parallel / sequential and the CPU time per rig (user + system of pytest and
everything it started: workers, simulated watches, their app hosts and buses), each the median
over REPEATS runs (3 by default, interleaved so that a busy moment of the machine does not land
on one side only). The goal: four rigs under ``-n 4`` in at most 0.6 × the sequential time.
The runs block labgrid's own pytest plugin (``-p no:labgrid``), as a farm without the labgrid
extra has it; a last line measures four rigs with it loaded, as the labgrid extra brings it
(it costs every pytest process, each worker included, about half a second of CPU).
Each simulated rig is three processes (its watch, the watch's Node.js app host and a
dbus-daemon) besides its worker, so on a machine with fewer cores than rigs the ratio is bound
by CPU, not by the rigs' waiting.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.benchmarks.figures import repeats, verdict, write_report

RIGS = (1, 2, 4)
GOAL = 0.6  # four rigs under -n 4, as a fraction of one after another


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_suite(count: int, parallel: bool, labgrid_plugin: bool = False) -> tuple[float, float]:
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
        if not labgrid_plugin:
            argv += ["-p", "no:labgrid"]
        cpu = _children_cpu()
        started = time.monotonic()
        done = subprocess.run(argv, cwd=root, capture_output=True, text=True)
        wall = time.monotonic() - started
        cpu = _children_cpu() - cpu
        if done.returncode != 0:
            raise SystemExit(f"the suite failed on {count} rig(s):\n{done.stdout[-3000:]}")
        return wall, cpu / count


def _labgrid_installed() -> bool:
    import importlib.util

    return importlib.util.find_spec("labgrid") is not None


def main(argv: list[str]) -> None:
    runs = int(argv[0]) if argv else 3
    walls: dict[tuple[int, bool], list[float]] = {}
    cpus: dict[tuple[int, bool], list[float]] = {}
    with_labgrid: dict[bool, list[tuple[float, float]]] = {}
    for _ in range(runs):
        for count in RIGS:
            for parallel in (False, True):
                wall, cpu = run_suite(count, parallel)
                walls.setdefault((count, parallel), []).append(wall)
                cpus.setdefault((count, parallel), []).append(cpu)
        if _labgrid_installed():
            for parallel in (False, True):
                with_labgrid.setdefault(parallel, []).append(
                    run_suite(max(RIGS), parallel, labgrid_plugin=True)
                )
    cores = os.cpu_count() or 1
    print(f"farm benchmark: simulated rigs, the conformance suite on each ({cores} cores)")
    figures: dict[str, object] = {"cores": cores, "runs": runs}
    ratios = {}
    for count in RIGS:
        seq = repeats(walls[(count, False)])
        par = repeats(walls[(count, True)])
        ratio = par["median"] / seq["median"]
        ratios[count] = ratio
        seq_cpu = repeats(cpus[(count, False)])["median"]
        par_cpu = repeats(cpus[(count, True)])["median"]
        print(
            f"  {count} rig{'s' if count > 1 else ' '}: one after another {seq['median']:5.1f} s, "
            f"-n {count} {par['median']:5.1f} s: ratio {ratio:.2f}  |  CPU per rig "
            f"{seq_cpu:.1f} s one after another, {par_cpu:.1f} s under -n {count}  "
            f"(medians of {runs}; wall spread {seq['spread']:.0%} / {par['spread']:.0%})"
        )
        figures[f"rigs_{count}"] = {
            "sequential_s": seq,
            "parallel_s": par,
            "ratio": ratio,
            "cpu_per_rig_sequential_s": seq_cpu,
            "cpu_per_rig_parallel_s": par_cpu,
        }
    four = ratios[max(RIGS)]
    if with_labgrid:
        seq_w = repeats([w for w, _ in with_labgrid[False]])["median"]
        par_w = repeats([w for w, _ in with_labgrid[True]])["median"]
        par_cpu = repeats([c for _, c in with_labgrid[True]])["median"]
        print(
            f"  {max(RIGS)} rigs with labgrid's pytest plugin loaded: one after another "
            f"{seq_w:5.1f} s, -n {max(RIGS)} {par_w:5.1f} s: ratio {par_w / seq_w:.2f}  |  CPU "
            f"per rig {par_cpu:.1f} s under -n {max(RIGS)}"
        )
        figures["labgrid_plugin"] = {"sequential_s": seq_w, "parallel_s": par_w}
    print(
        f"  goal: {max(RIGS)} rigs under -n {max(RIGS)} in ≤ {GOAL}× the sequential time: "
        f"{verdict(four <= GOAL)} ({four:.2f}×)"
    )
    path = write_report("farm", figures)
    print(f"  report: {path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}")


if __name__ == "__main__":
    main(sys.argv[1:])
