"""The run as the person at the terminal reads it, and its closing writes.

- the header names each rig: its kind, how it is reached, the firmware and agent it is given,
  and where its reports go;
- a rig that cannot start is said once ("watch01 down: SerialLost: …", with the whole story),
  however many tests it fails;
- the closing section names what each rig turned out to run and ends with one line, "N product
  failures, M watch crashes, K rig faults (rig: reason)", the same numbers as the report's
  categories.

Under xdist all of this runs in the controller, from the reports the workers send; what the
workers read from their watches comes back in their ``workeroutput``.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

from pytest_vela.errors import shown_path
from pytest_vela.plugin.run import RUN_ID, VelaSession
from pytest_vela.plugin.targets import CLAIMS
from pytest_vela.plugin.verdict import verdicts
from pytest_vela.report.summary import closing_line

IDENTITIES = "vela_identities"  # the workeroutput key


def _end_progress_line(terminal: Any) -> None:
    """End the line of progress letters as pytest ends one at a file's end (with its
    percentage), so that the next letter starts a line of its own (with the file's name; under
    xdist, whose letters carry no file, after the block)."""
    fill = getattr(terminal, "_write_progress_information_filling_space", None)
    showing = getattr(terminal, "_show_progress_info", False)
    if terminal.currentfspath is not None and showing and fill is not None:
        fill()
    terminal.ensure_newline()
    if getattr(terminal, "_width_of_current_line", 0):
        terminal.write_line("")
    terminal.currentfspath = None


def _image_identity(path: Path) -> str:
    try:
        with path.open("rb") as image:
            digest = hashlib.file_digest(image, "sha256").hexdigest()
    except OSError:
        return f"{path.name} (unreadable)"
    return f"{path.name} sha256 {digest[:12]}"


class RunReporter:
    """The run's terminal hooks and closing writes (a plugin of one run's config)."""

    def __init__(self, config: pytest.Config, vela: VelaSession) -> None:
        self.config = config
        self.vela = vela
        self.announced: set[str] = set()

    def pytest_report_header(self) -> list[str]:
        vela = self.vela
        lines = []
        for name, rig in vela.rigs.items():
            settings = rig.settings
            reached = vela.sessions[name].backend.reach().summary
            image = settings.firmware.image
            firmware = (
                f"firmware {_image_identity(image)} (--flash {vela.flash})"
                if image is not None and vela.flash != "never"
                else "firmware as found on the watch"
            )
            identity = vela.identities.get(name, {})
            if "app" in identity:
                under_test = settings.app.under_test
                agent = (
                    f"app under test {identity['app']} {identity['app.version']} from "
                    f"{under_test.name if under_test else '?'} sha256 {identity['app.sha256'][:12]}"
                )
            elif vela.sessions[name].backend.ble is None:
                agent = "no app link (no BLE)"
            else:
                agent = f"agent {settings.app.package}"
                if settings.app.rpk is not None:
                    agent += f" from {settings.app.rpk.name}"
            reports = shown_path(vela.results_dir(name))
            logs = shown_path(vela.sessions[name].logs)
            lines.append(
                f"rig {name}: {rig.kind}, {reached}; {firmware}; {agent}; "
                f"results {reports}, logs {logs}"
            )
        return lines

    @pytest.hookimpl(trylast=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """A rig that is down is said once, however many tests it fails: after the progress
        line took the test's letter, on lines of its own, the progress going on below it."""
        for verdict in verdicts(report):
            if not verdict.down or verdict.rig in self.announced:
                continue
            self.announced.add(verdict.rig)
            terminal = self.config.pluginmanager.get_plugin("terminalreporter")
            if terminal is None:
                continue
            _end_progress_line(terminal)
            terminal.write_line(verdict.message, red=True, bold=True)
            for line in verdict.detail.splitlines()[1:]:
                terminal.write_line(f"    {line}")
            terminal.write_line(f"    (each test on {verdict.rig} fails with this one line)")

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self) -> None:
        workeroutput = getattr(self.config, "workeroutput", None)
        if workeroutput is not None:
            workeroutput[IDENTITIES] = self.vela.identities
            return
        self.vela.write_run_files()

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:
        """Each xdist worker learns the run's id (its results directories are emptied once) and
        where the run's pools are claimed."""
        node.workerinput[RUN_ID] = self.vela.run_id
        claims = self.vela.targets.claims_dir
        if claims is not None:
            node.workerinput[CLAIMS] = str(claims)

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        found = (getattr(node, "workeroutput", None) or {}).get(IDENTITIES)
        if found:
            self.vela.merge_identities(found)

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        vela = self.vela
        outcomes = vela.verdict.outcomes()
        if not outcomes:
            return
        terminalreporter.section("pytest-vela", sep="-")
        for name in vela.rigs:
            if name not in vela.verdict.rigs_seen:
                continue
            identity = vela.identities.get(name, {})
            said = [vela.rigs[name].kind]
            if identity.get("model"):
                said.append(f"{identity.get('os', '')} on {identity['model']}".strip())
            if identity.get("firmware"):
                said.append(f"firmware sha256 {identity['firmware'][:12]}")
            if identity.get("app"):
                said.append(f"app {identity['app']} {identity['app.version']}")
            elif identity.get("agent"):
                said.append(f"agent {identity.get('agent.package', '')} {identity['agent']}")
            terminalreporter.write_line(
                f"{name}: {', '.join(said)} → {shown_path(vela.results_dir(name))}"
            )
        root = vela.alluredir if vela.alluredir is not None else vela.reports
        terminalreporter.write_line(f"report: pytest-vela report {shown_path(root)}")
        failed = vela.verdict.failed
        terminalreporter.write_line(
            closing_line(outcomes, vela.verdict.passed_after_rerun),
            red=failed,
            green=not failed,
            bold=True,
        )
