"""The run's rigs and their sessions: created when pytest is configured, ended when it stops."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import allure
import pytest

from pytest_vela.common.processes import interrupts_held
from pytest_vela.errors import RigConfigError
from pytest_vela.peer.events import EventLog
from pytest_vela.plugin import reports
from pytest_vela.rig.session import RigSession
from pytest_vela.rigfile.loader import SIM_RIG, Rig, known_rigs, load_rig, split_names

SESSION = pytest.StashKey["VelaSession"]()
MARK = pytest.StashKey[int]()  # the console log position where a test began
TRACE_MARK = pytest.StashKey[int]()  # the link trace position where a test began
EVENTS = pytest.StashKey[EventLog]()  # the test's event log
CRASHES = pytest.StashKey[int]()  # the watch's crash count when the test began
CRASH_REPORTED = pytest.StashKey[bool]()  # the test already failed as WatchCrashed


def item_rig(item: pytest.Item) -> str | None:
    """The rig a collected test runs on, from its parametrization; None for other tests."""
    callspec = getattr(item, "callspec", None)
    return callspec.params.get("rig") if callspec is not None else None


def rig_names(config: pytest.Config, rig_dir: Path) -> list[str]:
    """The rigs asked for: ``--rig``, else the ini's ``vela_rig``, else ``VELA_RIG``, else
    ``sim``. A source that is given but names no rig (``--rig ""``, ``VELA_RIG=","``) is an
    error, not the default: it is most likely a CI variable that came out empty."""
    env = os.environ.get("VELA_RIG")
    # (source, its values, how to name rigs there, how to leave it out)
    sources: list[tuple[str, list[str] | None, str, str]] = [
        (
            "--rig",
            config.getoption("vela_rig"),
            "--rig watch01 or --rig watch01,watch02",
            "leave --rig out",
        ),
        (
            "the ini setting vela_rig",
            config.getini("vela_rig"),
            "vela_rig = watch01 watch02",
            "leave vela_rig empty",
        ),
        (
            "VELA_RIG",
            None if env is None else [env],
            "VELA_RIG=watch01 or VELA_RIG=watch01,watch02",
            "unset VELA_RIG",
        ),
    ]
    for source, values, example, leave_out in sources:
        if not values:
            continue
        names = split_names(values)
        if names:
            return names
        shown = ", ".join(repr(v) for v in values)
        raise RigConfigError(
            f"no rig named in {source} ({shown}): name one or more rigs, as {example} "
            f"(known rigs: {', '.join(known_rigs(rig_dir))}), or {leave_out} to run on the "
            f"simulated watch {SIM_RIG!r}"
        )
    return [SIM_RIG]


class VelaSession:
    """The run's rigs and their sessions, created at configure time, ended at unconfigure."""

    def __init__(self, config: pytest.Config) -> None:
        root = config.rootpath
        self.rig_dir = root / (config.getoption("vela_rig_dir") or config.getini("vela_rig_dir"))
        self.reports = root / (config.getoption("vela_reports") or config.getini("vela_reports"))
        self.flash = config.getoption("vela_flash") or config.getini("vela_flash") or "auto"
        names = rig_names(config, self.rig_dir)
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
        """End every rig's session. A Ctrl-C or SIGTERM that comes meanwhile is raised once
        they all have ended, so that it cannot leave a simulated watch's run directory or a
        private bus behind (ending them takes seconds at most)."""
        with interrupts_held():
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
