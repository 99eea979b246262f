"""The cable between a process rig's program and the harness's Console.

The program needs a terminal as its stdin/stdout (NuttX's sim puts it in raw mode), so it
runs on a pty of its own (``ProgramRun``); the harness needs a port that unmodified pyserial
opens like any other. Two ptys joined by this relay give both: the program's pty master on
one side, the master of a second pty — the *cable*, whose slave path the Console opens — on
the other. The cable outlives every run of the program, as a USB serial adapter outlives the
board's resets: a restart never closes the Console's port. (One pty shared by both would make
the harness and the program two readers of the same input queue.)

One thread does all of it, woken by the kernel (epoll on both masters, the run's pidfd and a
wake pipe; no poll sleeps): it copies bytes both ways, and it starts every run of the
program, so the runs are tied to it (``spawn_tied``: they die with the pytest process, even
on SIGKILL). What the program prints before the Console has opened the cable (``listening``,
or its first write) is held back and delivered then: pyserial's open flushes what came
before, and the boot output is evidence.

NuttX's sim (both the apache tree and the Vela fork, measured) holds back input whose end falls
exactly on a 256-byte boundary of what it has been sent, until more arrives: a command whose
``\r`` is its 256th, 512th… byte would never run. After such input the relay sends a NUL byte,
which releases it and which nsh ignores (``input_boundary``; 0 turns it off).

A run that ends is restarted at once, as a board boots again after a reset. The relay also
knows when an end was asked for: a restart or a stop, or the harness typing ``reboot`` (or
``poweroff``) just before — a firmware whose reboot powers off by exiting. (A firmware whose
shell has no ``reboot`` is power-cycled by the watch itself, through the rig's restart.) After
a crash's output has gone quiet the run is restarted too (a watch resets itself after a panic;
a program sits in its dead shell), unless told not to.
"""

from __future__ import annotations

import contextlib
import errno
import os
import queue
import select
import selectors
import threading
import time
import tty
from collections.abc import Callable, Sequence
from pathlib import Path

from pytest_vela.errors import RigError
from pytest_vela.rig.backends.process_program import ProgramExit, ProgramRun, TypedInput

ExitListener = Callable[[ProgramExit], None]
Note = Callable[[str], None]

#: A run that ends on its own this soon after it started, this many times in a row, is not
#: started again (a firmware that cannot boot must not turn into a busy restart loop).
QUICK_EXIT_S = 1.0
QUICK_EXITS = 3
#: Seconds after ``reboot`` is typed within which an exit is the reboot's doing.
ASKED_EXIT_WINDOW = 5.0
PENDING_LIMIT = 64 * 1024  # output waiting for the Console before the program is read again
READ_SIZE = 65536


