"""What three shells answer to the same commands, as raw text: the simulated shell (in
process, fed as its pty feeds it), a live NuttX build on a pty, and a shared transcript of
one. The shape tests compare them."""

from __future__ import annotations

import asyncio
import re
import select
import time
from dataclasses import dataclass, field
from pathlib import Path

import serial

from pytest_vela.sim.filestore import FileStore
from pytest_vela.sim.shell import Shell, ShellConfig
from tests.support.nuttx_pty import nuttx_on_pty
from tests.support.transcripts import read_transcript

PROMPT = "nsh> \x1b[K"
LINE_END = re.compile(r"\r*\n")
TRANSCRIPTS = {"apache": "transcript-apache.txt", "vela": "transcript-vela.txt"}
CRASH_TRANSCRIPT = "transcript-apache-crash.txt"
CRASH_COMMAND = "exec 0x400042e2"  # sched_unlock in the shared apache build: an assertion


@dataclass
class Session:
    """A shell's greeting and its raw answer (echo to prompt) to each command."""

    boot: str = ""
    outputs: dict[str, str] = field(default_factory=dict)

    def lines(self, command: str) -> list[str]:
        """What ``command`` printed: its lines, without the echo and the prompt after."""
        raw = self.outputs[command]
        lines = LINE_END.split(raw.removesuffix(PROMPT))
        assert lines[0] == command, f"{command!r} is echoed first: {raw!r}"
        if lines[-1] == "":
            lines.pop()
        return lines[1:]


def transcript_session(dialect: str) -> Session:
    found = read_transcript(TRANSCRIPTS[dialect])
    session = Session(found.boot, {e.typed: e.output for e in found.exchanges})
    if dialect == "apache":
        crash = read_transcript(CRASH_TRANSCRIPT)
        session.outputs[CRASH_COMMAND] = crash.output_of(CRASH_COMMAND)
    return session


class _FakeApps:
    def __init__(self) -> None:
        self.running: list[str] = []

    async def start_app(self, package: str) -> str | None:
        self.running.append(package)
        return None

    async def stop_app(self, package: str) -> None:
        self.running = [p for p in self.running if p != package]

    async def stop_all(self) -> None:
        self.running.clear()

    def running_apps(self) -> list[str]:
        return list(self.running)


def sim_session(dialect: str, root: Path, commands: list[str], line_end: str = "\r\r\n") -> Session:
    """The simulated shell's boot and answers, its lines ending ``line_end``."""

    async def main() -> Session:
        output = bytearray()

        async def write(data: bytes) -> None:
            output.extend(data)

        config = ShellConfig(boot_ms=0, dialect=dialect, line_end=line_end)
        shell = Shell(write, FileStore(root), config, _FakeApps())
        shell.start()
        try:
            await shell.boot_sequence()
            session = Session(output.decode())
            for command in commands:
                del output[:]
                shell.feed(command.encode() + b"\r")
                for _ in range(500):
                    await asyncio.sleep(0.01)
                    if output.endswith(PROMPT.encode()) and shell.idle:
                        break
                session.outputs[command] = output.decode()
            return session
        finally:
            await shell.stop()

    return asyncio.run(main())


def live_session(dialect: str, tmp_path: Path, commands: list[str]) -> Session:
    """A real build's boot and answers on a pty (its lines end ``\\r\\r\\n``, as in the
    transcripts). A command that leaves no prompt (a crash) is read until the line is quiet."""
    with nuttx_on_pty(dialect, tmp_path) as nuttx:
        port = serial.serial_for_url(nuttx.path, 921600, timeout=10)
        try:
            nuttx.start()
            session = Session(port.read_until(PROMPT.encode()).decode())
            for command in commands:
                port.write(command.encode() + b"\r")
                session.outputs[command] = _answer(port).decode()
        finally:
            port.close()
    return session


def _answer(port: serial.SerialBase, quiet: float = 1.0, limit: float = 10.0) -> bytes:
    """Bytes until the prompt ends them, or until the line was quiet for ``quiet`` s."""
    data = b""
    deadline = time.monotonic() + limit
    while not data.endswith(PROMPT.encode()) and time.monotonic() < deadline:
        ready, _, _ = select.select([port.fileno()], [], [], quiet)
        if not ready:
            break
        data += port.read(port.in_waiting or 1)
    return data
