"""The process backend with real NuttX behind it: the stream a UART's, the program a power
cycle away, and never left running — not by a stop, a Ctrl-C, nor a SIGKILL of the run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from pytest_vela.common.processes import pid_alive, run_dir
from pytest_vela.console.port import Console
from pytest_vela.rig.backends.process import RUN_DIR_PREFIX, ProcessBackend
from pytest_vela.rig.backends.process_program import ProgramExit
from pytest_vela.rigfile.loader import Rig, load_rig
from tests.support.nuttx import nuttx_build, process_rig, programs_of
from tests.support.rigs import write_rig

REPO = Path(__file__).resolve().parents[2]


def process_rig_of(tmp_path: Path, build: Path, **extra: str) -> Rig:
    write_rig(tmp_path / "rigs", "proc", process_rig(build, **extra))
    return load_rig("proc", tmp_path / "rigs")


@pytest.fixture
def apache(tmp_path: Path) -> Rig:
    return process_rig_of(tmp_path, nuttx_build("apache"))


@pytest.fixture
def started(apache: Rig, tmp_path: Path) -> Iterator[tuple[ProcessBackend, Console]]:
    backend = ProcessBackend(apache)
    console = Console(backend.start(tmp_path, "t"), 115200, tmp_path / "console.log")
    try:
        console.open()
        backend.power(console)
        yield backend, console
    finally:
        console.close()
        backend.stop()


def test_the_stream_is_a_uarts_from_the_boot_banner_on(
    started: tuple[ProcessBackend, Console],
) -> None:
    _backend, console = started
    console.write(b"\r")
    # The banner printed before the Console spoke is delivered, with \r\n line ends.
    banner = console.expect(r"NuttShell \(NSH\)\r\nnsh> ", timeout=5)
    assert banner.string.startswith("\r\nNuttShell")
    console.write_line("help")
    listing = console.expect(r"Builtin Apps:[^>]*nsh> ", timeout=5).string
    assert listing.count("\r\n") > 10 and "\r\r\n" not in listing


def test_a_hard_reset_is_a_new_program(started: tuple[ProcessBackend, Console]) -> None:
    backend, console = started
    ended: list[ProgramExit] = []
    backend.on_exit(ended.append)
    first = backend.pid
    assert first is not None
    backend.power(console).hard_reset()
    console.expect(r"NuttShell \(NSH\)", timeout=5)
    assert backend.pid not in (None, first) and not pid_alive(first)
    assert len(ended) == 1 and ended[0].asked and not ended[0].unasked


def test_a_stop_leaves_no_program_and_no_directory(apache: Rig, tmp_path: Path) -> None:
    backend = ProcessBackend(apache)
    backend.start(tmp_path, "t")
    pid = backend.pid
    workdir = Path(os.readlink(f"/proc/{pid}/cwd"))
    assert workdir.name.startswith(f"{RUN_DIR_PREFIX}{os.getpid()}-")
    backend.stop()
    assert pid is not None and not pid_alive(pid)
    assert not workdir.exists()


def test_apache_mounts_the_working_directory_at_data(tmp_path: Path) -> None:
    workdir = tmp_path / "workdir"
    workdir.mkdir()
    rig = process_rig_of(tmp_path, nuttx_build("apache"), process=f"cwd = '{workdir}'")
    backend = ProcessBackend(rig)
    console = Console(backend.start(tmp_path, "t"), 115200, tmp_path / "console.log")
    try:
        console.open()
        console.write_line("echo written-on-the-watch > /data/greeting")
        console.write_line("cat /data/greeting")
        console.expect(r"\r\nwritten-on-the-watch\r\n", timeout=5)
    finally:
        console.close()
        backend.stop()
    assert (workdir / "greeting").read_text().strip() == "written-on-the-watch"
    assert workdir.is_dir()  # a directory the rig file names is the user's: kept


def test_a_program_that_cannot_boot_is_not_restarted_forever(tmp_path: Path) -> None:
    write_rig(
        tmp_path / "rigs",
        "proc",
        'kind = "process"\n[process]\ncommand = ["sh", "-c", "echo cannot boot; exit 3"]\n',
    )
    backend = ProcessBackend(load_rig("proc", tmp_path / "rigs"))
    ended: list[ProgramExit] = []
    backend.on_exit(ended.append)
    backend.start(tmp_path, "t")
    console = Console("unused", 115200, tmp_path / "c.log")
    try:
        assert wait_for(lambda: backend.given_up is not None)
        assert backend.runs == 3
        assert "exited with status 3 within 1 s of starting, 3 times in a row" in str(
            backend.given_up
        )
        # A hard reset tries again, as a power cycle would.
        backend.power(console).hard_reset()
        assert wait_for(lambda: backend.given_up is not None)
        assert backend.runs == 6
    finally:
        backend.stop()
    assert [e.status for e in ended] == [3] * 6 and all(e.unasked for e in ended)


def wait_for(condition: Callable[[], bool], bound: float = 10.0) -> bool:
    deadline = time.monotonic() + bound
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)
    return condition()


KEEPER = """
    import sys, time
    from pathlib import Path
    from pytest_vela.rig.backends.process import ProcessBackend
    from pytest_vela.rigfile.loader import load_rig
    backend = ProcessBackend(load_rig("proc", Path(sys.argv[1])))
    backend.start(Path(sys.argv[2]), "t")
    print(backend.pid, flush=True)
    time.sleep(60)
