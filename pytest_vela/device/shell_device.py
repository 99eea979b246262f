"""What the file and app operations need of a watch: its shell and console. A protocol, so
that those modules depend on this and not on the ``Watch`` that uses them."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from pytest_vela.console.port import Console
from pytest_vela.rigfile.loader import Rig


class ShellDevice(Protocol):
    rig: Rig
    console: Console

    @property
    def log_path(self) -> Path: ...

    @property
    def log_shown(self) -> str: ...

    def shell(self, cmd: str, timeout: float | None = None) -> str: ...

    def expect_prompt(
        self, timeout: float, doing: str, echo: re.Pattern[str] | None = None
    ) -> re.Match[str]: ...

    def reset(self, hard: bool = False) -> float: ...

    def progress_for(self, name: str) -> Callable[[int, int], None] | None: ...

    def app_stopped(self, package: str) -> None: ...
