"""Shared helpers: rig files on disk, raw ptys driven by the test, and a simulated watch."""

from __future__ import annotations

import contextlib
import json
import os
import tty
import zipfile
from collections.abc import Iterator
from pathlib import Path
from textwrap import dedent

import pytest

from pytest_vela.console.port import Console
from pytest_vela.device.watch import Watch
from pytest_vela.rig.session import SimPowerCycle
from pytest_vela.rig.sim_process import SimulatorProcess
from pytest_vela.rigfile.loader import Rig
from pytest_vela.rigfile.schema import RigSettings, SimSettings


def write_rig(rig_dir: Path, name: str, body: str) -> Path:
    """Write ``<rig_dir>/<name>.toml`` from an indented literal."""
    rig_dir.mkdir(parents=True, exist_ok=True)
    path = rig_dir / f"{name}.toml"
    path.write_text(dedent(body).lstrip())
    return path


class RawPty:
    """A pty whose master end the test drives byte by byte, as a device would."""

    def __init__(self) -> None:
        self.master, self.slave = os.openpty()
        # Raw, or the line discipline would echo and translate what the "device" writes.
        tty.setraw(self.slave)
        self.path = os.ttyname(self.slave)

    def send(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(self.master, view) :]

    def read_host_output(self, size: int = 4096) -> bytes:
        return os.read(self.master, size)

    def vanish(self) -> None:
        """What unplugging a USB serial adapter looks like from the host: the other end goes."""
        for fd in (self.master, self.slave):
            with contextlib.suppress(OSError):
                os.close(fd)
        self.master = self.slave = -1

    def close(self) -> None:
        self.vanish()


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


def fast_sim_settings(**sim: object) -> RigSettings:
    """Sim rig settings with a short boot and short timeouts, so fault tests end quickly."""
    return RigSettings.model_validate(
        {
            "kind": "sim",
            "timeouts": {"boot": 10, "shell": 5, "install": 5, "launch": 5, "connect": 5},
            "sim": SimSettings(boot_ms=20, **sim).model_dump(),  # type: ignore[arg-type]
        }
    )


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


def make_rpk(path: Path, package: str) -> Path:
    """A minimal quick app package: a zip whose manifest names the package."""
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("manifest.json", json.dumps({"package": package, "name": package}))
        archive.writestr("app.js", f"// {package}\n")
    return path


@pytest.fixture
def own_watch(simulated_watch: SimulatorProcess, tmp_path: Path) -> Iterator[Watch]:
    """A Watch on a private simulated watch, with retries short enough for fault tests."""
    settings = fast_sim_settings()
    settings = settings.model_copy(
        update={
            "timeouts": settings.timeouts.model_copy(
                update={"install_retry_wait": 0.05, "install_attempts": 3}
            )
        }
    )
    rig = Rig("sim", settings, None)
    console = Console(simulated_watch.port, 921600, tmp_path / "logs" / "own.log")
    console.open()
    watch = Watch(rig, console, SimPowerCycle(simulated_watch))
    watch.wake()
    yield watch
    console.close()
