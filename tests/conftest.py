"""Shared fixtures: raw ptys driven by the test, consoles and a simulated watch of their own,
and a user's project for pytester to run the plugin in."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from pytest_vela.console.port import Console
from pytest_vela.device.watch import Watch
from pytest_vela.rig.factory import open_rig
from pytest_vela.rig.session import RigSession
from pytest_vela.rig.sim_process import SimulatorProcess
from pytest_vela.rigfile.loader import Rig
from tests.support.leftovers import orphan_run_dirs
from tests.support.ptys import RawPty
from tests.support.rigs import FAST_SIM, fast_sim_settings, write_rig

# labgrid (in the dev extra, for the labgrid tests) registers a pytest plugin that every pytest
# process imports, about half a second of CPU each; the pytest runs these tests start never use
# it (the labgrid backend imports labgrid itself).
os.environ["PYTEST_ADDOPTS"] = f"{os.environ.get('PYTEST_ADDOPTS', '')} -p no:labgrid".strip()


@pytest.fixture(scope="session", autouse=True)
def _rig_locks_of_their_own(tmp_path_factory: pytest.TempPathFactory) -> None:
    """The tests' hardware rigs (ports that do not exist) lock in a directory of the tests'
    own, never in the host's lock directory, where a farm's real rigs are locked; the pytest
    runs they start inherit it."""
    os.environ["VELA_LOCK_DIR"] = str(tmp_path_factory.mktemp("rig-locks"))


@pytest.fixture(scope="session", autouse=True)
def _inner_runs_temp_of_their_own(tmp_path_factory: pytest.TempPathFactory) -> None:
    """The pytest runs the tests start (the fault and interrupt suites' user projects, some of
    whose tests fail on purpose) make their temporary directories inside this run's, which
    goes when the run passes, instead of in the host's <tmp>/pytest-of-<user>."""
    os.environ["PYTEST_DEBUG_TEMPROOT"] = str(tmp_path_factory.mktemp("inner-runs"))


@pytest.fixture
def raw_pty() -> Iterator[RawPty]:
    pty = RawPty()
    yield pty
    pty.close()


@pytest.fixture
def pty_console(raw_pty: RawPty, tmp_path: Path) -> Iterator[Console]:
    """A Console (real pyserial) on a pty whose other end the test writes."""
    console = Console(raw_pty.path, 921600, tmp_path / "logs" / "console.log")
    console.open()
    yield console
    console.close()


@pytest.fixture
def simulated_watch(tmp_path: Path) -> Iterator[SimulatorProcess]:
    """A simulated watch process of its own (not the plugin's session one)."""
    sim = SimulatorProcess(fast_sim_settings(), tmp_path / "run", log_path=tmp_path / "sim.log")
    sim.start()
    yield sim
    sim.stop()


@pytest.fixture
def sim_console(simulated_watch: SimulatorProcess, tmp_path: Path) -> Iterator[Console]:
    """A Console opened on the simulated watch's stable port path, at a ready prompt."""
    console = Console(simulated_watch.port, 921600, tmp_path / "logs" / "console.log")
    console.open()
    console.write(b"\r\n")
    console.expect("nsh> ", timeout=10)
    yield console
    console.close()


@pytest.fixture
def own_rig(tmp_path: Path) -> Iterator[RigSession]:
    """A rig session of its own on a simulated watch (not the plugin's session one), made as
    a script would make it, with install retries short enough for fault tests."""
    settings = fast_sim_settings()
    settings = settings.model_copy(
        update={
            "timeouts": settings.timeouts.model_copy(
                update={"install_retry_wait": 0.05, "install_attempts": 3}
            )
        }
    )
    with open_rig(Rig("sim", settings, None), tmp_path / "logs") as session:
        yield session


@pytest.fixture
def own_watch(own_rig: RigSession) -> Watch:
    """The watch of ``own_rig``, at a ready shell."""
    return own_rig.watch()


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    """A user's project: its own rootdir with a pytest.ini and a fast sim rig."""
    pytester.makeini("[pytest]\n")
    write_rig(pytester.path / "rigs", "sim", FAST_SIM)
    return pytester


@pytest.fixture(scope="session", autouse=True)
def _nothing_left_in_tmp() -> Iterator[None]:
    """The project's own tests leave no run directory behind (their pids name them); the
    plugin's own simulated rig, still running until pytest ends, keeps its own."""
    yield
    left = orphan_run_dirs(os.getpid())
    assert not left, f"run directories left behind by this test session: {left}"