class ProcessRelay:
    """Runs the program and joins its pty to the cable; see the module docstring."""

    def __init__(
        self,
        argv: Sequence[str],
        cwd: Path,
        env: dict[str, str],
        *,
        restart_after_crash: bool,
        crash_quiet: float,
        input_boundary: int = 0,
        note: Note | None = None,
    ) -> None:
        self.argv = list(argv)
        self.cwd = cwd
        self.env = env
        self.restart_after_crash = restart_after_crash
        self.crash_quiet = crash_quiet
        self._typing = TypedInput(input_boundary)
        self._note = note or (lambda _text: None)
        self._listeners: list[ExitListener] = []
        self._cable, cable_slave = os.openpty()
        tty.setraw(cable_slave)
        # Kept open for the relay's life: with no slave open, the master reads EIO at once.
        self._cable_slave = cable_slave
        self.port = os.ttyname(cable_slave)
        os.set_blocking(self._cable, False)
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        self._orders: queue.SimpleQueue[tuple[str, threading.Event | None]] = queue.SimpleQueue()
        self._sel = selectors.DefaultSelector()
        self._run: ProgramRun | None = None
        self._out = bytearray()  # program -> cable, not yet written
        self._in = bytearray()  # cable -> program, not yet written
        self._host_spoke = False  # the Console listens: output may go to the cable
        self._reboot_typed: float | None = None
        self._crash_seen: float | None = None
        self._last_output = 0.0
        self._quick_exits = 0
        self._stopping = False
        self.given_up: str | None = None  # why the program is no longer restarted
        self.runs = 0
        self._started = threading.Event()
        self._start_error: BaseException | None = None
        self._thread = threading.Thread(target=self._main, name="vela-process-relay", daemon=True)

    # --- the harness's side ----------------------------------------------------------------

    def on_exit(self, listener: ExitListener) -> None:
        """Call ``listener`` (on the relay's thread) each time a run of the program ends."""
        self._listeners.append(listener)

    def start(self, timeout: float = 10.0) -> str:
        """Start the thread and the program's first run; the cable's port for the Console."""
        self._thread.start()
        if not self._started.wait(timeout):
            raise RigError(f"the program {self.argv[0]} was not started within {timeout:g} s")
        if self._start_error is not None:
            raise RigError(f"cannot start {self.argv[0]}: {self._start_error}")
        return self.port

    @property
    def pid(self) -> int | None:
        run = self._run
        return run.pid if run is not None else None

    def restart(self, timeout: float = 10.0) -> None:
        """Kill the running program (its process group) and start it again: a power cycle.
        Returns once the new run has started."""
        done = threading.Event()
        self._order("restart", done)
        if not done.wait(timeout):
            raise RigError(f"the program {self.argv[0]} was not restarted within {timeout:g} s")
        if self.given_up:
            raise RigError(self.given_up)

    def listening(self) -> None:
        """The Console has opened the cable: what the program printed so far may go to it."""
        self._order("listening", None)

    def crash_seen(self) -> None:
        """A crash marker reached the console (called from the console's reader thread)."""
        self._order("crash", None)

    def stop(self, timeout: float = 5.0) -> None:
        """End the program and the relay; never leaves the program running."""
        if self._thread.is_alive():
            self._order("stop", None)
            self._thread.join(timeout)
        run, self._run = self._run, None
        if run is not None:  # the thread is gone or stuck: end the program from here
            run.kill()
            run.close()
        for fd in (self._cable, self._cable_slave, self._wake_r, self._wake_w):
            with contextlib.suppress(OSError):
                os.close(fd)
        self._sel.close()

    def _order(self, what: str, done: threading.Event | None) -> None:
        self._orders.put((what, done))
        with contextlib.suppress(OSError):
            os.write(self._wake_w, b"!")

    # --- the relay's thread ----------------------------------------------------------------

    def _main(self) -> None:
        try:
            self._spawn()
        except BaseException as exc:
            self._start_error = exc
            self._started.set()
            return
        self._started.set()
        try:
            self._sel.register(self._cable, selectors.EVENT_READ, self._from_cable)
            self._sel.register(self._wake_r, selectors.EVENT_READ, self._woken)
            while not self._stopping:
                self._interest()
                for key, events in self._sel.select(self._timeout()):
                    key.data(events)
                    if self._stopping:
                        break
                self._timers()
        finally:
            self._end_run("stopped", asked=True, restart=False)

    def _interest(self) -> None:
        cable = selectors.EVENT_READ | (selectors.EVENT_WRITE if self._writable_out() else 0)
        self._sel.modify(self._cable, cable, self._from_cable)
        run = self._run
        if run is not None:
            open_tty = not run.output_closed and len(self._out) < PENDING_LIMIT
            reading = selectors.EVENT_READ if open_tty else 0
            events = reading | (selectors.EVENT_WRITE if self._in else 0)
            key = self._sel.get_map().get(run.master)
            if key is not None and events:
                self._sel.modify(run.master, events, self._program_io)
            elif key is not None:
                self._sel.unregister(run.master)
            elif events:
                self._sel.register(run.master, events, self._program_io)

    def _writable_out(self) -> bool:
        return bool(self._out) and self._host_spoke

    def _timeout(self) -> float | None:
        if self._crash_seen is None or not self.restart_after_crash or self._run is None:
            return None
        quiet_from = max(self._crash_seen, self._last_output)
        return max(0.0, quiet_from + self.crash_quiet - time.monotonic())

    def _timers(self) -> None:
        if self._timeout() == 0.0:
            self._note("the crash's output has gone quiet: restarting the program")
            self._end_run("restarted after a crash", asked=False, in_crash=True, restart=True)

    def _woken(self, _events: int) -> None:
        with contextlib.suppress(BlockingIOError):
            os.read(self._wake_r, 4096)
        while True:
            try:
                what, done = self._orders.get_nowait()
            except queue.Empty:
                return
            if what == "stop":
                self._stopping = True
            elif what == "crash":
                self._crash_seen = time.monotonic()
            elif what == "listening":
                self._host_spoke = True
                self._write_cable()
            elif what == "restart":
                self._quick_exits = 0
                self.given_up = None
                if self._run is None:
                    self._spawn()
                else:
                    self._end_run("restarted (hard reset)", asked=True, restart=True)
            if done is not None:
                done.set()

    # --- bytes ---------------------------------------------------------------------------

    def _from_cable(self, events: int) -> None:
        if events & selectors.EVENT_READ:
            try:
                data = os.read(self._cable, READ_SIZE)
            except (BlockingIOError, InterruptedError):
                data = b""
            if data:
                self._host_spoke = True
                if self._typing.typed(data):
                    self._reboot_typed = time.monotonic()
                if self._run is not None:
                    self._in += self._typing.released(data)
                    self._write_program()
        if events & selectors.EVENT_WRITE:
            self._write_cable()

    def _program_io(self, events: int) -> None:
        run = self._run
        if run is None:
            return
        if events & selectors.EVENT_WRITE:
            self._write_program()
        if events & selectors.EVENT_READ:
            try:
                data = os.read(run.master, READ_SIZE)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                if exc.errno != errno.EIO:
                    raise
                data = b""  # its side of the pty is closed: the run is ending
            if not data:
                run.output_closed = True
                self._sel.unregister(run.master)
                self._finish_run()
                return
            self._output(run, data)

    def _output(self, run: ProgramRun, data: bytes) -> None:
        if not run.output_seen:
            run.output_seen = True
            if run.clear_onlcr():
                self._note("the program set ONLCR on its terminal: cleared (lines end \\r\\n)")
        self._last_output = time.monotonic()
        self._out += data
        self._write_cable()

    def _write_cable(self) -> None:
        if not self._writable_out():
            return
        try:
            written = os.write(self._cable, self._out)
        except (BlockingIOError, InterruptedError):
            return
        del self._out[:written]

    def _write_program(self) -> None:
        run = self._run
        if run is None or not self._in:
            self._in.clear()
            return
        try:
            written = os.write(run.master, self._in)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self._in.clear()  # the program is gone: what was typed is lost, as on a dead board
            return
        del self._in[:written]

    # --- runs ----------------------------------------------------------------------------

    def _spawn(self) -> None:
        try:
            self._run = ProgramRun(self.argv, self.cwd, self.env)
        except OSError as exc:
            if not self.runs:
                raise  # the first run: start() says why
            self.given_up = f"the program {self.argv[0]} cannot be started again: {exc}"
            self._note(self.given_up)
            return
        self.runs += 1
        self._typing.new_run()
        self._crash_seen = None
        self._in.clear()
        self._sel.register(self._run.pidfd, selectors.EVENT_READ, self._exited)

    def _exited(self, _events: int) -> None:
        self._finish_run()

    def _finish_run(self) -> None:
        """The run ended by itself (its pidfd, or its pty closed): drain it and judge it."""
        run = self._run
        if run is None or not select.select([run.pidfd], [], [], 0)[0]:
            return  # its tty closed, but it still runs: its pidfd will tell
        asked = self._reboot_typed is not None and (
            time.monotonic() - self._reboot_typed < ASKED_EXIT_WINDOW
        )
        self._end_run("ended by itself", asked=asked, in_crash=self._crash_seen is not None)

    def _end_run(
        self, why: str, *, asked: bool, in_crash: bool = False, restart: bool | None = None
    ) -> None:
        """End the current run (killing it if it still runs), tell the listeners, and start
        the next one unless stopping (``restart`` None: as the exit's kind decides)."""
        run, self._run = self._run, None
        if run is None:
            return
        self._drain(run)
        for fd in (run.master, run.pidfd):
            with contextlib.suppress(KeyError, ValueError):
                self._sel.unregister(fd)
        status = run.kill()
        run.close()
        self._reboot_typed = None
        ended = ProgramExit(status, time.time(), asked, in_crash)
        self._note(f"the program {ended.described} ({why})")
        for listener in self._listeners:
            with contextlib.suppress(Exception):  # a listener's bug must not stop the relay
                listener(ended)
        if self._stopping or restart is False:
            return
        if not ended.asked and time.monotonic() - run.started < QUICK_EXIT_S:
            self._quick_exits += 1
        else:
            self._quick_exits = 0
        if self._quick_exits >= QUICK_EXITS:
            self.given_up = (
                f"the program {self.argv[0]} {ended.described} within {QUICK_EXIT_S:g} s of "
                f"starting, {QUICK_EXITS} times in a row: it is not started again (its output is "
                "in the console log)"
            )
            self._note(self.given_up)
            return
        self._spawn()

    def _drain(self, run: ProgramRun) -> None:
        """What the run printed before it ended still goes to the Console."""
        with contextlib.suppress(OSError):
            while data := os.read(run.master, READ_SIZE):
                self._output(run, data)
