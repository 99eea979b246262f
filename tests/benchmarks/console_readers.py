"""The side of the console benchmark that measures, run in a fresh interpreter for each run
(``bench_console.py --child``): the writer process and its stream, the three readers under test,
and one ingest or latency run of a reader, its figures written as JSON for the parent."""

from __future__ import annotations

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

from tests.benchmarks.figures import pct

LINE_BYTES = 53
FILL = b"[  12.345678] app: console benchmark ok."  # a 10-digit number, a space, this, CR LF
END = b"END-OF-STREAM"
MB = 1_000_000
assert 10 + 1 + len(FILL) + 2 == LINE_BYTES

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
