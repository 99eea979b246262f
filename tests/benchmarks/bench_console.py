"""Console ingest benchmark: a stream of 53-byte lines into a real pty (raw mode) from a writer
process, read by three readers, each in a fresh interpreter per run:

- ``vela``: pytest-vela's ``Console`` (with a ``Watch`` built on it, so its crash and boot
  markers are watched as in a session), a test thread waiting in ``expect`` for the final
  marker line; the log's stamped lines are counted and checked in order afterwards;
- ``embedded``: pytest-embedded's serial DUT (``Serial`` + ``SerialDut`` wired as its fixtures
  wire them), waiting in ``dut.expect`` for the same marker; its log's lines are checked;
- ``plain``: a bare pyserial reader thread, ``read(in_waiting or 1)`` into an unbuffered raw
  file, no stamps, no search: the limit the others are held against.

Figures, each a median over repeats with its spread: MB/s, lines/s, CPU seconds per MB of the
reading side (the reader's process and any helper processes it starts; never the writer), and
expect latency p50/p99: from writing a marker line to ``expect`` returning, over idle-port
markers. pytest-embedded only runs the sizes it can finish within a time bound (said in the
table). Writes ``reports/bench/console-ingest.json``. The readers, and the measuring of one run,
are in ``console_readers.py`` beside this file.

Run: ``python tests/benchmarks/bench_console.py [--sizes 2,10,40] [--repeats 5]``, or through
``run_all.py``. pytest-embedded comes with the ``bench`` extra, best in an environment of its
own (``python -m venv .bench && .bench/bin/pip install -e '.[bench]'``): its pytest plugin
changes the output of every pytest run where it is installed. Without it, its rows say so.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.benchmarks.console_readers import LINE_BYTES, MB, child
from tests.benchmarks.figures import repeats, verdict, write_report

READERS = ("vela", "embedded", "plain")
GOAL_MB_S = 30.0
GOAL_FLAT = 0.20  # 2 MB and 40 MB figures, and repeats around their median
GOAL_P50_MS, GOAL_P99_MS = 1.0, 2.0


# --- orchestrating, in the parent ----------------------------------------------------------------


def run_child(mode: str, kind: str, value: float, bound: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="vela-bench-") as tmp:
        out = Path(tmp) / "figures.json"
        errors = Path(tmp) / "stderr.txt"
        with errors.open("wb") as err:
            # Its stdout goes nowhere: pytest-embedded echoes every byte it reads there.
            done = subprocess.run(
                [sys.executable, __file__, "--child", mode, kind, str(value), str(out), str(bound)],
                stdout=subprocess.DEVNULL,
                stderr=err,
                timeout=bound + 600,
                check=False,
            )
        if done.returncode != 0 or not out.exists():
            tail = errors.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"{mode} {kind} {value} failed (exit {done.returncode}):\n{tail}")
        figures: dict[str, Any] = json.loads(out.read_text())
        return figures


def have_embedded() -> bool:
    try:
        import pytest_embedded  # noqa: F401
        import pytest_embedded_serial  # noqa: F401
    except ImportError:
        return False
    return True


def summarise(runs: list[dict[str, Any]]) -> dict[str, Any]:
    done = [r for r in runs if r["finished"]]
    if len(done) < len(runs):
        return {"runs": runs, "finished": False, "mb_s": repeats([r["mb_s"] for r in runs])}
    return {
        "runs": runs,
        "finished": True,
        "mb_s": repeats([r["mb_s"] for r in done]),
        "lines_s": repeats([r["lines_s"] for r in done]),
        "cpu_s_per_mb": repeats([r["cpu_s_per_mb"] for r in done]),
        "lines_lost": sum(r["lines"] - r["lines_found"] for r in done),
        "in_order": all(r["in_order"] for r in done),
    }


def fmt(figure: dict[str, float], digits: int = 1, scale: float = 1.0) -> str:
    if figure["median"] * scale < 1:
        digits = max(digits, 3)  # a slow reader's figures keep their digits
    return (
        f"{figure['median'] * scale:.{digits}f} "
        f"({figure['min'] * scale:.{digits}f}–{figure['max'] * scale:.{digits}f}, "
        f"±{100 * figure['spread']:.0f}%)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description="console ingest benchmark")
    parser.add_argument("--sizes", default="2,10,40", help="stream sizes in MB (10^6 bytes)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--embedded-repeats", type=int, default=3)
    parser.add_argument("--markers", type=int, default=200, help="expect latency samples")
    parser.add_argument(
        "--embedded-bound", type=float, default=120.0, help="seconds one embedded run may take"
    )
    parser.add_argument("--readers", default=",".join(READERS), help="of " + ", ".join(READERS))
    args = parser.parse_args()
    sizes = [float(s) for s in args.sizes.split(",")]
    wanted = args.readers.split(",")
    readers = [r for r in READERS if r in wanted and (r != "embedded" or have_embedded())]
    skipped: dict[str, str] = {}
    if "embedded" in wanted and "embedded" not in readers:
        skipped["embedded"] = "pytest-embedded is not installed (pip install -e '.[bench]')"

    print(
        f"console ingest: {LINE_BYTES}-byte lines into a raw pty from a writer process; "
        f"median (min–max, ±largest distance from the median) of {args.repeats} runs "
        f"({args.embedded_repeats} for pytest-embedded); {os.cpu_count()} CPUs, load average "
        f"{os.getloadavg()[0]:.2f} at the start"
    )
    fast = [r for r in readers if r != "embedded"]
    ingest_runs: dict[tuple[str, float], list[dict[str, Any]]] = {}
    latency_runs: dict[str, list[dict[str, Any]]] = {r: [] for r in readers}
    # Rounds, each running every fast reader at every size: a noisy moment of the machine
    # spreads over the readers instead of landing on one of them.
    for _round in range(args.repeats):
        for size in sizes:
            for kind in fast:
                ingest_runs.setdefault((kind, size), []).append(
                    run_child("ingest", kind, size, 600.0)
                )
        for kind in fast:
            latency_runs[kind].append(run_child("latency", kind, args.markers, 600.0))
    ingest: dict[str, dict[str, Any]] = {r: {} for r in readers}
    for (kind, size), runs in ingest_runs.items():
        ingest[kind][str(size)] = summarise(runs)
    if "embedded" in readers:
        run_embedded(sizes, args, ingest["embedded"], latency_runs["embedded"])
    latency = {
        kind: {
            "runs": runs,
            "p50_ms": repeats([r["p50_ms"] for r in runs]),
            "p99_ms": repeats([r["p99_ms"] for r in runs]),
        }
        for kind, runs in latency_runs.items()
    }

    print_table(sizes, readers, ingest, latency, skipped, args)
    path = write_report(
        "console-ingest",
        {
            "line_bytes": LINE_BYTES,
            "sizes_mb": sizes,
            "repeats": args.repeats,
            "embedded_repeats": args.embedded_repeats,
            "markers": args.markers,
            "cpus": os.cpu_count(),
            "load_average": os.getloadavg(),
            "ingest": ingest,
            "latency": latency,
            "skipped": skipped,
        },
    )
    print(f"  figures: {path}")


def run_embedded(
    sizes: list[float],
    args: argparse.Namespace,
    ingest: dict[str, Any],
    latency_runs: list[dict[str, Any]],
) -> None:
    """pytest-embedded, size by size while a run fits in the bound at its measured rate."""
    bound = args.embedded_bound
    rate = None
    for size in sizes:
        if rate is not None and size * MB / rate > bound:
            ingest[str(size)] = {
                "skipped": f"projected {size * MB / rate:.0f} s at {rate / MB:.2f} MB/s "
                f"> the {bound:.0f} s bound"
            }
            continue
        runs = [run_child("ingest", "embedded", size, bound) for _ in range(args.embedded_repeats)]
        ingest[str(size)] = summarise(runs)
        rate = ingest[str(size)]["mb_s"]["median"] * MB
    for _ in range(args.embedded_repeats):
        latency_runs.append(run_child("latency", "embedded", args.markers, 600.0))


def print_table(
    sizes: list[float],
    readers: list[str],
    ingest: dict[str, dict[str, Any]],
    latency: dict[str, Any],
    skipped: dict[str, str],
    args: argparse.Namespace,
) -> None:
    print(f"  {'reader':9} {'MB':>4}  {'MB/s':28} {'lines/s (k)':28} {'CPU s/MB':26} lost")
    for kind in readers:
        for size in sizes:
            row = ingest[kind][str(size)]
            head = f"  {kind:9} {size:>4g}  "
            if "skipped" in row:
                print(head + f"not run: {row['skipped']}")
            elif not row["finished"]:
                print(
                    head + f"{fmt(row['mb_s'], 2):28} did not finish within "
                    f"{args.embedded_bound:g} s (rate from what its log holds by then)"
                )
            else:
                lost = "none" if row["lines_lost"] == 0 and row["in_order"] else row["lines_lost"]
                print(
                    head + f"{fmt(row['mb_s']):28} {fmt(row['lines_s'], 0, 1e-3):28} "
                    f"{fmt(row['cpu_s_per_mb'], 4):26} {lost}"
                )
    for kind in skipped:
        print(f"  {kind:9} not run: {skipped[kind]}")
    print(f"  expect latency, {args.markers} markers on an idle port (ms):")
    for kind in readers:
        print(
            f"  {kind:9} p50 {fmt(latency[kind]['p50_ms'], 3):30} "
            f"p99 {fmt(latency[kind]['p99_ms'], 3)}"
        )
    if "vela" not in ingest:
        return
    vela = ingest["vela"]
    if "embedded" in ingest:
        for size in sizes:
            theirs = ingest["embedded"][str(size)]
            if "mb_s" in theirs and theirs.get("finished"):
                ratio = vela[str(size)]["mb_s"]["median"] / theirs["mb_s"]["median"]
                print(f"  vela/embedded at {size:g} MB: {ratio:,.0f}x MB/s")
        ratio = latency["embedded"]["p50_ms"]["median"] / latency["vela"]["p50_ms"]["median"]
        print(f"  embedded/vela expect latency p50: {ratio:,.0f}x")
    print_goals(sizes, vela, latency["vela"])


def print_goals(sizes: list[float], vela: dict[str, Any], latency: dict[str, Any]) -> None:
    big, small = vela[str(max(sizes))], vela[str(min(sizes))]
    rate = big["mb_s"]["median"]
    lost = sum(vela[str(s)]["lines_lost"] for s in sizes)
    flat = abs(small["mb_s"]["median"] - rate) / rate
    spread = max(vela[str(s)]["mb_s"]["spread"] for s in sizes)
    p50, p99 = latency["p50_ms"]["median"], latency["p99_ms"]["median"]
    print(
        f"  goals: {max(sizes):g} MB ≥ {GOAL_MB_S:g} MB/s with no line lost: {rate:.1f} MB/s, "
        f"lost {lost} ({verdict(rate >= GOAL_MB_S and lost == 0)}); {min(sizes):g} MB within "
        f"{100 * GOAL_FLAT:.0f}% of {max(sizes):g} MB: {100 * flat:.0f}% "
        f"({verdict(flat <= GOAL_FLAT)}); repeats within {100 * GOAL_FLAT:.0f}% of their "
        f"median: at most {100 * spread:.0f}% ({verdict(spread <= GOAL_FLAT)}); latency p50 "
        f"{p50:.3f} ms ≤ {GOAL_P50_MS:g} ({verdict(p50 <= GOAL_P50_MS)}), p99 {p99:.3f} ms ≤ "
        f"{GOAL_P99_MS:g} ({verdict(p99 <= GOAL_P99_MS)})"
    )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2:])
    else:
        main()
