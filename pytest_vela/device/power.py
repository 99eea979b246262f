"""Hard resets: how a rig power-cycles its watch when the shell cannot be trusted."""

from __future__ import annotations

import errno
import subprocess
import time
from typing import Protocol

from pytest_vela.console.port import Console
from pytest_vela.errors import RigError
from pytest_vela.rigfile.schema import ResetSettings


class PowerControl(Protocol):
    def hard_reset(self) -> None: ...


class ConsoleReboot:
    """No reset line: ``reboot`` is all there is."""

    def __init__(self, console: Console) -> None:
        self.console = console

    def hard_reset(self) -> None:
        self.console.write_line("reboot")


class DtrPulse:
    """Pulse DTR (wired to the reset pin on many boards). A pty has no modem lines (ENOTTY):
    then fall back to ``reboot`` and say so in the log."""

    def __init__(self, console: Console, pulse_ms: int) -> None:
        self.console = console
        self.pulse_ms = pulse_ms

    def hard_reset(self) -> None:
        try:
            self.console.set_dtr(True)
            time.sleep(self.pulse_ms / 1000)
            self.console.set_dtr(False)
        except OSError as exc:
            if exc.errno != errno.ENOTTY:
                raise RigError(f"DTR reset on {self.console.url} failed: {exc}") from None
            self.console.note("DTR not supported on this port (ENOTTY): rebooting from the shell")
            self.console.write_line("reboot")


class CommandReset:
    """An external command (a USB relay, a PDU) cuts and restores power."""

    def __init__(self, argv: list[str], timeout: float = 30.0) -> None:
        self.argv = argv
        self.timeout = timeout

    def hard_reset(self) -> None:
        try:
            done = subprocess.run(self.argv, capture_output=True, text=True, timeout=self.timeout)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise RigError(f"reset command {self.argv} failed: {exc}") from None
        if done.returncode != 0:
            raise RigError(
                f"reset command {self.argv} exited {done.returncode}: "
                f"{(done.stderr or done.stdout).strip()[-500:]}"
            )


def power_control(settings: ResetSettings, console: Console) -> PowerControl:
    if settings.method == "dtr":
        return DtrPulse(console, settings.pulse_ms)
    if settings.method == "command":
        assert settings.command
        return CommandReset(settings.command)
    return ConsoleReboot(console)
