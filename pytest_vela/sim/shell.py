"""The simulated watch's shell: nsh as a NuttX build speaks it (``dialect``), on a line
discipline (``line_discipline``), with nsh's commands (``nsh_commands``) and the watch's own
tools (``vela_tools``). Here: its life cycle, boot and crash, and running one command line at
a time, as nsh does."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shlex
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from pytest_vela.common.byte_queue import ByteQueue
from pytest_vela.common.tasks import BackgroundTasks
from pytest_vela.sim.dialect import DIALECTS, GREETING, crash_lines
from pytest_vela.sim.filestore import FileStore
from pytest_vela.sim.line_discipline import LineDiscipline
from pytest_vela.sim.nsh_commands import NshCommands
from pytest_vela.sim.shell_surface import AppHost, Command, Faults, Write
from pytest_vela.sim.vela_tools import VelaTools

#: An app's console level → the log line's tag (docs/architecture.md, "The watch's log").
APP_LOG_TAGS = {
    "debug": "DEBUG",
    "log": " INFO",
    "info": " INFO",
    "warn": " WARN",
    "error": "ERROR",
}
ERASE_TO_EOL = "\x1b[K"  # readline's, each time it starts reading a line
CRASH_TO_REBOOT_S = 0.05

log = logging.getLogger(__name__)


@dataclass
class ShellConfig:
    prompt: str = "nsh> "
    boot_line: str = GREETING
    boot_ms: int = 150
    dialect: str = "vela"
    line_end: str = "\r\n"


class Shell:
    """Consumes console input, writes console output; one command runs at a time, as in nsh."""

    def __init__(
        self,
        write: Write,
        store: FileStore,
        config: ShellConfig,
        apps: AppHost,
        on_boot: Callable[[], Awaitable[None]] | None = None,
        write_now: Callable[[bytes], bool] | None = None,
    ) -> None:
        self.write = write
        self.write_now = write_now or (lambda _data: False)
        self._on_boot = on_boot
        self.store = store
        self.config = config
        self.dialect = DIALECTS[config.dialect]
        self.apps = apps
        self.faults = Faults()
        self.cwd = "/"
        self.boots = 0
        self.booting = False
        self.raw_inbox: ByteQueue | None = None  # a transfer's, while ``rb`` receives
        self.discipline = LineDiscipline(config.line_end)
        self._typed: asyncio.Queue[bytes] = asyncio.Queue()  # input the shell has not read
        self._pending = b""  # read from the queue, not yet by the shell
        self._worker: asyncio.Task[None] | None = None
        self._background = BackgroundTasks()
        self._started = time.monotonic()
        self.tools = VelaTools(self)
        self.commands: dict[str, Command] = {**NshCommands(self).table(), **self.tools.table()}

    # --- life cycle -------------------------------------------------------------------

    def start(self) -> None:
        self._worker = asyncio.create_task(self._run_lines())

    async def stop(self) -> None:
        if self._worker:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker

    async def out(self, text: str) -> None:
        await self.write(self.discipline.encode(text))

    async def prompt(self) -> None:
        """The prompt, then the erase to the end of the line readline prints."""
        await self.out(self.config.prompt + ERASE_TO_EOL)

    def uptime(self) -> float:
        return time.monotonic() - self._started

    def log_line(self, tag: str, text: str) -> str:
        return f"[{self.uptime():12.6f}] [{tag}] {text}\n"

    async def boot_sequence(self) -> None:
        """What a power-on prints: nsh's greeting (after ``boot_line`` as a log line when that
        is another text), then the prompt."""
        self.booting = True
        self._end_transfer()
        self._started = time.monotonic()
        self.boots += 1
        self.cwd = "/"
        self.discipline.clear()
        self.take_pending()
        self.tools.boot()
        if self._on_boot is not None:
            await self._on_boot()
        await asyncio.sleep(self.config.boot_ms / 1000)
        line = self.config.boot_line
        done = "" if line == GREETING else self.log_line(" INFO", line)
        self.booting = False
        await self.out(f"{done}\n{GREETING}\n")
        await self.prompt()

    def app_log(self, level: str, text: str) -> None:
        """An app's console output, as the watch logs it: ``[JS]`` after the level tag."""
        tag = APP_LOG_TAGS.get(level, " INFO")
        lines = text.split("\n") or [""]
        self._background.spawn(self.out("".join(self.log_line(tag, f"[JS] {ln}") for ln in lines)))

    async def reboot(self) -> None:
        await self.apps.stop_all()
        await self.boot_sequence()

    async def crash(self) -> None:
        """An assertion, as NuttX reports it; then the board resets, as a watch's does."""
        await self.apps.stop_all()
        await self.out("\n".join(crash_lines(self.dialect)) + "\n")
        await asyncio.sleep(CRASH_TO_REBOOT_S)
        await self.boot_sequence()

    def _end_transfer(self) -> None:
        """A reboot ends a transfer in progress, as a power cycle ends a real receiver."""
        inbox, self.raw_inbox = self.raw_inbox, None
        if inbox is not None:
            inbox.close()

    # --- input ---------------------------------------------------------------------------

    def feed(self, data: bytes) -> None:
        """Console input, already paced to the line rate."""
        if self.faults.hung or self.booting:
            return
        if self.raw_inbox is not None:
            self.raw_inbox.feed(data)
            return
        self._typed.put_nowait(data)

    def take_pending(self) -> bytes:
        """Input typed ahead and not read by the shell (a command that reads the console
        itself, as ``rb`` does, takes it)."""
        pending, self._pending = self._pending, b""
        while not self._typed.empty():
            pending += self._typed.get_nowait()
        return pending

    @property
    def idle(self) -> bool:
        """Nothing typed waits to be read (tests wait for this)."""
        return not self._pending and self._typed.empty()

    async def _read_line(self) -> str:
        """The next line, echoed as it is read."""
        while True:
            if not self._pending:
                self._pending = await self._typed.get()
            echo, line, self._pending = self.discipline.take(self._pending)
            if echo:
                await self.write(echo)
            if line is not None:
                return line

    async def _run_lines(self) -> None:
        while True:
            line = await self._read_line()
            if self.faults.hung or self.booting:
                continue
            try:
                prompted = await self.run(line)
            except Exception:  # one command's bug must not cost the watch its shell
                log.exception("command %r failed", line)
                await self.out(f"nsh: {line.split(' ', 1)[0]}: internal error\n")
                prompted = False
            if not (prompted or self.faults.hung or self.booting):
                await self.prompt()

    async def run(self, line: str) -> bool:
        """Run one command line (commands apart by ``;``); True when it printed the prompt
        itself (a reboot)."""
        try:
            lexer = shlex.shlex(line, posix=True, punctuation_chars=";")
            lexer.whitespace_split = True
            tokens = list(lexer)
        except ValueError:
            await self.out("nsh: syntax error\n")
            return False
        argv: list[str] = []
        for token in [*tokens, ";"]:
            if token != ";":
                argv.append(token)
                continue
            if argv and await self._run_one(argv):
                return True
            argv = []
        return False

    async def _run_one(self, argv: list[str]) -> bool:
        command = self.commands.get(argv[0])
        if command is None:
            await self.out(f"nsh: {argv[0]}: command not found\n")
            return False
        if len(argv) - 1 < command.min_args:
            await self.out(f"nsh: {argv[0]}: missing required argument(s)\n")
            return False
        return bool(await command.run(argv[1:]))

    def garbage(self, n: int) -> Awaitable[None]:
        return self.write(os.urandom(n))
