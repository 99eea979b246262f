"""Foundation benchmark: the serial console and flashing against the simulated watch, over a
real pty with unmodified pyserial.

Run: ``python tests/benchmarks/bench_foundation.py``. Figures (medians, goals beside them):
- console ingest, MB/s and lines/s, with every line's sequence number checked (no byte lost),
  against the 921600-baud and 2-Mbaud line rates (unpaced sim: the host side is the limit);
- expect latency: from the host's arrival of the chunk that completes a line (the time just
  after the reader's ``read`` returned it) to ``expect`` returning, median and p99;
- flash: YMODEM throughput of a 1 MiB image as a percentage of the paced 921600-baud line,
  and the time ``--flash auto`` takes to skip an image the watch already runs.
"""

from __future__ import annotations

import os
import re
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import pytest_vela.device.files as files_module
from pytest_vela.console.port import Console
from pytest_vela.device.transfer import ymodem_send
from pytest_vela.device.watch import Watch
from pytest_vela.rig.backends.simulated import SimPowerCycle
from pytest_vela.rig.sim_process import SimulatorProcess
from pytest_vela.rigfile.loader import Rig
from pytest_vela.rigfile.schema import RigSettings
from tests.benchmarks.figures import pct, verdict

FLOOD_LINES = 60_000  # 6 MB: the whole flood stays in expect's window (8 MB)
FLOOD_WIDTH = 100
INGEST_RUNS = 5
LATENCY_SAMPLES = 400
FLASH_BYTES = 1024 * 1024
FLASH_RUNS = 3
SKIP_RUNS = 5
RATE_921600 = 921600 / 10
RATE_2M = 2_000_000 / 10


