"""``pytest-vela rigs``: every rig file with its kind, model, port and holder; ``--check``
tries each free rig (prompt on the console, peripheral advertising); ``--json``."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from pytest_vela.rig.backends.simulated import with_sim_identity
from pytest_vela.rig.lock import RigLock
from pytest_vela.rig.private_bus import PrivateBus
from pytest_vela.rig.sim_process import SimulatorProcess
from pytest_vela.rigfile.schema import RigSettings
from tests.support.leftovers import sim_run_dir
from tests.support.rigs import FAST_SIM, write_rig


@pytest.fixture
def desk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A rig directory: the simulated rig, a watch on the desk (a simulated watch's pty and
    its bus standing in for the host's BlueZ) and a broken rig file."""
    with PrivateBus() as bus, sim_run_dir() as run_dir:
        assert bus.address is not None
        sim = SimulatorProcess(
            with_sim_identity(RigSettings(kind="sim"), "desk"), run_dir, bus.address
        )
        port = sim.start()
        rigs = tmp_path / "rigs"
        write_rig(rigs, "sim", FAST_SIM)
        write_rig(
            rigs,
            "desk",
            f"model = 'Redmi Watch 5'\n[serial]\nport = '{port}'\n[ble]\nname = 'Vela-desk'\n"
            "[timeouts]\nshell = 5\n",
        )
        write_rig(rigs, "broken", "kind = 'hardware'\nbaud = 9600\n")
        monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", bus.address)
        monkeypatch.setenv("VELA_LOCK_DIR", str(tmp_path / "locks"))
        yield rigs
        sim.stop()


def rigs_command(rig_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest_vela.cli", "rigs", "--rig-dir", str(rig_dir), *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_rigs_are_listed_with_their_holder(desk: Path) -> None:
    lock = RigLock("desk")
    lock.acquire()
    try:
        listed = rigs_command(desk, "--json")
        checked = rigs_command(desk, "--check")
    finally:
        lock.release()
    assert listed.returncode == 1, "the broken rig file makes the listing fail"
    rows = {row["name"]: row for row in json.loads(listed.stdout)}
    assert set(rows) == {"broken", "desk", "sim"}
    assert rows["desk"]["kind"] == "hardware"
    assert rows["desk"]["model"] == "Redmi Watch 5"
    assert rows["desk"]["holder"].startswith("pid ")
    assert "field baud: unknown field" in rows["broken"]["error"]
    assert rows["sim"]["holder"] is None and rows["sim"]["health"] is None
    lines = {line.split()[0]: line for line in checked.stdout.splitlines() if line}
    assert lines["RIG"].split() == [
        "RIG",
        "KIND",
        "MODEL",
        "CONSOLE",
        "/",
        "PLACE",
        "HELD",
        "BY",
        "HEALTH",
    ]
    assert "skipped: not checked: in use by pid " in lines["desk"]
    assert "ok: prompt in " in lines["sim"], checked.stdout


def test_check_tries_each_free_rig(desk: Path) -> None:
    (desk / "broken.toml").unlink()
    checked = rigs_command(desk, "--check", "--json")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    rows = {row["name"]: row for row in json.loads(checked.stdout)}
    for name in ("desk", "sim"):
        assert rows[name]["health"]["ok"] is True, rows[name]
        assert "BLE" in rows[name]["health"]["detail"]
    assert RigLock("desk").holder() is None, "the check let go of the rig"


def test_a_rig_that_does_not_answer_fails_the_check(desk: Path) -> None:
    (desk / "broken.toml").unlink()
    write_rig(
        desk, "desk", "[serial]\nport = '/dev/serial/by-id/no-such'\n[ble]\nname = 'Vela-x'\n"
    )
    checked = rigs_command(desk, "--check")
    assert checked.returncode == 1
    failed = next(line for line in checked.stdout.splitlines() if "FAIL: " in line)
    detail = failed.split("FAIL: ", 1)[1]
    assert detail.startswith("cannot open serial port /dev/serial/by-id/no-such: No such file")
    assert detail.count("/dev/serial/by-id/no-such") == 1, detail  # the port, once
