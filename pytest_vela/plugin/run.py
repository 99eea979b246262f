"""The run's rigs and their sessions: created when pytest is configured, ended when it stops."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path

import allure
import pytest
from filelock import FileLock

from pytest_vela.common.processes import interrupts_held
from pytest_vela.device.apps import rpk_identity
from pytest_vela.errors import InstallError, RigConfigError, RigError, first_line
from pytest_vela.plugin import reports
from pytest_vela.plugin.app_under_test import app_under_test
from pytest_vela.plugin.quarantine import Quarantine, ini_limit
from pytest_vela.plugin.targets import CLAIMS, Targets
from pytest_vela.plugin.verdict import RunVerdict
from pytest_vela.report.sources import RUN_FILE
from pytest_vela.rig.session import RigSession
from pytest_vela.rigfile.loader import POOL, SIM_RIG, Rig, known_rigs, split_names

SESSION = pytest.StashKey["VelaSession"]()
RUN_ID = "vela_run"  # the workerinput key of the run's id


def console_name(item: pytest.Item) -> str:
    """A test as the console log names it: ``test_x[sim] in tests/test_a.py``."""
    return f"{item.name} in {item.nodeid.split('::')[0]}"


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
    """The run's rigs and their sessions, created at configure time, ended at unconfigure.

    Allure results go to ``<reports>/<rig>/allure-results``, or with ``--alluredir X`` to
    ``X/<rig>`` (and nowhere else: allure-pytest's own flat writer is then left out, so no
    result is written twice). A rig's results directory is emptied when this run writes its
    first result there (with ``--alluredir``, only when ``--clean-alluredir`` asks): the run's
    id, shared with the xdist workers, is kept in it, so that the workers of one run empty it
    once between them and a run that tests nothing on a rig leaves its results alone. The
    controller (the only process without xdist) writes the run files (categories, environment)
    at the end.
    """

    def __init__(self, config: pytest.Config) -> None:
        root = config.rootpath
        self.rig_dir = root / (config.getoption("vela_rig_dir") or config.getini("vela_rig_dir"))
        self.reports = root / (config.getoption("vela_reports") or config.getini("vela_reports"))
        alluredir = getattr(config.option, "allure_report_dir", None)
        self.alluredir = Path(os.path.abspath(alluredir)) if alluredir else None
        self.flash = config.getoption("vela_flash") or config.getini("vela_flash") or "auto"
        self.is_worker = hasattr(config, "workerinput")
        workerinput = getattr(config, "workerinput", {})
        claims = workerinput.get(CLAIMS)
        say = _terminal_writer(config)
        self.say = say
        self.targets = Targets(
            rig_names(config, self.rig_dir),
            self.rig_dir,
            Path(claims) if claims else None,
            self._out_of_run,
            self._start,
            workerinput.get("workerid"),
            say,
        )
        app = app_under_test(config)
        if app is not None:
            self.targets.with_app(
                lambda rig: rig.with_settings(
                    app=rig.settings.app.model_copy(update={"under_test": app})
                )
            )
        #: Every rig a test may run on (a pool's rigs among them), by name.
        self.rigs: dict[str, Rig] = self.targets.rigs
        self.quarantine = Quarantine(self.rigs, ini_limit(config.getini("vela_quarantine_after")))
        self.sessions = {
            name: RigSession(rig, self.reports / name / "logs", self.flash, say, allure.step)
            for name, rig in self.rigs.items()
        }
        # What each rig ran, for the report: the app under test from its rpk, the rest read
        # from the watch once it is up (under xdist, by the worker that runs the rig).
        self.identities: dict[str, dict[str, str]] = {
            name: _app_identity(rig) for name, rig in self.rigs.items()
        }
        # Registered in the process that sees every report.
        self.verdict = RunVerdict(
            {
                name.removeprefix(POOL): members
                for name, members in self.targets.members.items()
                if name.startswith(POOL)
            }
        )
        self.run_id: str = workerinput.get(RUN_ID) or uuid.uuid4().hex
        self.clean = self.alluredir is None or bool(getattr(config.option, "clean_alluredir", 0))
        self.router = reports.RigRoutedLogger(self.open_results)

    def _out_of_run(self, rig: str) -> str | None:
        """Why ``rig`` takes no more tests (quarantined, or down), or None."""
        down = self.sessions[rig].start_error
        return self.quarantine.reason(rig) or (str(down) if down is not None else None)

    def _start(self, rig: str) -> str | None:
        """Bring a pool's rig up before a test is given to it; why it cannot, or None."""
        try:
            self.sessions[rig].watch()
        except RigError as exc:
            self.say(f"{rig} down: {type(exc).__name__}: {first_line(exc)}; its pool goes on")
            return str(exc)
        self.identify(rig, self.sessions[rig])
        return None

    def results_dir(self, rig: str) -> Path:
        """Where ``rig``'s Allure results of this run go."""
        if self.alluredir is not None:
            return self.alluredir / rig
        return reports.results_dir(self.reports, rig)

    def open_results(self, rig: str) -> Path:
        """``rig``'s results directory, ready for this run's first result: emptied of an
        earlier run's (once per run, whichever process of it comes first)."""
        target = self.results_dir(rig)
        target.parent.mkdir(parents=True, exist_ok=True)
        with FileLock(str(target) + ".lock"):
            marker = target / RUN_FILE
            try:
                seen = marker.read_text().strip()
            except OSError:
                seen = ""
            if seen != self.run_id:
                if self.clean:
                    shutil.rmtree(target, ignore_errors=True)
                target.mkdir(parents=True, exist_ok=True)
                marker.write_text(self.run_id + "\n")
        return target

    def identify(self, name: str, session: RigSession) -> None:
        """What the rig's watch said it runs (read once, when it came up), for the report."""
        self.identities.setdefault(name, {}).update(session.identity)

    def record_agent(self, name: str, agent: str | None, package: str | None) -> None:
        identity = self.identities.setdefault(name, {})
        if agent:
            identity["agent"] = agent
        if package:
            identity["agent.package"] = package

    def merge_identities(self, found: dict[str, dict[str, str]]) -> None:
        """Identities a worker read (under xdist the controller starts no watch itself)."""
        for name, identity in found.items():
            self.identities.setdefault(name, {}).update(identity)

    def environment(self, name: str) -> dict[str, str]:
        """The rig's environment for the report: what it is, what it runs, what ran it."""
        rig = self.rigs[name]
        env = {"rig": name, "rig.kind": rig.kind, "flash": self.flash}
        if rig.settings.description:
            env["rig.description"] = rig.settings.description
        env.update(self.identities.get(name, {}))
        env.update(reports.host_versions())
        return env

    def write_run_files(self) -> None:
        """The controller's closing write: for each rig whose tests ran, its categories and
        environment beside its results."""
        if self.is_worker:
            return
        for name in sorted(self.verdict.rigs_seen & set(self.rigs)):
            reports.write_run_files(self.results_dir(name), self.environment(name))

    def close(self) -> None:
        """End every rig's session. A Ctrl-C or SIGTERM that comes meanwhile is raised once
        they all have ended, so that it cannot leave a simulated watch's run directory or a
        private bus behind (ending them takes seconds at most)."""
        failed: list[BaseException] = []
        with interrupts_held():
            for session in self.sessions.values():
                try:
                    session.close()
                except Exception as exc:  # the other rigs are ended all the same
                    failed.append(exc)
            self.targets.close()
        if failed:
            raise failed[0]


def _app_identity(rig: Rig) -> dict[str, str]:
    under_test = rig.settings.app.under_test
    if under_test is None:
        return {}
    try:
        return rpk_identity(under_test)
    except InstallError as exc:
        raise RigConfigError(f"the app under test (--vela-app / app.under_test): {exc}") from None


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
