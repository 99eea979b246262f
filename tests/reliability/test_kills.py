"""A run killed at any moment — Ctrl-C, SIGTERM, SIGKILL to its process group, as to a job at a
terminal — leaves nothing that outlives it: no helper process (simulated watch, private bus),
no run directory (a SIGKILLed run's are swept by the next run), no held rig lock, no torn
Allure file; and the next run passes.

The run works on two rigs at once: the simulated one, and a hardware rig (its lock in a
directory of the test's own) whose watch is a simulated watch started by hand. The moments are
random (seeded: a fixed seed and a new one each run, ``tests/support/seeds.py``; printed, and
``VELA_FAULT_SEED`` replays them), one in each part of a run: its start (interpreter,
plugin, rigs coming up, provisioning), its tests, and its end (session teardown, rigs shutting
down, reports written).
"""

from __future__ import annotations

import contextlib
import os
import random
import selectors
import signal
import subprocess
import sys
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from textwrap import dedent

import pytest

from pytest_vela.rig.lock import RigLock
from pytest_vela.rig.sim_process import SimulatorProcess
from pytest_vela.rigfile.schema import RigSettings
from tests.support.allure_results import unreadable
from tests.support.leftovers import run_dirs, sim_run_dir, wait_gone
from tests.support.rigs import FAST_SIM, write_rig
from tests.support.seeds import fault_seeds

# Each part of a run, and the seconds after it began within which a kill comes.
KILLS = [("start", 0.0, 3.0), ("tests", 0.0, 4.0), ("end", 0.0, 1.0)]
STOP_BOUND = 60.0  # seconds a run may take to end after SIGINT / SIGTERM

WORK = """
    import os

    import pytest


    def phase(name):
        print(f"\\nVELA-PHASE {name}", flush=True)


    def test_a_first(watch):
        phase("tests")
        assert watch.shell("echo first") == "first\\n"


    @pytest.mark.parametrize("n", range(8))
    def test_b_shell(watch, n):
        assert watch.shell(f"echo work-{n}") == f"work-{n}\\n"


    @pytest.mark.vela_rigs("sim")
    @pytest.mark.parametrize("n", range(8))
    def test_c_send(interconnect, peer, n):
        assert interconnect.send({"n": n}).ok
        assert peer.expect_message(timeout=5) == {"n": n}


    def test_d_flash(watch, tmp_path):
        image = tmp_path / "fw.bin"
        image.write_bytes(os.urandom(120_000))
        watch.flash(image)
"""

CONFTEST = """
    import pytest


    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(session):
        print("\\nVELA-PHASE end", flush=True)
"""

QUICK = """
    import pytest


    def test_quick_shell(watch):
        assert watch.shell("echo quick") == "quick\\n"


    @pytest.mark.vela_rigs("sim")
    def test_quick_send(interconnect, peer):
        assert interconnect.send({"n": 1}).ok
        assert peer.expect_message(timeout=5) == {"n": 1}
"""


@pytest.fixture(scope="module")
def desk_port() -> Iterator[str]:
    """A watch on a serial port, as far as the harness can tell: a simulated watch's pty."""
    with sim_run_dir() as run_dir:
        sim = SimulatorProcess(RigSettings(kind="sim"), run_dir)
        yield sim.start()
        sim.stop()


