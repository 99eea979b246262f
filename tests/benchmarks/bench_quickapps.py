"""Quick-app benchmark: launching an app on the simulated watch, and what the alternative
design (a node process per app) would cost.

Run: ``python tests/benchmarks/bench_quickapps.py``. Figures (medians, goals beside them):
- launch: ``watch.launch(package)`` of the shipped agent, from ``am start`` written to the
  prompt after ``Start main loop`` (the app loaded in the watch's running node host, its life
  cycle run), over a real pty with unmodified pyserial; goal ≤ 5 ms;
- node host cold start: spawning node with the host and its ``ready`` line (the floor of a
  launch if every app had a process of its own).
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from pytest_vela.rig.factory import open_watch
from pytest_vela.rigfile.loader import Rig
from pytest_vela.rigfile.schema import RigSettings
from pytest_vela.sim.quickapp.host import NodeAppHost, find_node

LAUNCHES = 30
COLD_STARTS = 10
PACKAGE = "com.vela.agent"


def launch_ms() -> list[float]:
    settings = RigSettings.model_validate({"kind": "sim", "sim": {"boot_ms": 20}})
    with (
        tempfile.TemporaryDirectory() as tmp,
        open_watch(Rig("sim", settings, None), Path(tmp)) as watch,
    ):
        times = []
        for _ in range(LAUNCHES):
            started = time.perf_counter()
            watch.launch(PACKAGE)
            times.append((time.perf_counter() - started) * 1000)
            watch.stop_app(PACKAGE)
        return times


def cold_start_ms() -> list[float]:
    async def once() -> float:
        host = NodeAppHost(time.monotonic_ns(), lambda _m: None)
        started = time.perf_counter()
        await host.start()
        elapsed = (time.perf_counter() - started) * 1000
        await host.stop()
        return elapsed

    return [asyncio.run(once()) for _ in range(COLD_STARTS)]


def main() -> None:
    if find_node() is None:
        raise SystemExit("Node.js (node) is not on PATH: the simulated watch cannot run apps")
    print("quick-app benchmark (simulated watch)")
    launches = launch_ms()
    median = statistics.median(launches)
    print(
        f"  launch {PACKAGE} (am start to prompt, long-lived node host): median {median:.1f} ms, "
        f"max {max(launches):.1f} ms over {len(launches)} launches  "
        f"(goal ≤ 5 ms: {'PASS' if median <= 5 else 'MISS'})"
    )
    cold = cold_start_ms()
    print(
        f"  node host cold start (spawn to ready; a process per app would pay it per launch): "
        f"median {statistics.median(cold):.1f} ms over {len(cold)} starts"
    )


if __name__ == "__main__":
    main()
