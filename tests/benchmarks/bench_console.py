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
table). Writes ``reports/bench/console-ingest.json``.

Run: ``python tests/benchmarks/bench_console.py [--sizes 2,10,40] [--repeats 5]``, or through
``run_all.py``. pytest-embedded comes with the ``bench`` extra, best in an environment of its
own (``python -m venv .bench && .bench/bin/pip install -e '.[bench]'``): its pytest plugin
changes the output of every pytest run where it is installed. Without it, its rows say so.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import tty
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.benchmarks.figures import pct, repeats, verdict, write_report

LINE_BYTES = 53
FILL = b"[  12.345678] app: console benchmark ok."  # a 10-digit number, a space, this, CR LF
END = b"END-OF-STREAM"
READERS = ("vela", "embedded", "plain")
MB = 1_000_000
assert 10 + 1 + len(FILL) + 2 == LINE_BYTES
GOAL_MB_S = 30.0
GOAL_FLAT = 0.20  # 2 MB and 40 MB figures, and repeats around their median
GOAL_P50_MS, GOAL_P99_MS = 1.0, 2.0

# The writer: builds the stream, says it is ready, writes it all once told to go.
WRITER = r"""
import os, sys
fd, lines = int(sys.argv[1]), int(sys.argv[2])
fill = sys.argv[3].encode()
stream = b"".join(b"%010d %s\r\n" % (i, fill) for i in range(lines))
stream += b"END-OF-STREAM %d\r\n" % lines
print("ready", flush=True)
sys.stdin.readline()
view = memoryview(stream)
while view:
    view = view[os.write(fd, view[:65536]):]
sys.stdin.readline()
"""


def stream_lines(size_mb: float) -> int:
    return int(size_mb * MB) // LINE_BYTES


# --- measuring, in the child -----------------------------------------------------------------


def _children_cpu(exclude: set[int]) -> float:
    """CPU seconds of this process's descendants (helper processes), from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    pending = [os.getpid()]
    seen: set[int] = set()
    while pending:
        pid = pending.pop()
        with contextlib.suppress(OSError):
            for task in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{task}/children") as fh:
                    for child in map(int, fh.read().split()):
                        if child not in seen and child not in exclude:
                            seen.add(child)
                            pending.append(child)
    for pid in seen:
        with contextlib.suppress(OSError, ValueError, IndexError):
            with open(f"/proc/{pid}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


class Pty:
    def __init__(self) -> None:
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)
        self.path = os.ttyname(self.slave)

    def write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(self.master, view) :]


class Reader:
    """One reader under test: opened on a pty path, waits for a marker, closed, checked."""

    log_path: Path
    stamped = False

    def wait_for(self, marker: bytes, timeout: float) -> None:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError


class VelaReader(Reader):
    stamped = True

    def __init__(self, path: str, work: Path) -> None:
        from pytest_vela.console.port import Console
        from pytest_vela.device.power import ConsoleReboot
        from pytest_vela.device.watch import Watch
        from pytest_vela.rigfile.loader import Rig
        from pytest_vela.rigfile.schema import RigSettings

        self.log_path = work / "vela.log"
        self.console = Console(path, 921600, self.log_path).open()
        # The Watch registers the crash and boot markers, as a session's does.
        self.watch = Watch(
            Rig("bench", RigSettings(kind="sim"), None), self.console, ConsoleReboot(self.console)
        )

    def wait_for(self, marker: bytes, timeout: float) -> None:
        self.console.expect(re.escape(marker.decode()), timeout)

    def close(self) -> None:
        self.console.close()


class EmbeddedReader(Reader):
    """pytest-embedded's serial DUT, built as its fixtures build it (outside pytest)."""

    def __init__(self, path: str, work: Path) -> None:
        from pytest_embedded.app import App
        from pytest_embedded.dut_factory import _listener_gn, _pexpect_fr_gn
        from pytest_embedded.log import MessageQueueManager, PexpectProcess
        from pytest_embedded_serial.dut import SerialDut
        from pytest_embedded_serial.serial import Serial

        self.log_path = work / "dut.log"
        self.manager = MessageQueueManager()
        self.manager.start()
        queue = self.manager.MessageQueue()  # type: ignore[attr-defined]
        self.listener = _listener_gn(queue, str(self.log_path), None, 1, 1)
        self.logfile = _pexpect_fr_gn(str(self.log_path), self.listener)
        self.serial = Serial(msg_queue=queue, port=path, baud=921600)
        self.dut = SerialDut(
            serial=self.serial,
            pexpect_proc=PexpectProcess(self.logfile),
            msg_queue=queue,
            app=App(app_path=str(work)),
            pexpect_logfile=str(self.log_path),
            test_case_name="bench",
        )

    def wait_for(self, marker: bytes, timeout: float) -> None:
        self.dut.expect(re.compile(re.escape(marker)), timeout=timeout)

    def close(self) -> None:
        self.serial.close()
        self.listener.terminate()
        self.listener.join(5)
        self.logfile.close()
        self.manager.shutdown()


