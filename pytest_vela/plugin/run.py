"""The run's rigs and their sessions: created when pytest is configured, ended when it stops."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import allure
import pytest

from pytest_vela.peer.events import EventLog
from pytest_vela.plugin import reports
from pytest_vela.rig.session import RigSession
from pytest_vela.rigfile.loader import Rig, load_rig, split_names

SESSION = pytest.StashKey["VelaSession"]()
MARK = pytest.StashKey[int]()  # the console log position where a test began
TRACE_MARK = pytest.StashKey[int]()  # the link trace position where a test began
EVENTS = pytest.StashKey[EventLog]()  # the test's event log


def item_rig(item: pytest.Item) -> str | None:
    """The rig a collected test runs on, from its parametrization; None for other tests."""
    callspec = getattr(item, "callspec", None)
    return callspec.params.get("rig") if callspec is not None else None


class VelaSession:
    """The run's rigs and their sessions, created at configure time, ended at unconfigure."""

    def __init__(self, config: pytest.Config) -> None:
        root = config.rootpath
        self.rig_dir = root / (config.getoption("vela_rig_dir") or config.getini("vela_rig_dir"))
        self.reports = root / (config.getoption("vela_reports") or config.getini("vela_reports"))
        self.flash = config.getoption("vela_flash") or config.getini("vela_flash") or "auto"
        names = split_names(
            config.getoption("vela_rig")
            or config.getini("vela_rig")
            or ([os.environ["VELA_RIG"]] if os.environ.get("VELA_RIG") else ["sim"])
        )
        self.rigs: dict[str, Rig] = {name: load_rig(name, self.rig_dir) for name in names}
        app = _app_under_test(config)
        if app is not None:
            self.rigs = {
                name: rig.with_settings(app=rig.settings.app.model_copy(update={"under_test": app}))
                for name, rig in self.rigs.items()
            }
        say = _terminal_writer(config)
        self.sessions = {
            name: RigSession(rig, self.reports, self.flash, say, allure.step)
            for name, rig in self.rigs.items()
        }
        self.router = reports.RigRoutedLogger(
            self.reports,
            {
                name: {"rig": name, "rig.kind": rig.kind, "flash": self.flash}
                for name, rig in self.rigs.items()
            },
        )

    def close(self) -> None:
        for session in self.sessions.values():
            session.close()


def _app_under_test(config: pytest.Config) -> Path | None:
    """``--vela-app`` (relative to the working directory) or ini ``vela_app`` (to the rootdir)."""
    given = config.getoption("vela_app")
    if given:
        return Path(given).resolve()
    ini = config.getini("vela_app")
    return (config.rootpath / str(ini)).resolve() if ini else None


def _terminal_writer(config: pytest.Config) -> Callable[[str], None]:
    """Progress lines (flashing, installing) for the person at the terminal: they are written
    during fixture setup, so output capture is suspended around each one."""
    terminal = config.pluginmanager.get_plugin("terminalreporter")
    capture = config.pluginmanager.get_plugin("capturemanager")
    if terminal is None:
        return print

    def say(line: str) -> None:
        if capture is None:
            terminal.write_line(line)
            return
        with capture.global_and_fixture_disabled():
            terminal.write_line(line)

    return say
