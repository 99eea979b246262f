"""An nsh-like shell for the simulated watch: prompt, echo, boot, crash, and the commands the
harness uses (``rb``, ``pm``, ``am``, image info), answering with the device's own words."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import shlex
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from pytest_vela.common.byte_queue import ByteQueue, QueueClosed
from pytest_vela.common.tasks import BackgroundTasks
from pytest_vela.sim import ymodem_rx
from pytest_vela.sim.apps import APP_ROOT, BadPackage, installed, uninstall, unpack
from pytest_vela.sim.filestore import FileStore

Write = Callable[[bytes], Coroutine[Any, Any, None]]
#: An app's console level → the log line's tag (docs/architecture.md, "The watch's log").
APP_LOG_TAGS = {
    "debug": "DEBUG",
    "log": " INFO",
    "info": " INFO",
    "warn": " WARN",
    "error": "ERROR",
}

log = logging.getLogger(__name__)


class AppHost(Protocol):
    """What the shell needs from the app runtime (``AppRuntime``)."""

    async def start_app(self, package: str) -> str | None: ...
    async def stop_app(self, package: str) -> None: ...
    async def stop_all(self) -> None: ...
    def running_apps(self) -> list[str]: ...


@dataclass
class BootConfig:
    prompt: str = "nsh> "
    boot_line: str = "booting completed"
    boot_ms: int = 150


@dataclass
class Faults:
    hung: bool = False
    install_busy: int = 0


class Shell:
    """Consumes console input, writes console output; one command runs at a time, as in nsh."""

    def __init__(
        self,
        write: Write,
        store: FileStore,
        boot: BootConfig,
        apps: AppHost,
        on_boot: Callable[[], Awaitable[None]] | None = None,
        write_now: Callable[[bytes], bool] | None = None,
    ) -> None:
        self._write = write
        self._write_now = write_now or (lambda _data: False)
        self._on_boot = on_boot
        self.store = store
        self.boot = boot
        self.apps = apps
        self.faults = Faults()
        self.cwd = "/data"
        self.boots = 0
        self.booting = False
        self._line = bytearray()
        self._last_cr = False
        self._lines: asyncio.Queue[str] = asyncio.Queue()
        self._raw_inbox: ByteQueue | None = None
        self._image = b"vela-sim factory image\n"
        self._pending_image: Path | None = None
        self._worker: asyncio.Task[None] | None = None
        self._background = BackgroundTasks()
        self._started = time.monotonic()
        self._commands: dict[str, Callable[[list[str]], Awaitable[bool | None]]] = {
            "help": self._help,
            "reboot": self._reboot_cmd,
            "rb": self._rb,
            "pm": self._pm,
            "am": self._am,
            "ls": self._ls,
            "ps": self._ps,
            "free": self._free,
            "cd": self._cd,
            "pwd": self._pwd,
            "echo": self._echo,
            "imginfo": self._imginfo,
            "sha256": self._sha256,
            "ota": self._ota,
            "flood": self._flood,
            "uname": self._uname,
        }

    # --- life cycle -------------------------------------------------------------------

    def start(self) -> None:
        self._worker = asyncio.create_task(self._run_lines())

    async def stop(self) -> None:
        if self._worker:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker

    async def out(self, text: str) -> None:
        await self._write(text.replace("\n", "\r\n").encode())

    def uptime(self) -> float:
        return time.monotonic() - self._started

    def log_line(self, tag: str, text: str) -> str:
        return f"[{self.uptime():12.6f}] [{tag}] {text}\n"

    async def boot_sequence(self) -> None:
        """Banner, boot-done marker, prompt — what a reboot prints."""
        self.booting = True
        self._end_transfer()
        self._started = time.monotonic()
        self.boots += 1
        self._line.clear()
        while not self._lines.empty():
            self._lines.get_nowait()
        if self._pending_image is not None:
            self._image = self._pending_image.read_bytes()
            self._pending_image = None
        digest = hashlib.sha256(self._image).hexdigest()
        if self._on_boot is not None:
            await self._on_boot()
        await self.out(
            "\nNuttShell (NSH) vela-sim\n"
            + self.log_line(" INFO", f"boot #{self.boots}, image sha256 {digest[:16]}")
            + self.log_line(" INFO", "mount /data: ok")
        )
        await asyncio.sleep(self.boot.boot_ms / 1000)
        await self.out(self.log_line(" INFO", self.boot.boot_line))
        self.booting = False
        await self.out(self.boot.prompt)

    def app_log(self, level: str, text: str) -> None:
        """An app's console output, as the watch logs it: ``[JS]`` after the level tag."""
        tag = APP_LOG_TAGS.get(level, " INFO")
        lines = text.split("\n") or [""]
        self._background.spawn(self.out("".join(self.log_line(tag, f"[JS] {ln}") for ln in lines)))

    async def reboot(self) -> None:
        await self.apps.stop_all()
        await self.boot_sequence()

    async def crash(self) -> None:
        """A firmware panic: the assertion, the panic line, a register dump, then a reboot."""
        await self.apps.stop_all()
        await self.out(
            self.log_line("EMERG", "up_assert: Assertion failed at file: sched/sim.c line: 42")
            + "PANIC!!! Assertion failed\n"
            + self.log_line("EMERG", "R0: 00000000 R1: 2000a3c4 R2: 00000001 R3: deadbeef")
        )
        await asyncio.sleep(0.05)
        await self.boot_sequence()

    # --- input ---------------------------------------------------------------------------

    def feed(self, data: bytes) -> None:
        """Console input, already paced to the line rate."""
        if self.faults.hung or self.booting:
            return
        if self._raw_inbox is not None:
            self._raw_inbox.feed(data)
            return
        echo = bytearray()
        lines: list[str] = []
        for byte in data:
            if byte in (0x0D, 0x0A):
                if byte == 0x0A and self._last_cr:
                    self._last_cr = False
                    continue
                self._last_cr = byte == 0x0D
                echo += b"\r\n"
                lines.append(self._line.decode("utf-8", "replace"))
                self._line.clear()
                continue
            self._last_cr = False
            if byte in (0x08, 0x7F):
                if self._line:
                    self._line.pop()
                    echo += b"\b \b"
            elif byte == 0x03:
                self._line.clear()
                echo += b"^C\r\n"
                lines.append("")
            elif byte >= 0x20:
                self._line.append(byte)
                echo.append(byte)
        # Echo first: the command's output must follow the echoed line, as on a real shell.
        if echo:
            self._background.spawn(self._write(bytes(echo)))
        for line in lines:
            self._lines.put_nowait(line)

    async def _run_lines(self) -> None:
        while True:
            line = await self._lines.get()
            if self.faults.hung or self.booting:
                continue
            try:
                prompted = await self.run(line)
            except Exception:  # one command's bug must not cost the watch its shell
                log.exception("command %r failed", line)
                await self.out(f"nsh: {line.split(' ', 1)[0]}: internal error\n")
                prompted = False
            if not (prompted or self.faults.hung or self.booting):
                await self.out(self.boot.prompt)

    async def run(self, line: str) -> bool:
        """Run one command line; True when it printed the prompt itself (a reboot)."""
        try:
            argv = shlex.split(line)
        except ValueError:
            await self.out("nsh: syntax error\n")
            return False
        if not argv:
            return False
        handler = self._commands.get(argv[0])
        if handler is None:
            await self.out(f"nsh: {argv[0]}: command not found\n")
            return False
        return bool(await handler(argv[1:]))

    # --- commands ------------------------------------------------------------------------

    async def _help(self, args: list[str]) -> None:
        await self.out("Builtin Apps:\n  " + "  ".join(sorted(self._commands)) + "\n")

    async def _reboot_cmd(self, args: list[str]) -> bool:
        await self.reboot()
        return True  # the boot sequence printed the prompt already

    async def _rb(self, args: list[str]) -> None:
        dest = self.store.resolve(".", self.cwd)
        inbox = self._raw_inbox = ByteQueue()
        try:
            ok = await ymodem_rx.receive(dest, inbox, self._write, self._write_now)
        except QueueClosed:
            return  # the power went off mid-transfer: nothing more to say
        except Exception:  # the receiver choked on what the line brought (a cut transfer)
            log.exception("rb: the YMODEM receiver failed")
            ok = False
        finally:
            if self._raw_inbox is inbox:
                self._raw_inbox = None
        await self.out("\nrb: transfer complete\n" if ok else "\nrb: transfer failed\n")

    def _end_transfer(self) -> None:
        """A reboot ends a transfer in progress, as a power cycle ends a real receiver."""
        inbox, self._raw_inbox = self._raw_inbox, None
        if inbox is not None:
            inbox.close()

    async def _pm(self, args: list[str]) -> None:
        if not args:
            await self.out("usage: pm install <rpk> | pm uninstall <package> | pm list\n")
            return
        sub, rest = args[0], args[1:]
        if sub == "install" and rest:
            await self._pm_install(rest[0])
        elif sub == "uninstall" and rest:
            package = rest[0]
            if package not in installed(self.store):
                await self.out(f"uninstall failed: {package} is not installed\n")
                return
            await self.apps.stop_app(package)
            uninstall(self.store, package)
            await self.out(f"uninstalled app: {package}\n")
        elif sub == "list":
            await self.out("".join(f"{p}\n" for p in installed(self.store)))
        else:
            await self.out(f"pm: unknown command {sub!r}\n")

    async def _pm_install(self, path: str) -> None:
        if self.faults.install_busy > 0:
            self.faults.install_busy -= 1
            await self.out("installRpk: installation is running, please wait\n")
            return
        target = self.store.resolve(path, self.cwd)
        if not target.is_file():
            await self.out(f"pm: {path}: No such file or directory\n")
            return
        try:
            package = unpack(self.store, target)
        except BadPackage:
            await self.out(self.log_line("ERROR", "uv_mq_read_cb: install prepare failed"))
            return
        await self.out(f"onInstallResult: {package}(success 0)\n")

    async def _am(self, args: list[str]) -> None:
        if len(args) < 2 or args[0] not in ("start", "stop"):
            await self.out("usage: am start <package> | am stop <package>\n")
            return
        package = args[1]
        if args[0] == "stop":
            await self.apps.stop_app(package)
            return
        if package not in installed(self.store):
            await self.out(f"Failed to open: {APP_ROOT}/{package}/manifest.json\n")
            return
        error = await self.apps.start_app(package)
        if error is not None:
            await self.out(f"Failed to open: {APP_ROOT}/{package}: {error}\n")
            return
        await self.out(self.log_line(" INFO", f"{package}: Start main loop"))

    async def _ls(self, args: list[str]) -> None:
        path = args[0] if args else "."
        if not self.store.is_dir(path, self.cwd):
            await self.out(f"nsh: ls: {path}: No such directory\n")
            return
        await self.out("".join(f" {name}\n" for name in self.store.listdir(path, self.cwd)))

    async def _ps(self, args: list[str]) -> None:
        rows = [
            "  PID PRI STATE    COMMAND",
            "    0   0 READY    Idle Task",
            "    3 100 WAITSIG  nsh",
        ]
        rows += [f"  {10 + i:3d} 100 RUNNING  {p}" for i, p in enumerate(self.apps.running_apps())]
        await self.out("\n".join(rows) + "\n")

    async def _free(self, args: list[str]) -> None:
        await self.out(
            "       total     used     free  largest\nUmem: 4194304  1048576  3145728  3000000\n"
        )

    async def _cd(self, args: list[str]) -> None:
        target = args[0] if args else "/"
        if not self.store.is_dir(target, self.cwd):
            await self.out(f"nsh: cd: {target}: No such directory\n")
            return
        resolved = self.store.resolve(target, self.cwd).relative_to(self.store.root)
        self.cwd = "/" + resolved.as_posix().strip(".").strip("/")

    async def _pwd(self, args: list[str]) -> None:
        await self.out(self.cwd + "\n")

    async def _echo(self, args: list[str]) -> None:
        await self.out(" ".join(args) + "\n")

    async def _uname(self, args: list[str]) -> None:
        await self.out("NuttX vela-sim 12.0 sim\n")

    async def _imginfo(self, args: list[str]) -> None:
        digest = hashlib.sha256(self._image).hexdigest()
        await self.out(f"image: sha256 {digest} size {len(self._image)}\n")

    async def _sha256(self, args: list[str]) -> None:
        if not args or not self.store.exists(args[0], self.cwd):
            await self.out(f"sha256: {args[0] if args else ''}: No such file\n")
            return
        digest, size = self.store.sha256(args[0], self.cwd)
        await self.out(f"{digest}  {size}  {args[0]}\n")

    async def _ota(self, args: list[str]) -> None:
        if not args or not self.store.exists(args[0], self.cwd):
            await self.out(f"ota: {args[0] if args else ''}: No such file\n")
            return
        self._pending_image = self.store.resolve(args[0], self.cwd)
        await self.out("ota: image staged, applied at next boot\n")

    async def _flood(self, args: list[str]) -> None:
        """Diagnostics: print numbered lines as fast as the line allows (benchmarks use it)."""
        count = int(args[0]) if args else 1000
        width = int(args[1]) if len(args) > 1 else 80
        pad = "x" * max(0, width - 12)
        batch: list[str] = []
        for i in range(count):
            batch.append(f"{i:010d} {pad}\n")
            if len(batch) == 256:
                await self.out("".join(batch))
                batch.clear()
        await self.out("".join(batch))

    def garbage(self, n: int) -> Awaitable[None]:
        return self._write(os.urandom(n))