class PlainReader(Reader):
    """The limit: pyserial's read(in_waiting or 1) into a raw file; it counts bytes only."""

    def __init__(self, path: str, work: Path) -> None:
        import serial

        self.log_path = work / "plain.raw"
        self._file = self.log_path.open("wb", buffering=0)
        self._port = serial.serial_for_url(path, baudrate=921600, timeout=0.25)
        self._cond = threading.Condition()
        self._received = 0
        self._stop = False
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        self.expected = 0  # the byte count that completes the awaited marker

    def _run(self) -> None:
        port = self._port
        while not self._stop:
            data = port.read(port.in_waiting or 1)
            if data:
                self._file.write(data)
                with self._cond:
                    self._received += len(data)
                    if self._received >= self.expected:
                        self._cond.notify_all()

    def wait_for(self, marker: bytes, timeout: float) -> None:
        with self._cond:
            if not self._cond.wait_for(lambda: self._received >= self.expected, timeout):
                raise TimeoutError(f"{self._received} of {self.expected} bytes")

    def close(self) -> None:
        self._stop = True
        self._port.cancel_read()
        self._thread.join(2)
        self._port.close()
        self._file.close()


def open_reader(kind: str, path: str, work: Path) -> Reader:
    readers: dict[str, Callable[[str, Path], Reader]] = {
        "vela": VelaReader,
        "embedded": EmbeddedReader,
        "plain": PlainReader,
    }
    return readers[kind](path, work)


def count_lines(reader: Reader, lines: int) -> dict[str, Any]:
    """How many of the stream's lines the reader's log holds, whole, and whether in order."""
    stamp = rb"\d\d:\d\d:\d\d\.\d{6} " if reader.stamped else b""
    end = rb"$" if reader.stamped else rb"\r$"
    shape = re.compile(rb"^" + stamp + rb"(\d{10}) " + re.escape(FILL) + end, re.M)
    numbers = [int(n) for n in shape.findall(reader.log_path.read_bytes())]
    return {"lines_found": len(numbers), "in_order": numbers == list(range(lines))}


@contextlib.contextmanager
def writer_process(pty: Pty, lines: int) -> Iterator[subprocess.Popen[bytes]]:
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(pty.master), str(lines), FILL.decode()],
        pass_fds=(pty.master,),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    try:
        assert writer.stdout is not None and writer.stdout.readline() == b"ready\n"
        yield writer
    finally:
        with contextlib.suppress(OSError):
            assert writer.stdin is not None
            writer.stdin.write(b"done\n")
            writer.stdin.close()
        try:
            writer.wait(10)
        except subprocess.TimeoutExpired:
            writer.kill()
            writer.wait()


def measure_ingest(kind: str, size_mb: float, bound: float, work: Path) -> dict[str, Any]:
    lines = stream_lines(size_mb)
    marker = b"%s %d\r\n" % (END, lines)
    total = lines * LINE_BYTES + len(marker)
    pty = Pty()
    with writer_process(pty, lines) as writer:
        reader = open_reader(kind, pty.path, work)
        if isinstance(reader, PlainReader):
            reader.expected = total
        time.sleep(0.3)  # helper threads and processes settle
        cpu0, helpers0 = time.process_time(), _children_cpu({writer.pid})
        assert writer.stdin is not None
        started = time.perf_counter()
        writer.stdin.write(b"go\n")
        writer.stdin.flush()
        finished = True
        try:
            reader.wait_for(marker, bound)
        except Exception:
            finished = False
        elapsed = time.perf_counter() - started
        cpu = time.process_time() - cpu0 + _children_cpu({writer.pid}) - helpers0
        reader.close()
    figures: dict[str, Any] = {"reader": kind, "size_mb": size_mb, "lines": lines}
    figures["finished"] = finished
    if not finished:
        # Within the bound: what it took in by then, as its log shows.
        got = reader.log_path.stat().st_size if not reader.stamped else 0
        figures.update({"bytes": got, "seconds": elapsed, "mb_s": got / elapsed / MB})
        return figures
    figures.update(count_lines(reader, lines))
    figures.update(
        {
            "bytes": total,
            "seconds": elapsed,
            "mb_s": total / elapsed / MB,
            "lines_s": (lines + 1) / elapsed,
            "cpu_s_per_mb": cpu / (total / MB),
        }
    )
    return figures


def measure_latency(kind: str, markers: int, work: Path) -> dict[str, Any]:
    pty = Pty()
    reader = open_reader(kind, pty.path, work)
    time.sleep(0.3)
    samples = []
    sent = 0
    try:
        for n in range(markers):
            line = b"MARK %06d\r\n" % n
            sent += len(line)
            if isinstance(reader, PlainReader):
                reader.expected = sent
            started = time.perf_counter()
            pty.write(line)
            reader.wait_for(line, 10)
            samples.append((time.perf_counter() - started) * 1000)
            time.sleep(0.003)  # an idle port between markers
    finally:
        reader.close()
    return {
        "reader": kind,
        "markers": markers,
        "p50_ms": statistics.median(samples),
        "p99_ms": pct(samples, 99),
    }


def child(argv: list[str]) -> None:
    mode, kind, value, out, bound = argv[0], argv[1], float(argv[2]), Path(argv[3]), argv[4]
    with tempfile.TemporaryDirectory(prefix="vela-bench-console-") as tmp:
        if mode == "ingest":
            figures = measure_ingest(kind, value, float(bound), Path(tmp))
        else:
            figures = measure_latency(kind, int(value), Path(tmp))
    out.write_text(json.dumps(figures))


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
