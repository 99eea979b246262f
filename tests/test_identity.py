"""The watch's identity, asked flag by flag: from real NuttX, from the simulated watch, from a
shell without ``uname``, and as the terminal's header shows it."""

from __future__ import annotations

import re
import threading
from pathlib import Path

import pytest

from pytest_vela.console.port import Console
from pytest_vela.device.identity import WatchIdentity, read_identity
from pytest_vela.device.power import ConsoleReboot
from pytest_vela.device.watch import Watch
from pytest_vela.rigfile.loader import Rig
from tests.support.nuttx_pty import watch_on_nuttx
from tests.support.projects import run_project
from tests.support.ptys import RawPty
from tests.support.rigs import fast_sim_settings

BUILD_DATE = re.compile(r"^\S+ [A-Z][a-z]{2} [ \d]\d \d{4} \d\d:\d\d:\d\d$")


@pytest.mark.parametrize("dialect", ["apache", "vela"])
def test_real_nuttx_is_named_by_its_uname_fields(tmp_path: Path, dialect: str) -> None:
    with watch_on_nuttx(dialect, tmp_path) as watch:
        identity = read_identity(watch)
    assert (identity.os_name, identity.release, identity.machine) == ("NuttX", "0.0.0", "sim")
    assert identity.version is not None and BUILD_DATE.match(identity.version)
    assert identity.firmware is None  # these builds have no imginfo
    assert identity.summary() == "NuttX 0.0.0 on sim"
    assert identity.environment() == {
        "os": "NuttX 0.0.0",
        "os.version": identity.version,
        "model": "sim",
        "firmware": "unknown",
    }


def test_the_simulated_watch_names_itself_and_its_image(own_watch: Watch) -> None:
    identity = read_identity(own_watch)
    assert identity.summary() == "NuttX 0.0.0 on sim"
    assert identity.version is not None and BUILD_DATE.match(identity.version)
    assert identity.firmware == own_watch.image_digest()
    assert identity.firmware is not None and len(identity.firmware) == 64


def test_a_shell_without_uname_leaves_the_system_unknown(
    raw_pty: RawPty, pty_console: Console
) -> None:
    asked: list[str] = []

    def device() -> None:
        typed = b""
        while len(asked) < 2:
            typed += raw_pty.read_host_output()
            while b"\r" in typed:
                line, typed = typed.split(b"\r", 1)
                command = line.decode()
                asked.append(command)
                name = command.split()[0]
                raw_pty.send(f"{command}\r\nnsh: {name}: command not found\r\nnsh> \x1b[K".encode())

    thread = threading.Thread(target=device, daemon=True)
    thread.start()
    watch = Watch(Rig("bare", fast_sim_settings(), None), pty_console, ConsoleReboot(pty_console))
    identity = read_identity(watch)
    thread.join(10)
    assert asked == ["uname -s", "imginfo"]  # no other flag is asked for without uname
    assert identity == WatchIdentity()
    assert identity.summary() == "unknown system"
    assert identity.environment() == {"firmware": "unknown"}


def test_the_header_names_the_system_its_release_and_machine(tmp_path: Path) -> None:
    done = run_project(tmp_path, "def test_one(watch):\n    pass\n")
    assert done.returncode == 0, done.stdout[-2000:]
    assert re.search(r"sim: sim, NuttX 0\.0\.0 on sim, firmware sha256 [0-9a-f]{12}", done.stdout)
