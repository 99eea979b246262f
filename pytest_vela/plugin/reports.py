"""Allure results per rig: ``<reports>/<rig>/allure-results``, no ``--alluredir`` needed.

allure-pytest's listener builds the results; a routing file logger writes each one into the
directory of the rig whose test produced it, so one run over several rigs yields one results
directory per rig. Fixtures of the plugin's own (``_vela_…``) and pytest's bookkeeping
finalizers (``peer::<lambda>``) are left out of the fixture containers, so a test's page shows
its own set-up and tear-down only.

At the end of a run the controller writes, beside each rig's results, ``categories.json`` and
``environment.properties`` (read by Allure 2) and ``vela-rig.json`` (the rig's environment,
from which ``pytest-vela report`` builds Allure 3's per-rig environments).
"""

from __future__ import annotations

import json
import os
import platform
import re
import socket
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

import allure_commons
from allure_commons.logger import AllureFileLogger

from pytest_vela.report.categories import allure2_categories

CATEGORIES = allure2_categories()
RIG_FILE = "vela-rig.json"
_TEARDOWN_INDEX = re.compile(r"^(?P<fixture>.+)::\d+$")


def results_dir(reports: Path, rig: str) -> Path:
    return reports / rig / "allure-results"


def host_versions() -> dict[str, str]:
    """What ran the tests: the host and the versions that matter to a rerun."""
    found = {"host": socket.gethostname(), "python": platform.python_version()}
    for key, dist in (
        ("pytest-vela", "pytest-vela"),
        ("pytest", "pytest"),
        ("bleak", "bleak"),
        ("pyserial", "pyserial"),
        ("allure-pytest", "allure-pytest"),
    ):
        try:
            found[key] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            found[key] = "not installed"
    return found


def _hidden(name: str) -> bool:
    return name.split("::")[0].startswith("_vela")


def tidy_container(container: Any) -> bool:
    """Leave out what is no fixture of the test's: the plugin's own fixtures, and finalizers
    pytest registers that did nothing of note (``X::<lambda>``); a yield fixture's tear-down
    (``X::1``) is named ``X (teardown)``. False when nothing is left to show."""
    container.befores = [b for b in container.befores if not _hidden(b.name)]
    afters = []
    for after in container.afters:
        name = after.name or ""
        if _hidden(name):
            continue
        quiet = after.status in (None, "passed") and not after.steps and not after.attachments
        if name.endswith("::<lambda>") and quiet:
            continue
        match = _TEARDOWN_INDEX.match(name)
        if match:
            after.name = f"{match['fixture']} (teardown)"
        afters.append(after)
    container.afters = afters
    return bool(container.befores or container.afters)


class RigRoutedLogger:
    """An allure-commons reporter plugin that writes each item under the rig it belongs to.

    Only tests that run on a rig are written: with the plugin installed, a project's other
    tests leave nothing behind. Fixture containers go to the rigs of the tests they served (a
    session fixture's, such as the flashing, is reported at the end).
    """

    def __init__(self, target: Callable[[str], Path]) -> None:
        self._target = target
        self._loggers: dict[str, AllureFileLogger] = {}
        self._dirs: dict[str, Path] = {}
        self._rig_of: dict[str, str] = {}  # test result uuid -> rig
        self.current: str | None = None

    def _write(self, rig: str, write: Callable[[AllureFileLogger], None]) -> None:
        """Write with ``rig``'s logger; a directory that vanished (someone emptied it) is made
        again rather than failing the run."""
        if rig not in self._loggers:
            self._dirs[rig] = self._target(rig)
            self._loggers[rig] = AllureFileLogger(self._dirs[rig])
        logger = self._loggers[rig]
        try:
            write(logger)
        except FileNotFoundError:
            self._dirs[rig].mkdir(parents=True, exist_ok=True)
            write(logger)

    @allure_commons.hookimpl
    def report_result(self, result: Any) -> None:
        if self.current is not None:
            self._rig_of[result.uuid] = self.current
            self._write(self.current, lambda logger: logger.report_result(result))

    @allure_commons.hookimpl
    def report_container(self, container: Any) -> None:
        rigs = {self._rig_of[c] for c in container.children if c in self._rig_of}
        if not rigs and self.current is not None:
            rigs = {self.current}
        if not rigs or not tidy_container(container):
            return
        for rig in rigs:
            self._write(rig, lambda logger: logger.report_container(container))

    @allure_commons.hookimpl
    def report_attached_file(self, source: Any, file_name: str) -> None:
        if self.current is not None:
            self._write(self.current, lambda logger: logger.report_attached_file(source, file_name))

    @allure_commons.hookimpl
    def report_attached_data(self, body: Any, file_name: str) -> None:
        if self.current is not None:
            self._write(self.current, lambda logger: logger.report_attached_data(body, file_name))


def write_run_files(target: Path, environment: dict[str, str]) -> None:
    """``categories.json``, ``environment.properties`` and ``vela-rig.json``, each written
    whole (write, then rename), so that a reader never sees a torn file."""
    target.mkdir(parents=True, exist_ok=True)
    lines = [f"{key}={_property(value)}" for key, value in sorted(environment.items())]
    rig = {"rig": environment.get("rig", target.name), "environment": environment}
    for name, text in (
        ("categories.json", json.dumps(CATEGORIES, indent=2)),
        ("environment.properties", "\n".join(lines) + "\n"),
        (RIG_FILE, json.dumps(rig, indent=2, sort_keys=True)),
    ):
        tmp = target / f".{name}.{os.getpid()}.tmp"
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, target / name)


def _property(value: str) -> str:
    """A value as a Java properties file reads it back (one line, backslashes kept)."""
    return value.replace("\\", "\\\\").replace("\n", "\\n")
