"""Allure results per rig: ``<reports>/<rig>/allure-results``, no ``--alluredir`` needed.

allure-pytest's listener builds the results; a routing file logger writes each one into the
directory of the rig whose test produced it, so one run over several rigs yields one results
directory per rig. Rig faults are *broken* (their exceptions are not assertions) and land in a
"Rig infrastructure" category; product failures stay *failed*.
"""

from __future__ import annotations

import json
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
    """An allure-commons reporter plugin that writes each item under the current rig."""

    def __init__(self, reports: Path, rigs: list[str]) -> None:
        self._loggers = {rig: AllureFileLogger(results_dir(reports, rig)) for rig in rigs}
        self._default = rigs[0]
        self.current: str | None = None

    def _target(self) -> AllureFileLogger:
        return self._loggers[self.current or self._default]

    @allure_commons.hookimpl
    def report_result(self, result: Any) -> None:
        self._target().report_result(result)

    @allure_commons.hookimpl
    def report_container(self, container: Any) -> None:
        self._target().report_container(container)

    @allure_commons.hookimpl
    def report_attached_file(self, source: Any, file_name: str) -> None:
        self._target().report_attached_file(source, file_name)

    @allure_commons.hookimpl
    def report_attached_data(self, body: Any, file_name: str) -> None:
        self._target().report_attached_data(body, file_name)


def write_run_files(reports: Path, rig: str, environment: dict[str, str]) -> None:
    """``categories.json`` and ``environment.properties``: once per run, by the controller."""
    target = results_dir(reports, rig)
    target.mkdir(parents=True, exist_ok=True)
    (target / "categories.json").write_text(json.dumps(CATEGORIES, indent=2))
    lines = [f"{key}={value}" for key, value in sorted(environment.items())]
    (target / "environment.properties").write_text("\n".join(lines) + "\n")
