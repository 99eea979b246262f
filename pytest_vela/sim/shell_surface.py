"""What a command of the simulated shell sees of the shell: its output, its working
directory, its file store, its apps, its faults and the console's raw input. nsh's commands
(``nsh_commands``) and the watch's tools (``vela_tools``) are written against this surface, and
the shell (``shell``) that runs them provides it, so that neither side imports the other."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Protocol

from pytest_vela.common.byte_queue import ByteQueue
from pytest_vela.sim.dialect import Dialect
from pytest_vela.sim.filestore import FileStore

Write = Callable[[bytes], Coroutine[Any, Any, None]]


@dataclass(frozen=True)
class Command:
    """A command: what runs it (True when it printed the prompt itself, as a reboot does),
    its usage (``help <name>``), the arguments it needs, and whether it is a builtin app
    (``help`` lists those apart)."""

    run: Callable[[list[str]], Awaitable[bool | None]]
    usage: str = ""
    min_args: int = 0
    app: bool = False


class AppHost(Protocol):
    """What the shell needs from the app runtime (``AppRuntime``)."""

    async def start_app(self, package: str) -> str | None: ...
    async def stop_app(self, package: str) -> None: ...
    async def stop_all(self) -> None: ...
    def running_apps(self) -> list[str]: ...


@dataclass
class Faults:
    hung: bool = False
    install_busy: int = 0


class ShellSurface(Protocol):
    store: FileStore
    dialect: Dialect
    apps: AppHost
    faults: Faults
    cwd: str
    raw_inbox: ByteQueue | None  # a transfer's, while ``rb`` receives
    commands: dict[str, Command]
    write: Write
    write_now: Callable[[bytes], bool]

    async def out(self, text: str) -> None: ...
    def log_line(self, tag: str, text: str) -> str: ...
    async def reboot(self) -> None: ...
    async def crash(self) -> None: ...
    def take_pending(self) -> bytes: ...
