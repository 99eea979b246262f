"""The private ``dbus-daemon`` that carries the simulated watch's ``org.bluez``.

bleak only talks to BlueZ over the D-Bus *system* bus, whose address dbus-fast takes from
``DBUS_SYSTEM_BUS_ADDRESS``. A bus of our own, listening on a socket in a fresh temporary
directory, lets unmodified bleak run against the simulated watch without touching the host's
real BlueZ. The daemon is tied to the process that started it (``PR_SET_PDEATHSIG``), so it
dies with pytest even when pytest is killed outright.
"""

from __future__ import annotations

import atexit
import shutil
import subprocess
from importlib import resources
from pathlib import Path

from pytest_vela.common.processes import log_tail, read_line, run_dir, spawn_tied, stop_process
from pytest_vela.errors import SimulatorError

INSTALL_HINT = (
    "install it: Debian/Ubuntu `sudo apt-get install dbus-daemon` (package `dbus` on older "
    "releases), Fedora `sudo dnf install dbus-daemon`, Arch `sudo pacman -S dbus`"
)
_PREFIX = "vela-dbus-"
_SUN_PATH_MAX = 107


def bus_config() -> Path:
    """The bus configuration shipped with the package."""
    return Path(str(resources.files("pytest_vela.rig").joinpath("dbus-bus.conf")))


class PrivateBus:
    """A ``dbus-daemon`` on a unix socket in a temporary directory, for this session only."""

    def __init__(self, config: Path | None = None, executable: str = "dbus-daemon") -> None:
        self.config = config or bus_config()
        self.executable = executable
        self.address: str | None = None
        self.directory: Path | None = None
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self, timeout: float = 10.0) -> str:
        """Start the daemon and return its address (``unix:path=…,guid=…``)."""
        if self.running:
            assert self.address is not None
            return self.address
        program = shutil.which(self.executable)
        if program is None:
            raise SimulatorError(
                f"{self.executable!r} was not found on PATH; the simulated watch's BLE needs a "
                f"private D-Bus daemon: {INSTALL_HINT}"
            )
        self.directory = _make_dir()
        socket_path = self.directory / "bus"
        log_path = self.directory / "dbus-daemon.log"
        argv = [
            program,
            f"--config-file={self.config}",
            f"--address=unix:path={socket_path}",
            "--print-address=1",
            "--nofork",
            "--nopidfile",
            "--nosyslog",
        ]
        with log_path.open("wb") as log:
            # A session of its own: a Ctrl-C at the terminal reaches pytest, which ends the
            # daemon after the clients that use it, not before them.
            self._proc = spawn_tied(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=log,
                start_new_session=True,
            )
        atexit.register(self.stop)
        try:
            assert self._proc.stdout is not None
            printed = read_line(self._proc.stdout, timeout)
        except BaseException:
            self.stop()
            raise
        finally:
            if self._proc and self._proc.stdout:
                self._proc.stdout.close()
        if printed is None:
            self.stop()
            raise SimulatorError(f"dbus-daemon printed no address within {timeout:g} s")
        line = printed.decode(errors="replace").strip()
        if not line.startswith("unix:"):
            detail = log_tail(log_path)
            code = self._proc.poll() if self._proc else None
            self.stop()
            raise SimulatorError(
                f"dbus-daemon did not start (exit status {code}, printed {line!r}); "
                f"its output:\n{detail or '(nothing)'}"
            )
        self.address = line
        return line

    def stop(self, timeout: float = 3.0) -> None:
        """End the daemon and remove its directory. Idempotent."""
        atexit.unregister(self.stop)
        proc, self._proc = self._proc, None
        stop_process(proc, timeout)
        if self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)
            self.directory = None
        self.address = None

    def environ(self) -> dict[str, str]:
        """The variables that point a process's D-Bus system bus at this daemon."""
        if self.address is None:
            raise SimulatorError("the private bus is not running")
        return {"DBUS_SYSTEM_BUS_ADDRESS": self.address}

    def __enter__(self) -> PrivateBus:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _make_dir() -> Path:
    path = run_dir(_PREFIX)
    if len(str(path / "bus")) > _SUN_PATH_MAX:
        # A long TMPDIR would overflow sun_path; /tmp always fits.
        path.rmdir()
        path = run_dir(_PREFIX, Path("/tmp"))
    return path
