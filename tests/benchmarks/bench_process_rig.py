"""Process rig benchmark: real NuttX (``shared/nuttx-sim/``, both ``sim:nsh`` builds) as a
watch, against the simulated watch; and decoding a crash's backtrace, pyelftools against
binutils' ``addr2line``.

Run: ``python tests/benchmarks/bench_process_rig.py`` (the builds from ``VELA_NUTTX_SIM_DIR``
or ``shared/nuttx-sim`` above the repository). Figures (medians over repeats, goals beside):
- startup: the program started on its pty, the Console (unmodified pyserial) open, ``wake()``
  answered at the prompt; goal ≤ 1 s;
- reset: ``watch.reset()`` (apache: ``reboot`` exits, the program is started again; Vela
  fork: no ``reboot``, restarted) and ``watch.reset(hard=True)`` (killed, started again), to
  the prompt after the boot marker;
- shell round trip: ``watch.shell("echo …")`` on real nsh and on the simulated watch (its
  console paced at 921600 baud, as a user's default sim rig);
- decoding the 20 addresses of the apache crash: pyelftools on first use (ELF loaded) and once
  loaded, and one ``addr2line -f`` run.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from pytest_vela.rig.backend import SimPowerCycle

from pytest_vela.console.port import Console
from pytest_vela.device.crash_report import backtrace_addresses
from pytest_vela.device.symbols import Symbols
from pytest_vela.device.watch import Watch
from pytest_vela.rig.backends.process import ProcessBackend
from pytest_vela.rig.sim_process import SimulatorProcess
from pytest_vela.rigfile.loader import Rig
from pytest_vela.rigfile.schema import RigSettings
from tests.benchmarks.figures import repeats, verdict, write_report
from tests.support.nuttx import (
    BUILDS,
    NUTTX_BOOT_MARKER,
    NUTTX_CRASH_MARKER,
    nuttx_sim_dir,
)

STARTS = 15
RESETS = 15
ROUND_TRIPS = 200
DECODES = 7
STARTUP_GOAL_S = 1.0


def process_rig(build: Path) -> Rig:
    settings = RigSettings.model_validate(
        {
            "kind": "process",
            "process": {"command": [str(build)]},
            "serial": {"boot_marker": NUTTX_BOOT_MARKER, "crash_marker": NUTTX_CRASH_MARKER},
            "timeouts": {"boot": 5, "shell": 3},
        }
    )
    return Rig(build.name, settings, None)


@contextmanager
def process_watch(build: Path, logs: Path) -> Iterator[Watch]:
    rig = process_rig(build)
    backend = ProcessBackend(rig)
    console = Console(backend.start(logs, "bench"), 115200, logs / f"{build.name}.log")
    try:
        console.open()
        watch = Watch(rig, console, backend.power(console))
        backend.serve(watch)
        watch.wake()
        yield watch
    finally:
        console.close()
        backend.stop()


@contextmanager
def simulated_watch(logs: Path) -> Iterator[Watch]:
    settings = RigSettings.model_validate({"kind": "sim", "sim": {"boot_ms": 20}})
    sim = SimulatorProcess(settings, logs / "run", log_path=logs / "sim.log")
    sim.start()
    console = Console(sim.port, 921600, logs / "sim-console.log")
    try:
        console.open()
        watch = Watch(Rig("sim", settings, None), console, SimPowerCycle(sim))
        watch.wake()
        yield watch
    finally:
        console.close()
        sim.stop()


def startup_s(build: Path, logs: Path) -> list[float]:
    times = []
    for _ in range(STARTS):
        started = time.perf_counter()
        with process_watch(build, logs):
            times.append(time.perf_counter() - started)
    return times


def timed(count: int, action: Callable[[], object]) -> list[float]:
    times = []
    for _ in range(count):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return times


def round_trips_ms(watch: Watch) -> list[float]:
    return [1000 * t for t in timed(ROUND_TRIPS, lambda: watch.shell("echo round-trip"))]


def decoding_s(elf: Path, addresses: list[int]) -> dict[str, list[float]]:
    first, warm = [], []
    for _ in range(DECODES):
        symbols = Symbols(elf)
        started = time.perf_counter()
        symbols.decode(addresses)
        first.append(time.perf_counter() - started)
        warm += timed(1, functools.partial(symbols.decode, addresses))
        symbols.close()
    figures = {"pyelftools first": first, "pyelftools loaded": warm}
    tool = shutil.which("addr2line")
    if tool is not None:
        argv = [tool, "-f", "-e", str(elf), *(hex(a) for a in addresses)]
        figures["addr2line"] = timed(DECODES, lambda: subprocess.run(argv, capture_output=True))
    return figures


def line(label: str, values: list[float], unit: str, scale: float = 1.0) -> dict[str, float]:
    figure = repeats([v * scale for v in values])
    print(
        f"  {label}: median {figure['median']:.1f} {unit} "
        f"(min {figure['min']:.1f}, max {figure['max']:.1f}, n={figure['n']})"
    )
    return figure


def main() -> None:
    where = nuttx_sim_dir()
    builds = {name: where / file for name, file in BUILDS.items()} if where else {}
    if not builds or not all(path.is_file() for path in builds.values()):
        raise SystemExit("the NuttX builds are missing: set VELA_NUTTX_SIM_DIR")
    print("process rig benchmark (real NuttX sim:nsh behind a pty)")
    report: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as tmp:
        logs = Path(tmp)
        for name, build in builds.items():
            starts = line(f"{name}: startup to a ready prompt", startup_s(build, logs), "ms", 1000)
            print(f"    goal ≤ {STARTUP_GOAL_S:g} s: {verdict(starts['median'] / 1000 <= 1)}")
            with process_watch(build, logs) as watch:
                soft = line(f"{name}: reset()", timed(RESETS, watch.reset), "ms", 1000)
                hard_reset = functools.partial(watch.reset, hard=True)
                hard = line(f"{name}: reset(hard=True)", timed(RESETS, hard_reset), "ms", 1000)
                trips = line(f"{name}: shell round trip", round_trips_ms(watch), "ms")
            report[name] = {
                "startup_ms": starts,
                "reset_ms": soft,
                "hard_reset_ms": hard,
                "round_trip_ms": trips,
            }
        with simulated_watch(logs) as watch:
            report["sim_round_trip_ms"] = line(
                "simulated watch: shell round trip", round_trips_ms(watch), "ms"
            )
    crash = (where / "transcript-apache-crash.txt").read_text() if where else ""
    addresses = backtrace_addresses(crash.replace("\\r", "").split("\\n"))
    print(f"decoding the apache crash's {len(addresses)} backtrace addresses")
    for label, values in decoding_s(builds["apache"], addresses).items():
        report[f"decode {label} ms"] = line(label, values, "ms", 1000)
    print(f"  report: {write_report('process_rig', report)}")


if __name__ == "__main__":
    main()
