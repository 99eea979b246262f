"""Rigs on labgrid places, against a real labgrid coordinator and exporter on loopback: the
exporter exports a simulated watch's console (an RFC 2217 server in front of its pty) and a
simplerest power switch that power-cycles it; BLE is the simulated watch's, on its private
bus, as a runner's own adapter would be."""

from __future__ import annotations

import getpass
import json
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from pytest_vela.rig.backends.simulated import with_sim_identity
from pytest_vela.rig.private_bus import PrivateBus
from pytest_vela.rig.sim_process import SimulatorProcess
from pytest_vela.rigfile.schema import RigSettings
from pytest_vela.wire.control import ControlOp
from tests.support.leftovers import sim_run_dir
from tests.support.rfc2217 import Rfc2217Server
from tests.support.run_output import Output

pytest.importorskip("labgrid", reason="the labgrid extra is not installed")

from tests.support.labgrid_farm import GROUP, Exported, LabgridFarm, PowerSwitch

PLACE = "watch01"
HOLDER = """
import time
from pathlib import Path

def test_holds_the_watch(watch):
    Path("holding").write_text("yes")
    while not Path("release").exists():
        time.sleep(0.05)
"""


@dataclass
class Farm:
    lab: LabgridFarm
    power: PowerSwitch
    sim: SimulatorProcess
    console: Rfc2217Server
    bus: str


@pytest.fixture(scope="module")
def farm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Farm]:
    base = tmp_path_factory.mktemp("labgrid")
    with PrivateBus() as bus, sim_run_dir() as run_dir:
        assert bus.address is not None
        settings = with_sim_identity(RigSettings(kind="sim"), PLACE)
        sim = SimulatorProcess(settings, run_dir, bus.address, log_path=base / "sim.log")
        sim.start()
        console = Rfc2217Server(sim.port).start()

        def power_cycle() -> None:
            sim.control(ControlOp.POWER_CYCLE)

        power = PowerSwitch(power_cycle)
        lab = LabgridFarm(base / "lab", {GROUP: Exported(console.port, power.url)})
        try:
            lab.start()
            lab.create_place(PLACE)
            yield Farm(lab, power, sim, console, bus.address)
        finally:
            lab.stop()
            power.stop()
            console.stop()
            sim.stop()


@pytest.fixture
def on_the_farm(
    pytester: pytest.Pytester, farm: Farm, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Farm]:
    """A test directory whose rig ``watch01`` is the farm's place; the runner's BLE is the
    simulated watch's bus."""
    write_rig(pytester, farm)
    monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", farm.bus)
    monkeypatch.setenv("VELA_LOCK_DIR", str(tmp_path / "locks"))
    monkeypatch.delenv("LG_COORDINATOR", raising=False)
    yield farm
    assert farm.lab.holder(PLACE) is None, "a run left the place acquired"
    assert farm.lab.reservations() == [], "a run left a reservation on the coordinator"


def write_rig(pytester: pytest.Pytester, farm: Farm, extra: str = "") -> None:
    rigs = pytester.path / "rigs"
    rigs.mkdir(exist_ok=True)
    (rigs / f"{PLACE}.toml").write_text(
        "kind = 'hardware'\n"
        "model = 'Vela simulated watch'\n"
        f"[labgrid]\nplace = '{PLACE}'\ncoordinator = '{farm.lab.address}'\n{extra}"
        "[reset]\nmethod = 'labgrid'\npulse_ms = 20\n"
        f"[ble]\nname = 'Vela-{PLACE}'\n"
    )


def me() -> str:
    return f"{socket.gethostname()}/{getpass.getuser()}"


