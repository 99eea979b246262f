"""A remote console through RFC 2217 (ser2net on a farm host) works like a local port."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pytest_vela.console.port import Console
from pytest_vela.device.power import ConsoleReboot
from pytest_vela.device.watch import Watch
from pytest_vela.rig.sim_process import SimulatorProcess
from pytest_vela.rigfile.loader import Rig
from pytest_vela.rigfile.schema import RigSettings, SerialSettings
from tests.support.leftovers import sim_run_dir
from tests.support.rfc2217 import Rfc2217Server


@pytest.fixture
def remote_sim(tmp_path: Path) -> Iterator[tuple[SimulatorProcess, Rfc2217Server]]:
    with sim_run_dir() as run_dir:
        sim = SimulatorProcess(RigSettings(kind="sim"), run_dir)
        server = Rfc2217Server(sim.start()).start()
        yield sim, server
        server.stop()
        sim.stop()


def test_shell_and_reset_over_rfc2217(
    remote_sim: tuple[SimulatorProcess, Rfc2217Server], tmp_path: Path
) -> None:
    _, server = remote_sim
    settings = RigSettings(kind="sim", serial=SerialSettings(port=server.url))
    console = Console(server.url, 921600, tmp_path / "console.log").open()
    try:
        watch = Watch(Rig("remote", settings, None), console, ConsoleReboot(console))
        watch.wake(10)
        assert "app/" in watch.shell("ls /data")
        watch.reset()
        assert watch.boots, "the boot marker came through the remote console"
        assert "vela-sim" in watch.shell("uname -v")
    finally:
        console.close()
    assert "> uname -v" in (tmp_path / "console.log").read_text()
