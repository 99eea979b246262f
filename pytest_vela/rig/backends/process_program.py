"""One run of a process rig's program: on a pty of its own, in a session and process group of
its own, tied to the thread that started it.

Its pty is raw and its ONLCR cleared *before* it starts. NuttX's sim (and any program that puts its
terminal in raw mode with ``cfmakeraw`` and then turns output processing back on) keeps the
ONLCR it found, so the whole stream, the boot banner included, ends its lines ``\\r\\n`` as a
real UART's does, instead of ``\\r\\r\\n``. A program that sets ONLCR itself is caught by
``clear_onlcr``, which the relay calls on the run's first output.
"""

from __future__ import annotations

import contextlib
import os
import re
import select
import signal
import termios
import time
import tty
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from pytest_vela.common.processes import spawn_tied

#: Seconds a program has to end on SIGTERM before its process group is killed.
TERM_GRACE = 1.0
#: Commands that end a firmware whose reboot powers off by exiting: its end is asked for.
REBOOT_WORDS = frozenset({"reboot", "poweroff"})


@dataclass(frozen=True)
class ProgramExit:
    """How one run of the program ended, at host wall-clock time ``ts``.

    ``asked``: the harness ended it (a stop, a restart) or typed the command that ends it (a
    ``reboot`` whose firmware powers off by exiting); ``in_crash``: it ended while a crash's
    output was on the console, as part of that crash."""

    status: int  # as subprocess gives it: negative for the signal that killed it
    ts: float
    asked: bool
    in_crash: bool = False

    @property
    def unasked(self) -> bool:
        return not self.asked and not self.in_crash

    @property
    def described(self) -> str:
        if self.status < 0:
            try:
                name = signal.Signals(-self.status).name
            except ValueError:
                name = "?"
            return f"was killed by signal {-self.status} ({name})"
        return f"exited with status {self.status}"


class ProgramRun:
    """The program running on a fresh pty whose master this object owns."""

    def __init__(
        self, argv: Sequence[str], cwd: Path, env: Mapping[str, str] | None = None
    ) -> None:
        master, slave = os.openpty()
        try:
            # Raw, as a UART is: no echo of what the harness types before the program has set
            # its terminal up, and no output processing unless the program asks for it.
            tty.setraw(slave)
            attrs = termios.tcgetattr(slave)
            attrs[1] &= ~termios.ONLCR
            termios.tcsetattr(slave, termios.TCSANOW, attrs)
            environment = {**os.environ, **(env or {})}
            self.proc = spawn_tied(
                list(argv),
                stdin=slave,
                stdout=slave,
                stderr=slave,
                cwd=cwd,
                env=environment,
                start_new_session=True,
            )
        except BaseException:
            os.close(master)
            raise
        finally:
            os.close(slave)
        os.set_blocking(master, False)
        self.master = master
        self.pidfd = os.pidfd_open(self.proc.pid)
        self.started = time.monotonic()
        self.output_seen = False
        self.output_closed = False  # its side of the pty is closed (it is ending)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def clear_onlcr(self) -> bool:
        """Clear ONLCR if the program set it (Linux shares one termios between a pty's two
        ends); whether it had to."""
        with contextlib.suppress(termios.error, OSError):
            attrs = termios.tcgetattr(self.master)
            if attrs[1] & termios.ONLCR:
                attrs[1] &= ~termios.ONLCR
                termios.tcsetattr(self.master, termios.TCSANOW, attrs)
                return True
        return False

    def status(self) -> int | None:
        return self.proc.poll()

    def kill(self) -> int:
        """SIGTERM to its process group, SIGKILL after ``TERM_GRACE``; reaped. The status."""
        if self.proc.returncode is None:
            self._signal_group(signal.SIGTERM)
            if not select.select([self.pidfd], [], [], TERM_GRACE)[0]:
                self._signal_group(signal.SIGKILL)
        return self.reap()

    def reap(self) -> int:
        """The ended program's status, once whatever it left in its group is killed too (its
        exited leader still holds the group's id until it is reaped)."""
        if self.proc.returncode is None:
            self._signal_group(signal.SIGKILL)
        return self.proc.wait()

    def _signal_group(self, sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, sig)

    def close(self) -> None:
        for fd in (self.master, self.pidfd):
            with contextlib.suppress(OSError):
                os.close(fd)


class TypedInput:
    """What the harness types to the program: whether a line was a ``reboot`` (or
    ``poweroff``), and the input with the NUL byte NuttX's sim needs after an input boundary
    (``input_boundary`` bytes; 0: none)."""

    def __init__(self, input_boundary: int) -> None:
        self.input_boundary = input_boundary
        self._fed = 0  # bytes given to the current run
        self._line = bytearray()

    def new_run(self) -> None:
        self._fed = 0
        self._line.clear()

    def typed(self, data: bytes) -> bool:
        """Follow the line being typed; whether ``data`` ended a reboot's line."""
        rebooted = False
        for part in re.split(rb"([\r\n])", data):
            if part in (b"\r", b"\n"):
                words = bytes(self._line).split()
                rebooted |= bool(words) and words[0].decode(errors="replace") in REBOOT_WORDS
                self._line.clear()
            elif len(self._line) < 256:
                self._line += part[: 256 - len(self._line)]
        return rebooted

    def released(self, data: bytes) -> bytes:
        """``data``, with a NUL after it when it ends exactly on an input boundary."""
        self._fed += len(data)
        if self.input_boundary and self._fed % self.input_boundary == 0:
            self._fed += 1
            return data + b"\x00"
        return data