def test_the_conformance_suite_runs_through_a_labgrid_place(
    pytester: pytest.Pytester, on_the_farm: Farm
) -> None:
    served = on_the_farm.console.clients
    suite = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--rig", PLACE, "--pyargs", "pytest_vela.conformance"
    )
    # No link profile declared: the run tells it; the test of the documented one only skips.
    suite.assert_outcomes(passed=25, skipped=1)
    assert on_the_farm.console.clients > served, "the console came through the place's port"
    assert on_the_farm.lab.holder(PLACE) is None

    on_the_farm.power.switched.clear()
    pytester.makepyfile(
        test_hard="""
        def test_hard_reset(watch):
            boots = len(watch.boots)
            watch.reset(hard=True)
            assert len(watch.boots) > boots
        """
    )
    hard = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--rig", PLACE, "test_hard.py")
    hard.assert_outcomes(passed=1)
    assert on_the_farm.power.switched == ["0", "1"], "off, then on, through labgrid's driver"


def test_a_second_run_is_refused_while_another_holds_the_place(
    pytester: pytest.Pytester, on_the_farm: Farm
) -> None:
    on_the_farm.lab.client("-p", PLACE, "acquire", user="nightly", check=True)
    try:
        pytester.makepyfile(test_x="def test_x(watch):\n    pass\n")
        refused = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--rig", PLACE)
        refused.assert_outcomes(errors=1)
        refused.stdout.fnmatch_lines(
            [
                f"*LockError: labgrid place '{PLACE}' on {on_the_farm.lab.address} cannot be "
                f"acquired: it is acquired by {socket.gethostname()}/nightly.*labgrid.wait*"
            ]
        )
        assert on_the_farm.lab.holder(PLACE) == f"{socket.gethostname()}/nightly"
    finally:
        on_the_farm.lab.client("-p", PLACE, "release", user="nightly", check=True)


def test_a_second_run_of_the_same_user_is_refused_while_a_run_holds_the_place(
    pytester: pytest.Pytester, on_the_farm: Farm
) -> None:
    """To labgrid both runs are the same host/user: the lock on this host tells them apart."""
    pytester.makepyfile(test_hold=HOLDER)
    first = _start_run(pytester, "test_hold.py")
    try:
        _wait_holding(pytester, first)
        pytester.makepyfile(test_x="def test_x(watch):\n    pass\n")
        second = pytester.runpytest_subprocess(
            "-p", "no:cacheprovider", "--rig", PLACE, "test_x.py"
        )
        second.assert_outcomes(errors=1)
        second.stdout.fnmatch_lines(
            [f"*LockError: labgrid place '{PLACE}'*is in use by pid {first.pid} on *"]
        )
        assert on_the_farm.lab.holder(PLACE) == me(), "the first run still holds it"
    finally:
        (pytester.path / "release").write_text("now")
        out, _ = first.communicate(timeout=30)
        _end(first)
    assert first.returncode == 0, out


def test_a_run_waits_for_the_place_in_a_reservation(
    pytester: pytest.Pytester, on_the_farm: Farm
) -> None:
    write_rig(pytester, on_the_farm, "wait = 30\n")
    on_the_farm.lab.client("-p", PLACE, "acquire", user="nightly", check=True)
    pytester.makepyfile(test_x="def test_x(watch):\n    assert watch.shell('echo 1') == '1\\n'\n")
    run = _start_run(pytester, "test_x.py")
    output = Output(run)
    try:
        # It waits, however slowly it started (a loaded machine), before the place is free.
        output.wait_for(f"acquired by {socket.gethostname()}/nightly; waiting up to 30 s", 60)
        assert run.poll() is None, "the run waited"
        on_the_farm.lab.client("-p", PLACE, "release", user="nightly", check=True)
        out = output.whole(timeout=60)
    finally:
        _end(run)
    assert run.returncode == 0, out


def test_ctrl_c_releases_the_place(pytester: pytest.Pytester, on_the_farm: Farm) -> None:
    pytester.makepyfile(test_hold=HOLDER)
    run = _start_run(pytester, "test_hold.py")
    try:
        _wait_holding(pytester, run)
        assert on_the_farm.lab.holder(PLACE) == me()
        run.send_signal(signal.SIGINT)
        out, _ = run.communicate(timeout=30)
    finally:
        _end(run)
    assert run.returncode == pytest.ExitCode.INTERRUPTED, out
    assert on_the_farm.lab.holder(PLACE) is None


