"""The simulated watch's apps: installed packages unpacked under ``/data/app/<package>/`` (their
own data under ``/data/appdata/<package>/``, see ``appdata``), and the one app running in the
foreground, run by the quick-app host on top of the platform."""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import zipfile
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path, PurePosixPath
from typing import Any

from pytest_vela.common.tasks import BackgroundTasks
from pytest_vela.sim import appdata
from pytest_vela.sim.dialogs import DialogAnswers
from pytest_vela.sim.filestore import FileStore
from pytest_vela.sim.platform import InterconnectPlatform, LinkEvent, Outcome
from pytest_vela.sim.quickapp import pipe
from pytest_vela.sim.quickapp.host import NodeAppHost

APP_ROOT = "/data/app"
#: Prints one app log line: (level, text).
AppLog = Callable[[str, str], None]
Intercept = Callable[[str], Awaitable[Outcome | None]]


class BadPackage(ValueError):
    """Not an rpk: no readable manifest naming a package, or a member outside the package."""


def app_dir(store: FileStore, package: str) -> Path:
    return store.resolve(f"{APP_ROOT}/{package}")


def read_manifest(rpk: Path) -> dict[str, Any]:
    try:
        with zipfile.ZipFile(rpk) as archive:
            manifest = json.loads(archive.read("manifest.json"))
        if not isinstance(manifest, dict) or not isinstance(manifest.get("package"), str):
            raise BadPackage("manifest.json names no package")
        return manifest
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise BadPackage(str(exc)) from None


def unpack(store: FileStore, rpk: Path, package: str | None = None) -> str:
    """Unpack ``rpk`` into ``/data/app/<package>/`` (replacing what was there) and return the
    package; with ``package`` given, install it under that name (its manifest says so)."""
    manifest = read_manifest(rpk)
    package = package or str(manifest["package"])
    target = app_dir(store, package)
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    with zipfile.ZipFile(rpk) as archive:
        for member in archive.infolist():
            name = PurePosixPath(member.filename)
            if name.is_absolute() or ".." in name.parts:
                shutil.rmtree(target, ignore_errors=True)
                raise BadPackage(f"member {member.filename!r} points outside the package")
            if member.is_dir():
                continue
            dest = target.joinpath(*name.parts)
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(archive.read(member))
    if manifest["package"] != package:
        manifest["package"] = package
        (target / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2))
    return package


def uninstall(store: FileStore, package: str) -> None:
    """``pm uninstall``: the package and the app's own data (storage, files) both go."""
    shutil.rmtree(app_dir(store, package), ignore_errors=True)
    with contextlib.suppress(appdata.BadAppData):
        appdata.remove(store, package)


def installed(store: FileStore) -> list[str]:
    root = store.resolve(APP_ROOT)
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if (p / "manifest.json").is_file())


class AppRuntime:
    """Starts and stops apps in the quick-app host and binds the running one to the platform.

    One app runs at a time, as in a watch's foreground: starting another ends the one before.
    """

    def __init__(
        self,
        store: FileStore,
        platform: InterconnectPlatform,
        host: NodeAppHost,
        app_log: AppLog,
        intercept: Intercept | None = None,
        device: Mapping[str, Any] | None = None,
    ) -> None:
        self.store = store
        self.platform = platform
        self.host = host
        self.app_log = app_log
        self.intercept = intercept
        #: The watch's ``[sim.device]`` settings, handed to each app its modules answer from.
        self.device = dict(device or {})
        self.dialogs = DialogAnswers()
        self.running: str | None = None
        self._lock = asyncio.Lock()
        self._background = BackgroundTasks()
        host.on_output = self._on_host

    def installed(self) -> list[str]:
        return installed(self.store)

    def running_apps(self) -> list[str]:
        return [self.running] if self.running else []

    async def start_app(self, package: str) -> str | None:
        """Run ``package``; None once it runs, else why not."""
        async with self._lock:
            if self.running == package:
                return None
            if self.running is not None:
                await self._stop(self.running)
            # It runs from its first line: what it calls in onInit (a dialog, the link's
            # state) is answered, not taken for a call of an app that has gone.
            self.running = package
            error = await self.host.start_app(
                package,
                app_dir(self.store, package),
                device=self.device,
                data=appdata.layout(self.store, package),
            )
            if error is not None:
                self.running = None
                return error
            self.platform.app_started(lambda event: self.host.send(_order(package, event)))
            return None

    async def stop_app(self, package: str) -> None:
        async with self._lock:
            if self.running == package:
                await self._stop(package)

    async def stop_all(self) -> None:
        async with self._lock:
            if self.running is not None:
                await self._stop(self.running)

    async def settle(self, package: str, within: float, limit: float) -> bool:
        """Wait until ``package`` has nothing left to do within ``within`` s (at most
        ``limit``); whether it settled (False as well when it does not run)."""
        if self.running != package:
            return False
        return await self.host.settle(package, within, limit)

    async def _stop(self, package: str) -> None:
        self._ended()
        await self.host.stop_app(package)

    def _ended(self) -> None:
        self.running = None
        self.platform.app_stopped()
        self.dialogs.close_all()

    # --- what the apps do --------------------------------------------------------------------

    def _on_host(self, message: pipe.FromHost) -> None:
        if isinstance(message, pipe.ConsoleOutput):
            self.app_log(message.level, message.text)
        elif isinstance(message, pipe.Uncaught):
            self.app_log("error", message.text)
            for line in message.stack:
                self.app_log("error", line)
        elif isinstance(message, pipe.Call):
            self._background.spawn(self._call(message))
        elif isinstance(message, pipe.Exited) and self.running == message.app:
            self._ended()

    async def _call(self, call: pipe.Call) -> None:
        outcome = await self._outcome(call)
        if self.running != call.app:
            return  # it ended meanwhile: nobody is left to call back
        self.host.send(
            pipe.Reply(call.app, call.call, outcome.ok, outcome.value, outcome.code, outcome.data)
        )

    async def _outcome(self, call: pipe.Call) -> Outcome:
        if self.running != call.app:
            return Outcome(False, code=1000, data=f"{call.app} is not running")
        if call.module == "system.prompt":
            answer = await self.dialogs.next()
            return Outcome(True, {} if answer is None else {"index": answer})
        if call.module != "system.interconnect":
            return Outcome(False, code=203, data=f"@{call.module} is not simulated")
        platform = self.platform
        if call.method == "getReadyState":
            return await platform.ready_state()
        if call.method == "diagnosis":
            return await platform.diagnosis(call.args.get("timeout", 10000))
        if call.method == "send":
            text = str(call.args.get("data", ""))
            if self.intercept is not None:
                claimed = await self.intercept(text)
                if claimed is not None:
                    return claimed
            data_type = str(call.args.get("type", "object"))
            return await platform.send(text, data_type, call.args.get("timeout"))
        return Outcome(False, code=203, data=f"connect.{call.method}() is not simulated")


def _order(package: str, event: LinkEvent) -> pipe.Event:
    """A platform event as the host's ``event`` order for the app ``package``."""
    return pipe.Event(package, event.kind, event.fields, event.replay, list(event.forget) or None)