class TimedConsole(Console):
    """A Console that notes each chunk's arrival right after the reader's read returned it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.arrivals: list[tuple[float, bytes]] = []
        self._arrivals_lock = threading.Lock()

    def _ingest(self, data: bytes, ts: float) -> None:
        arrived = time.perf_counter()
        with self._arrivals_lock:
            self.arrivals.append((arrived, data))
        super()._ingest(data, ts)

    def take_arrivals(self) -> list[tuple[float, bytes]]:
        with self._arrivals_lock:
            taken, self.arrivals = self.arrivals, []
            return taken


@contextmanager
def simulated(pace: bool) -> Iterator[tuple[Watch, TimedConsole]]:
    """A simulated watch with its console and Watch; everything ended afterwards."""
    run_dir = Path(tempfile.mkdtemp(prefix="vela-bench-"))
    settings = RigSettings.model_validate(
        {"kind": "sim", "sim": {"pace": pace, "boot_ms": 20}, "timeouts": {"flash": 120}}
    )
    sim = SimulatorProcess(settings, run_dir / "run", log_path=run_dir / "sim.log")
    console: TimedConsole | None = None
    try:
        port = sim.start()
        console = TimedConsole(port, settings.serial.baud, run_dir / "console.log")
        console.open()
        watch = Watch(Rig("sim", settings, None), console, SimPowerCycle(sim))
        watch.wake(10)
        yield watch, console
    finally:
        if console is not None:
            console.close()
        sim.stop()
        shutil.rmtree(run_dir, ignore_errors=True)


# --- console ingest -----------------------------------------------------------------------


def ingest_once(watch: Watch, console: TimedConsole) -> tuple[float, float, int]:
    """One flood; returns (bytes/s, lines/s, lost lines)."""
    console.discard_pending()
    command = f"flood {FLOOD_LINES} {FLOOD_WIDTH}"
    console.write_line(command)
    console.expect(re.escape(command) + r"\r\n", timeout=30)
    started_bytes = console.bytes_received
    started = time.perf_counter()
    prompt = console.expect("nsh> ", timeout=120)
    elapsed = time.perf_counter() - started
    lines = prompt.string[: prompt.start()].split("\r\n")[:-1]
    # Every line whole (its width) and numbered in sequence: nothing lost, nothing mangled.
    good = {
        int(line[:10])
        for line in lines
        if len(line) == FLOOD_WIDTH - 1 and line[:10].isdigit() and line.endswith("x")
    }
    lost = FLOOD_LINES - len(good & set(range(FLOOD_LINES))) + max(0, len(lines) - FLOOD_LINES)
    nbytes = console.bytes_received - started_bytes
    return nbytes / elapsed, len(lines) / elapsed, lost


def bench_ingest() -> dict[str, Any]:
    with simulated(pace=False) as (watch, console):
        runs = [ingest_once(watch, console) for _ in range(INGEST_RUNS)]
    rates = [r[0] for r in runs]
    return {
        "mb_s": statistics.median(rates) / 1e6,
        "lines_s": statistics.median(r[1] for r in runs),
        "x_921600": statistics.median(rates) / RATE_921600,
        "x_2m": statistics.median(rates) / RATE_2M,
        "lost": sum(r[2] for r in runs),
    }


# --- expect latency -------------------------------------------------------------------------


def latency_once(console: TimedConsole, n: int) -> float:
    """Seconds from the arrival of the chunk that completes ``tick-n`` to expect returning."""
    console.discard_pending()
    console.take_arrivals()
    line = f"tick-{n:06d}"
    console.write_line(f"echo {line}")
    console.expect(rf"\r\n{line}\r\n", timeout=10)
    returned = time.perf_counter()
    console.expect("nsh> ", timeout=10)  # the next command is typed at a prompt
    # The arrivals up to the expect's return, in order; find the chunk holding the
    # last byte of the output line (not the echo of the command, which holds it too).
    arrivals = [a for a in console.take_arrivals() if a[0] <= returned]
    stream = b"".join(data for _, data in arrivals)
    end = stream.index(f"\r\n{line}\r\n".encode()) + len(line) + 4
    offset = 0
    for arrived, data in arrivals:
        offset += len(data)
        if offset >= end:
            return returned - arrived
    raise AssertionError(f"{line} matched before its bytes arrived")


def bench_latency() -> dict[str, float]:
    with simulated(pace=True) as (_watch, console):
        samples = [latency_once(console, n) * 1000 for n in range(LATENCY_SAMPLES)]
    return {"median_ms": statistics.median(samples), "p99_ms": pct(samples, 99)}


# --- flashing -------------------------------------------------------------------------------


def _timing_ymodem(transfers: list[float]) -> Callable[..., float]:
    def timed(*args: Any, **kwargs: Any) -> float:
        seconds = ymodem_send(*args, **kwargs)
        transfers.append(seconds)
        return seconds

    return timed


def bench_flash() -> dict[str, float]:
    transfers: list[float] = []
    totals: list[float] = []
    skips: list[float] = []
    # Timed where the watch's file sending looks it up (patch.object fails if it moved away).
    with (
        mock.patch.object(files_module, "ymodem_send", _timing_ymodem(transfers)),
        simulated(pace=True) as (watch, _console),
        tempfile.TemporaryDirectory() as tmp,
    ):
        for run in range(FLASH_RUNS):
            image = Path(tmp) / f"vela-{run}.bin"
            image.write_bytes(os.urandom(FLASH_BYTES))
            started = time.perf_counter()
            if not watch.flash(image, "auto"):
                raise AssertionError("a new image was not flashed")
            totals.append(time.perf_counter() - started)
        for _ in range(SKIP_RUNS):
            started = time.perf_counter()
            if watch.flash(image, "auto"):
                raise AssertionError("an image already on the watch was flashed again")
            skips.append(time.perf_counter() - started)
    rates = [FLASH_BYTES / s for s in transfers]
    return {
        "pct": 100 * statistics.median(rates) / RATE_921600,
        "kb_s": statistics.median(rates) / 1000,
        "total_s": statistics.median(totals),
        "skip_s": statistics.median(skips),
    }


def main() -> None:
    print("foundation benchmark (simulated watch over a pty, unmodified pyserial)")
    ingest = bench_ingest()
    print(
        f"  console ingest: {ingest['mb_s']:.1f} MB/s, {ingest['lines_s']:,.0f} lines/s "
        f"({FLOOD_LINES:,} lines of {FLOOD_WIDTH} B, median of {INGEST_RUNS}); "
        f"{ingest['x_921600']:.0f}x the 921600-baud line, {ingest['x_2m']:.0f}x the 2-Mbaud "
        f"line; lines lost: {ingest['lost']}  (goal ≥ 20x 2 Mbaud, none lost: "
        f"{verdict(ingest['x_2m'] >= 20 and ingest['lost'] == 0)})"
    )
    latency = bench_latency()
    print(
        f"  expect latency: median {latency['median_ms']:.3f} ms, p99 {latency['p99_ms']:.3f} ms "
        f"over {LATENCY_SAMPLES} lines  (goal median ≤ 2 ms: "
        f"{verdict(latency['median_ms'] <= 2.0)})"
    )
    flash = bench_flash()
    print(
        f"  flash: {flash['pct']:.1f} % of the 921600-baud line rate ({flash['kb_s']:.1f} kB/s "
        f"YMODEM, 1 MiB, median of {FLASH_RUNS}; whole flash with verify and reboot "
        f"{flash['total_s']:.1f} s)  (goal ≥ 90 %: {verdict(flash['pct'] >= 90)})"
    )
    print(
        f"  flash --flash auto of the running image: {flash['skip_s'] * 1000:.0f} ms "
        f"(median of {SKIP_RUNS})  (goal < 1 s: {verdict(flash['skip_s'] < 1.0)})"
    )


if __name__ == "__main__":
    main()
