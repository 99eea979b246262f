"""Allure results per rig: ``<reports>/<rig>/allure-results``, no ``--alluredir`` needed.

allure-pytest's listener builds the results; a routing file logger writes each one into the
directory of the rig whose test produced it, so one run over several rigs yields one results
directory per rig. Rig faults are *broken* (their exceptions are not assertions) and land in a
"Rig infrastructure" category; product failures stay *failed*.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import allure_commons
from allure_commons.logger import AllureFileLogger

from pytest_vela import errors

RIG_FAULTS = sorted(
    name
    for name, obj in vars(errors).items()
    if isinstance(obj, type) and issubclass(obj, errors.RigError)
)

CATEGORIES = [
    {
        "name": "Rig infrastructure",
        "description": "The rig failed (serial port, BLE adapter, flashing, lock, simulator), "
        "not the product: rerun on a healthy rig before filing a bug.",
        "matchedStatuses": ["broken"],
        "messageRegex": rf"(?s).*\b({'|'.join(RIG_FAULTS)})\b.*",
    },
    {
        "name": "Watch crashed",
        "matchedStatuses": ["failed"],
        "messageRegex": r"(?s).*\bWatchCrashed\b.*",
    },
    {"name": "Product failures", "matchedStatuses": ["failed"]},
]


def results_dir(reports: Path, rig: str) -> Path:
    return reports / rig / "allure-results"


class RigRoutedLogger:
    """An allure-commons reporter plugin that writes each item under the rig it belongs to.

    Only tests that run on a rig are written: with the plugin installed, a project's other
    tests leave nothing behind. A rig's results directory, with its categories and
    environment, is made when its first result arrives. Fixture containers go to the rigs of
    the tests they served (a session fixture's, such as the flashing, is reported at the end).
    """

    def __init__(self, reports: Path, environments: dict[str, dict[str, str]]) -> None:
        self._reports = reports
        self._environments = environments
        self._loggers: dict[str, AllureFileLogger] = {}
        self._rig_of: dict[str, str] = {}  # test result uuid -> rig
        self.current: str | None = None

    def _logger(self, rig: str) -> AllureFileLogger:
        if rig not in self._loggers:
            write_run_files(self._reports, rig, self._environments.get(rig, {}))
            self._loggers[rig] = AllureFileLogger(results_dir(self._reports, rig))
        return self._loggers[rig]

    @allure_commons.hookimpl
    def report_result(self, result: Any) -> None:
        if self.current is not None:
            self._rig_of[result.uuid] = self.current
            self._logger(self.current).report_result(result)

    @allure_commons.hookimpl
    def report_container(self, container: Any) -> None:
        rigs = {self._rig_of[c] for c in container.children if c in self._rig_of}
        if not rigs and self.current is not None:
            rigs = {self.current}
        for rig in rigs:
            self._logger(rig).report_container(container)

    @allure_commons.hookimpl
    def report_attached_file(self, source: Any, file_name: str) -> None:
        if self.current is not None:
            self._logger(self.current).report_attached_file(source, file_name)

    @allure_commons.hookimpl
    def report_attached_data(self, body: Any, file_name: str) -> None:
        if self.current is not None:
            self._logger(self.current).report_attached_data(body, file_name)


def write_run_files(reports: Path, rig: str, environment: dict[str, str]) -> None:
    """``categories.json`` and ``environment.properties``, written whole (write, then rename),
    so that two processes writing the same rig's never leave a torn file."""
    target = results_dir(reports, rig)
    target.mkdir(parents=True, exist_ok=True)
    lines = [f"{key}={value}" for key, value in sorted(environment.items())]
    for name, text in (
        ("categories.json", json.dumps(CATEGORIES, indent=2)),
        ("environment.properties", "\n".join(lines) + "\n"),
    ):
        tmp = target / f".{name}.{os.getpid()}.tmp"
        tmp.write_text(text)
        os.replace(tmp, target / name)