def test_a_killed_run_s_place_is_taken_over(pytester: pytest.Pytester, on_the_farm: Farm) -> None:
    pytester.makepyfile(test_hold=HOLDER)
    run = _start_run(pytester, "test_hold.py")
    try:
        _wait_holding(pytester, run)
        run.kill()
        run.communicate(timeout=30)
    finally:
        _end(run)
    assert on_the_farm.lab.holder(PLACE) == me(), "labgrid has no lease: still acquired"
    pytester.makepyfile(test_x="def test_x(watch):\n    assert watch.shell('echo 2') == '2\\n'\n")
    after = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--rig", PLACE, "test_x.py")
    after.assert_outcomes(passed=1)
    after.stdout.fnmatch_lines(
        [
            f"*{PLACE}: labgrid place '{PLACE}'*was left acquired by a run that ended without "
            f"releasing it (pid {run.pid} as {me()}*); taken over"
        ]
    )


def test_a_place_acquired_by_hand_is_not_taken_over(
    pytester: pytest.Pytester, on_the_farm: Farm
) -> None:
    """Under the run's own host/user but not by a run of pytest-vela (labgrid-client)."""
    on_the_farm.lab.client("-p", PLACE, "acquire", user=getpass.getuser(), check=True)
    try:
        pytester.makepyfile(test_x="def test_x(watch):\n    pass\n")
        refused = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--rig", PLACE)
        refused.assert_outcomes(errors=1)
        refused.stdout.fnmatch_lines(
            [
                f"*LockError: labgrid place '{PLACE}'*is acquired by you ({me()}), but not by a "
                "run of pytest-vela: release it with*"
            ]
        )
    finally:
        on_the_farm.lab.client("-p", PLACE, "release", check=True)


def _start_run(pytester: pytest.Pytester, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "--rig", PLACE, *args],
        cwd=pytester.path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _wait_holding(pytester: pytest.Pytester, run: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 30
    while not (pytester.path / "holding").exists():
        assert run.poll() is None, run.communicate()[0]
        assert time.monotonic() < deadline, "the run never got the watch"
        time.sleep(0.05)


def _end(run: subprocess.Popen[str]) -> None:
    if run.poll() is None:
        run.kill()
        run.communicate(timeout=30)


def test_the_rigs_command_shows_the_place_and_checks_it(
    pytester: pytest.Pytester, on_the_farm: Farm
) -> None:
    rigs = pytester.path / "rigs"
    command = [sys.executable, "-m", "pytest_vela.cli", "rigs", "--rig-dir", str(rigs), "--json"]
    on_the_farm.lab.client("-p", PLACE, "acquire", user="nightly", check=True)
    try:
        held = subprocess.run([*command, "--check"], capture_output=True, text=True, timeout=60)
    finally:
        on_the_farm.lab.client("-p", PLACE, "release", user="nightly", check=True)
    row = next(r for r in json.loads(held.stdout) if r["name"] == PLACE)
    assert row["details"] == {"place": PLACE, "coordinator": on_the_farm.lab.address}
    assert row["model"] == "Vela simulated watch"
    assert row["holder"] == f"{socket.gethostname()}/nightly"
    assert row["health"] == {"ok": None, "detail": f"not checked: in use by {row['holder']}"}

    free = subprocess.run([*command, "--check"], capture_output=True, text=True, timeout=60)
    assert free.returncode == 0, free.stdout + free.stderr
    row = next(r for r in json.loads(free.stdout) if r["name"] == PLACE)
    assert row["holder"] is None
    assert row["health"]["ok"] is True, row
    assert "prompt in" in row["health"]["detail"] and "BLE" in row["health"]["detail"]