"""


def test_the_program_dies_with_a_killed_run(apache: Rig, tmp_path: Path) -> None:
    assert apache.path is not None
    keeper = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(KEEPER), str(apache.path.parent), str(tmp_path)],
        stdout=subprocess.PIPE,
        cwd=REPO,
    )
    try:
        assert keeper.stdout is not None
        pid = int(keeper.stdout.readline())
        workdir = Path(os.readlink(f"/proc/{pid}/cwd"))
        keeper.kill()
        keeper.wait(10)
        deadline = time.monotonic() + 10
        while pid_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert not pid_alive(pid), "the program outlived the SIGKILLed run"
        # Its run directory outlives it (nothing runs on SIGKILL); the next run sweeps it
        # (another test's run, running beside this one, may have swept it already).
        fresh = run_dir(RUN_DIR_PREFIX)
        fresh.rmdir()
        assert not workdir.exists()
    finally:
        keeper.kill()
        keeper.wait()


def test_a_ctrl_c_of_the_run_ends_the_program(tmp_path: Path) -> None:
    build = nuttx_build("vela")
    marker = "VELA_TEST_RUN=ctrl-c-" + str(os.getpid())
    key, value = marker.split("=")
    write_rig(
        tmp_path / "rigs", "vela", process_rig(build, process=f'env = {{ {key} = "{value}" }}')
    )
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "test_wait.py").write_text(
        "import time\n\ndef test_wait(watch):\n    print('UP', flush=True)\n    time.sleep(60)\n"
    )
    run = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-s", "--rig", "vela"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert run.stdout is not None
        while "UP" not in (line := run.stdout.readline()):
            assert line, "the run ended before its test began"
        (pid,) = programs_of(build, marker)
        run.send_signal(signal.SIGINT)
        run.wait(30)
        assert not pid_alive(pid) and not programs_of(build, marker)
        assert not list(Path(tempfile.gettempdir()).glob(f"{RUN_DIR_PREFIX}{run.pid}-*"))
    finally:
        run.kill()
        run.wait()


def test_pytest_vela_rigs_describes_and_checks_a_process_rig(apache: Rig) -> None:
    assert apache.path is not None
    rig_dir = str(apache.path.parent)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest_vela.cli",
            "rigs",
            "--rig-dir",
            rig_dir,
            "--check",
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
    )
    assert done.returncode == 0, done.stderr
    (row,) = [row for row in json.loads(done.stdout) if row["name"] == "proc"]
    assert row["kind"] == "process"
    assert row["where"].startswith(f"program {nuttx_build('apache')} on a pty, cwd ")
    assert row["health"]["ok"] is True
    assert row["health"]["detail"].endswith("(no BLE on this rig)")


@pytest.mark.parametrize("boundary", [256, 0], ids=["nul-after-boundary", "as-typed"])
def test_a_command_ending_on_nuttxs_256th_input_byte_runs(tmp_path: Path, boundary: int) -> None:
    """NuttX's sim holds input that ends exactly on a 256-byte boundary until more comes: the
    rig sends a NUL after it (nsh ignores it); typed as it is, the command waits forever."""
    build = nuttx_build("vela")
    rig = process_rig_of(tmp_path, build, process=f"input_boundary = {boundary}")
    backend = ProcessBackend(rig)
    console = Console(backend.start(tmp_path, "t"), 115200, tmp_path / "console.log")
    try:
        console.open()
        backend.power(console)
        console.expect(r"nsh> ", timeout=5)
        command = "echo round-trip"  # 16 bytes with its "\r": the 16th ends on byte 256
        for n in range(1, 17):
            console.write_line(command)
            if n < 16 or boundary:
                console.expect(r"\r\nround-trip\r\nnsh> ", timeout=5)
        if not boundary:
            with pytest.raises(AssertionError):
                console.expect(r"\r\nround-trip\r\nnsh> ", timeout=1)
    finally:
        console.close()
        backend.stop()
