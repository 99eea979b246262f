"""BLE link benchmark: unmodified bleak against the simulated watch on a private bus.

Run: ``python tests/benchmarks/bench_link.py`` (``--json`` for machine-readable output).
Figures: write→notify round trip, notifications per second, connect time once the watch is
known, and a 20 KB message's transfer time; each as median and p99 over repeated runs.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from pytest_vela.common.loop import LoopThread
from pytest_vela.link.client import LinkClient
from pytest_vela.link.trace import LinkTrace
from pytest_vela.rig.private_bus import PrivateBus
from pytest_vela.rigfile.schema import BleSettings
from tests.link.watchproc import WATCH_NAME, EchoWatchProcess

GOALS = {
    "round_trip_ms": ("≤", 2.0),
    "notifications_per_s": ("≥", 10_000.0),
    "connect_ms": ("≤", 50.0),
}


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def summary(values: list[float]) -> dict[str, float]:
    return {"median": statistics.median(values), "p99": pct(values, 99), "n": len(values)}


def run(
    round_trips: int = 2000, floods: int = 5, connects: int = 30, big: int = 30
) -> dict[str, dict[str, float]]:
    bus = PrivateBus()
    os.environ["DBUS_SYSTEM_BUS_ADDRESS"] = bus.start()
    assert bus.address is not None
    watch = EchoWatchProcess(bus.address)
    loop = LoopThread()
    inbox: queue.Queue[bytes] = queue.Queue()
    client = LinkClient(BleSettings(name=WATCH_NAME), LinkTrace(), loop, inbox.put, lambda ts: None)
    results: dict[str, dict[str, float]] = {}
    try:
        t = time.perf_counter()
        client.connect(timeout=30)
        results["first_connect_with_scan_ms"] = {"median": (time.perf_counter() - t) * 1000}

        times = []
        for _ in range(connects):
            client.disconnect()
            t = time.perf_counter()
            client.connect(timeout=30)
            times.append((time.perf_counter() - t) * 1000)
        results["connect_ms"] = summary(times)

        for _ in range(50):  # warm-up
            client.send(b'{"t":"ping"}')
            inbox.get(timeout=5)
        times = []
        for i in range(round_trips):
            payload = b'{"t":"ping","n":%d}' % i
            t = time.perf_counter()
            client.send(payload)
            got = inbox.get(timeout=5)
            times.append((time.perf_counter() - t) * 1000)
            assert got == payload
        results["round_trip_ms"] = summary(times)

        rates, lost = [], 0
        for _ in range(floods):
            n = 10_000
            t = time.perf_counter()
            watch.command(f"flood {n}", timeout=120)
            arrived = [inbox.get(timeout=30) for _ in range(n)]
            rates.append(n / (time.perf_counter() - t))
            lost += sum(1 for i, m in enumerate(arrived) if m != b"%d" % i)
        results["notifications_per_s"] = summary(rates)
        results["flood_lost_or_reordered"] = {"median": lost}

        message = bytes(range(256)) * 80  # 20 KB
        ups, echoes = [], []
        for _ in range(big):
            t = time.perf_counter()
            client.send(message)
            ups.append((time.perf_counter() - t) * 1000)
            assert inbox.get(timeout=10) == message
            echoes.append((time.perf_counter() - t) * 1000)
        results["20kb_write_ms"] = summary(ups)
        results["20kb_echo_ms"] = summary(echoes)
        results["mtu"] = {"median": client.mtu}
    finally:
        client.disconnect()
        loop.stop()
        watch.stop()
        bus.stop()
    return results


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--quick", action="store_true", help="fewer repetitions")
    args = ap.parse_args()
    kwargs: dict[str, int] = (
        {"round_trips": 300, "floods": 2, "connects": 10, "big": 10} if args.quick else {}
    )
    results = run(**kwargs)
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    print(f"BLE link (bleak over the simulated watch's org.bluez), {os.cpu_count()} CPUs")
    ok = True
    for name, fig in results.items():
        line = f"  {name:<28} median {fig['median']:>10.3f}"
        if "p99" in fig:
            line += f"   p99 {fig['p99']:>10.3f}   n={int(fig['n'])}"
        if name in GOALS:
            op, goal = GOALS[name]
            met = fig["median"] <= goal if op == "≤" else fig["median"] >= goal
            ok &= met
            line += f"   goal {op} {goal:g}: {'met' if met else 'MISSED'}"
        print(line)
    if results["flood_lost_or_reordered"]["median"] != 0:
        ok = False
        print("  flood lost or reordered messages: MISSED (goal 0)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