@pytest.fixture
def project(tmp_path: Path, desk_port: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("VELA_LOCK_DIR", str(tmp_path / "locks"))  # for the runs and for us
    (tmp_path / "pytest.ini").write_text("[pytest]\ntimeout = 60\n")
    write_rig(tmp_path / "rigs", "sim", FAST_SIM)
    write_rig(
        tmp_path / "rigs",
        "desk",
        f"kind = 'hardware'\n[serial]\nport = '{desk_port}'\n[ble]\nname = 'Vela-desk'\n",
    )
    (tmp_path / "conftest.py").write_text(dedent(CONFTEST).lstrip())
    (tmp_path / "test_work.py").write_text(dedent(WORK).lstrip())
    (tmp_path / "test_quick.py").write_text(dedent(QUICK).lstrip())
    return tmp_path


PYTEST = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-s", "--rig", "sim,desk"]


@dataclass
class Kill:
    signal: signal.Signals
    phase: str
    after: float  # seconds after the phase began
    pid: int = 0
    killed: bool = False  # the signal came while the run still ran
    output: str = ""


class Output:
    """A child's output, read as it comes, so that a phase's line is seen when printed."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        assert proc.stdout is not None
        self.fd = proc.stdout.fileno()
        self.text = ""

    def until(self, needle: str, deadline: float) -> bool:
        """Read until ``needle`` was printed (True), the output ended or the deadline passed."""
        with selectors.DefaultSelector() as sel:
            sel.register(self.fd, selectors.EVENT_READ)
            while needle not in self.text:
                left = deadline - time.monotonic()
                if left <= 0 or not sel.select(left):
                    return False
                chunk = os.read(self.fd, 65536)
                if not chunk:
                    return False
                self.text += chunk.decode(errors="replace")
        return True


def kill_run(project: Path, kill: Kill) -> Kill:
    proc = subprocess.Popen(
        [*PYTEST, "test_work.py"],
        cwd=project,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # a job of its own, as a shell starts it
    )
    kill.pid = proc.pid
    output = Output(proc)
    try:
        began = kill.phase == "start" or output.until(
            f"VELA-PHASE {kill.phase}", time.monotonic() + 120
        )
        assert began, f"the run never reached its {kill.phase}:\n{output.text}"
        time.sleep(kill.after)  # the random moment itself: nothing to wait for
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):  # it ended just now
                os.killpg(proc.pid, kill.signal)
                kill.killed = True
        bound = 30.0 if kill.signal is signal.SIGKILL else STOP_BOUND
        output.until("\0never printed\0", time.monotonic() + bound)  # to its end
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            raise AssertionError(
                f"the run did not end within {bound:g} s of {kill.signal.name}:\n{output.text}"
            ) from None
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        assert proc.stdout is not None
        proc.stdout.close()
    kill.output = output.text
    return kill


def plan_kills(sig: signal.Signals, seed: int) -> list[Kill]:
    """One moment in each part of a run and one more in any part, in random order."""
    rnd = random.Random(seed ^ zlib.crc32(sig.name.encode()))
    print(f"\n{sig.name}: kill seed {seed} (VELA_FAULT_SEED={seed} picks the same moments)")
    phases = [*KILLS, rnd.choice(KILLS)]
    kills = [Kill(sig, phase, rnd.uniform(low, high)) for phase, low, high in phases]
    rnd.shuffle(kills)
    return kills


@pytest.mark.timeout(600)
@pytest.mark.parametrize("seed", fault_seeds(), ids=lambda seed: f"seed{seed}")
@pytest.mark.parametrize(
    "sig", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL], ids=lambda sig: sig.name
)
def test_a_run_killed_at_a_random_moment_leaves_nothing_and_the_next_passes(
    project: Path, sig: signal.Signals, seed: int
) -> None:
    results = [project / "reports" / rig / "allure-results" for rig in ("sim", "desk")]
    rows = []
    kills = plan_kills(sig, seed)
    for kill in kills:
        kill_run(project, kill)
        said = f"{sig.name} {kill.after:.2f} s into its {kill.phase} (pid {kill.pid})"
        shown = f"{said}; its output:\n{kill.output[-3000:]}"
        assert wait_gone(kill.pid) == [], f"helpers outlived the run killed by {shown}"
        left = run_dirs(kill.pid)
        if sig is not signal.SIGKILL:
            assert left == [], f"run directories left by the run ended by {shown}"
        assert RigLock("desk").holder() is None, f"the desk rig's lock is held after {shown}"
        for directory in results:
            assert unreadable(directory) == {}, f"torn Allure files after {shown}"
        after = subprocess.run(
            [*PYTEST, "test_quick.py"],
            cwd=project,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert after.returncode == 0, f"the run after {shown}\nfailed:\n{after.stdout[-3000:]}"
        assert run_dirs(kill.pid) == [], f"the run after {said} did not sweep {left}"
        assert RigLock("desk").holder() is None
        rows.append(
            f"  {kill.phase:<6} +{kill.after:4.2f} s  "
            f"{'killed' if kill.killed else 'had ended'}  swept {len(left)} run dir(s)"
        )
    print(f"{sig.name}:\n" + "\n".join(rows))
    # Its start and its tests last longer than the moments chosen in them: those were kills.
    assert all(k.killed for k in kills if k.phase != "end"), rows
