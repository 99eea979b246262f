"""A process rig: the watch OS running as a host program whose stdin/stdout is the console
(NuttX's or Vela's ``sim`` build, QEMU ``-nographic``, an emulator's console).

Everything that is particular to this kind lives here and in ``process_relay`` /
``process_program`` (the rest of the harness asks the backend, never the kind): the program
runs on a pty behind a relay whose other pty the Console opens like any serial port; a hard
reset (``reset.method = "restart"``, the default) kills its process group and starts it again,
as a power cycle; an end nobody asked for is the watch going down, told to the watch's crash
log (``serve``) and to any ``on_exit`` listener, and the program is started again. There is no
BLE (``ble`` is None): ``peer`` and ``interconnect`` skip on such a rig. Each xdist worker may
run a copy of its own (in its own run directory).
"""

from __future__ import annotations

import contextlib
import shlex
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

from pytest_vela.common.processes import run_dir
from pytest_vela.console.port import Console
from pytest_vela.device.crash_report import CRASH_QUIET_S
from pytest_vela.device.power import PowerControl, power_control
from pytest_vela.device.watch import Watch
from pytest_vela.errors import RigError
from pytest_vela.rig.backends.base import Reach, RigBackend
from pytest_vela.rig.backends.process_program import ProgramExit
from pytest_vela.rig.backends.process_relay import ProcessRelay
from pytest_vela.rigfile.loader import Rig
from pytest_vela.rigfile.process import ProcessSettings

RUN_DIR_PREFIX = "vela-process-"


class ProgramRestart:
    """The hard reset of a process rig: kill the program and start it again."""

    def __init__(self, relay: ProcessRelay) -> None:
        self.relay = relay

    def hard_reset(self) -> None:
        self.relay.restart()


class ProcessBackend(RigBackend):
    """A watch that is a host program on a pty; see the module docstring."""

    kind: ClassVar[str] = "process"
    spreads_over_workers: ClassVar[bool] = True
    simulator = None
    bus_address = None
    ble = None  # no BLE peripheral: there is no phone side to play

    def __init__(self, rig: Rig) -> None:
        self.rig = rig
        assert rig.settings.process is not None, "validated: a process rig has [process]"
        self.process: ProcessSettings = rig.settings.process
        self._run_dir: Path | None = None
        self._relay: ProcessRelay | None = None
        self._console: Console | None = None
        self._exit_listeners: list[Callable[[ProgramExit], None]] = []

    # --- what it is ----------------------------------------------------------------------

    def reach(self) -> Reach:
        command = shlex.join(self.process.command)
        cwd = str(self.process.cwd or (self._run_dir and f"{self._run_dir} (fresh)") or "")
        where = f"program {command} on a pty, cwd {cwd or 'a fresh run directory'}, no BLE"
        return Reach(where, where, {"command": command, "cwd": cwd})

    def holder(self) -> str | None:
        return None  # a run starts a program of its own

    @property
    def given_up(self) -> str | None:
        """Why the program is no longer started again (it ended at once, again and again)."""
        return self._relay.given_up if self._relay is not None else None

    @property
    def runs(self) -> int:
        """How many times the program has been started."""
        return self._relay.runs if self._relay is not None else 0

    @property
    def pid(self) -> int | None:
        """The running program's process id (None when it is not running)."""
        return self._relay.pid if self._relay is not None else None

    # --- life cycle ----------------------------------------------------------------------

    def start(self, logs: Path, stamp: str) -> str:
        cwd = self.process.cwd
        if cwd is None:
            # Named after this process, so that a later run can sweep a killed run's.
            self._run_dir = cwd = run_dir(RUN_DIR_PREFIX)
        self._relay = ProcessRelay(
            self.process.command,
            cwd,
            dict(self.process.env),
            restart_after_crash=self.process.restart_after_crash,
            crash_quiet=CRASH_QUIET_S,
            input_boundary=self.process.input_boundary,
            note=self._note,
        )
        self._relay.on_exit(self._exited)
        try:
            return self._relay.start()
        except RigError:
            self.stop()
            raise

    def power(self, console: Console) -> PowerControl:
        self._console = console
        relay = self._relay
        assert relay is not None, "started"
        relay.listening()  # the Console is open: the boot output it missed is its now
        # A crash leaves the program in its dead shell: the relay restarts it once the
        # crash's output has gone quiet, as a watch resets itself after a panic.
        console.watch_lines(self.rig.settings.serial.crash_marker, self._crash_line)
        if self.rig.settings.reset.method == "restart":
            return ProgramRestart(relay)
        return power_control(self.rig.settings.reset, console)

    def serve(self, watch: Watch) -> None:
        """The watch this rig runs: an end of the program nobody asked for is a crash of
        it, recorded in its crash log with the exit status (its test then fails as
        ``WatchCrashed``), and the program is started again."""
        crashes = watch.crashes

        def crashed(ended: ProgramExit) -> None:
            if ended.unasked:
                name = Path(self.process.command[0]).name
                crashes.record_external(
                    f"the watch's program {name} {ended.described}, unasked", ended.ts
                )

        self.on_exit(crashed)

    def on_exit(self, listener: Callable[[ProgramExit], None]) -> None:
        """Call ``listener`` (on the relay's thread) whenever a run of the program ends:
        its status, the host time, whether it was asked for or part of a crash."""
        self._exit_listeners.append(listener)

    def agent_rpk(self) -> Path | None:
        return None

    def stop(self) -> None:
        relay, self._relay = self._relay, None
        if relay is not None:
            relay.stop()
        if self._run_dir is not None:
            shutil.rmtree(self._run_dir, ignore_errors=True)
            self._run_dir = None

    # --- from the relay ------------------------------------------------------------------

    def _crash_line(self, _line: str, _ts: float) -> None:
        relay = self._relay
        if relay is not None:
            relay.crash_seen()

    def _exited(self, ended: ProgramExit) -> None:
        for listener in self._exit_listeners:
            with contextlib.suppress(Exception):  # one listener's bug must not hide the end
                listener(ended)

    def _note(self, text: str) -> None:
        console = self._console
        if console is not None:
            console.note(text)
