"""The watch's own tools on the simulated shell, listed by ``help`` as builtin apps: YMODEM
receive (``rb``), the quick-app package and activity managers (``pm``, ``am``, in the words
Vela's tools print), the image's identity, hash and staging (``imginfo``, ``sha256``,
``ota``), and ``flood`` for benchmarks. Missing arguments and files are said as nsh says
them."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

from pytest_vela.common.byte_queue import ByteQueue, QueueClosed
from pytest_vela.sim import ymodem_rx
from pytest_vela.sim.apps import APP_ROOT, BadPackage, installed, uninstall, unpack
from pytest_vela.sim.nsh_commands import EISDIR, ENOENT, failed
from pytest_vela.sim.shell_surface import Command, ShellSurface

log = logging.getLogger(__name__)
FACTORY_IMAGE = b"vela-sim factory image\n"


class VelaTools:
    def __init__(self, shell: ShellSurface) -> None:
        self.shell = shell
        self.image = FACTORY_IMAGE
        self.pending_image: Path | None = None

    def table(self) -> dict[str, Command]:
        return {
            "am": Command(self.am, "start <package> | stop <package>", 2, app=True),
            "flood": Command(self.flood, "[<lines> [<width>]]", app=True),
            "imginfo": Command(self.imginfo, app=True),
            "ota": Command(self.ota, "<image>", 1, app=True),
            "pm": Command(self.pm, "install <rpk> | uninstall <package> | list", 1, app=True),
            "rb": Command(self.rb, app=True),
            "sha256": Command(self.sha256, "<file>", 1, app=True),
        }

    def boot(self) -> str:
        """A boot runs the staged image, if any; returns the running image's SHA-256."""
        if self.pending_image is not None:
            self.image = self.pending_image.read_bytes()
            self.pending_image = None
        return hashlib.sha256(self.image).hexdigest()

    async def rb(self, args: list[str]) -> None:
        shell = self.shell
        dest = shell.store.resolve(".", shell.cwd)
        inbox = shell.raw_inbox = ByteQueue()
        inbox.feed(shell.take_pending())
        try:
            ok = await ymodem_rx.receive(dest, inbox, shell.write, shell.write_now)
        except QueueClosed:
            return  # the power went off mid-transfer: nothing more to say
        except Exception:  # the receiver choked on what the line brought (a cut transfer)
            log.exception("rb: the YMODEM receiver failed")
            ok = False
        finally:
            if shell.raw_inbox is inbox:
                shell.raw_inbox = None
        await shell.out("\nrb: transfer complete\n" if ok else "\nrb: transfer failed\n")

    async def pm(self, args: list[str]) -> None:
        shell = self.shell
        sub, rest = args[0], args[1:]
        if sub == "install" and rest:
            await self._pm_install(rest[0])
        elif sub == "uninstall" and rest:
            package = rest[0]
            if package not in installed(shell.store):
                await shell.out(f"uninstall failed: {package} is not installed\n")
                return
            await shell.apps.stop_app(package)
            uninstall(shell.store, package)
            await shell.out(f"uninstalled app: {package}\n")
        elif sub == "list":
            await shell.out("".join(f"{p}\n" for p in installed(shell.store)))
        else:
            await shell.out(f"pm: unknown command {sub!r}\n")

    async def _pm_install(self, path: str) -> None:
        shell = self.shell
        if shell.faults.install_busy > 0:
            shell.faults.install_busy -= 1
            await shell.out("installRpk: installation is running, please wait\n")
            return
        target = shell.store.resolve(path, shell.cwd)
        if not target.is_file():
            await shell.out(f"pm: {path}: No such file or directory\n")
            return
        try:
            package = unpack(shell.store, target)
        except BadPackage:
            await shell.out(shell.log_line("ERROR", "uv_mq_read_cb: install prepare failed"))
            return
        await shell.out(f"onInstallResult: {package}(success 0)\n")

    async def am(self, args: list[str]) -> None:
        shell = self.shell
        action, package = args[0], args[1]
        if action == "stop":
            await shell.apps.stop_app(package)
            return
        if action != "start":
            await shell.out(f"am: unknown command {action!r}\n")
            return
        if package not in installed(shell.store):
            await shell.out(f"Failed to open: {APP_ROOT}/{package}/manifest.json\n")
            return
        error = await shell.apps.start_app(package)
        if error is not None:
            await shell.out(f"Failed to open: {APP_ROOT}/{package}: {error}\n")
            return
        await shell.out(shell.log_line(" INFO", f"{package}: Start main loop"))

    async def imginfo(self, args: list[str]) -> None:
        digest = hashlib.sha256(self.image).hexdigest()
        await self.shell.out(f"image: sha256 {digest} size {len(self.image)}\n")

    def _file(self, command: str, path: str) -> Path | str:
        """The file at ``path``, or nsh's words for why it cannot be read."""
        shell = self.shell
        if not shell.store.exists(path, shell.cwd):
            return failed(command, "open", ENOENT)
        if shell.store.is_dir(path, shell.cwd):
            return failed(command, "read", EISDIR)
        return shell.store.resolve(path, shell.cwd)

    async def sha256(self, args: list[str]) -> None:
        found = self._file("sha256", args[0])
        if isinstance(found, str):
            await self.shell.out(found)
            return
        digest, size = self.shell.store.sha256(args[0], self.shell.cwd)
        await self.shell.out(f"{digest}  {size}  {args[0]}\n")

    async def ota(self, args: list[str]) -> None:
        found = self._file("ota", args[0])
        if isinstance(found, str):
            await self.shell.out(found)
            return
        self.pending_image = found
        await self.shell.out("ota: image staged, applied at next boot\n")

    async def flood(self, args: list[str]) -> None:
        """Diagnostics: print numbered lines as fast as the line allows (benchmarks use it)."""
        count = int(args[0]) if args else 1000
        width = int(args[1]) if len(args) > 1 else 80
        pad = "x" * max(0, width - 12)
        batch: list[str] = []
        for i in range(count):
            batch.append(f"{i:010d} {pad}\n")
            if len(batch) == 256:
                await self.shell.out("".join(batch))
                batch.clear()
        await self.shell.out("".join(batch))
