"""What a failure was, said the same way in the terminal and in Allure.

Every report of a test that runs on a rig carries a *verdict* in its ``user_properties`` (so it
reaches the xdist controller with the report): the rig, and for a failure its class — a product
failure, a watch crash, a rig fault or an error in the test itself — with a one-line reason.
The terminal's closing line counts them; the Allure categories (``reports.CATEGORIES``) sort the
results by the same rules: ``WatchCrashed`` failed, ``RigError`` broken, other assertions
failed, anything else broken.

On each failure the report gets short evidence sections for the terminal: the console since the
test began without the agent's protocol lines, the link trace around the failure, and where the
full logs are.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pytest
from _pytest._code.code import ExceptionRepr, ReprFileLocation

import pytest_vela
from pytest_vela.errors import RigDown, RigError, WatchCrashed
from pytest_vela.link.trace import LinkTrace
from pytest_vela.plugin.run import MARK, SESSION, TRACE_MARK, item_rig
from pytest_vela.report.summary import CRASH, PRODUCT, RIG, TEST, Outcome
from pytest_vela.wire.profile import AGENT_CONSOLE_PREFIX

VERDICT = "vela"  # the user_properties key
CONSOLE_LINES = 20  # console lines shown in the terminal on a failure
TRACE_RECORDS = 12  # link trace records shown in the terminal on a failure
LINE_WIDTH = 160

_PACKAGE = Path(pytest_vela.__file__).resolve().parent
_CONFORMANCE = _PACKAGE / "conformance"


@dataclass(frozen=True)
class Verdict:
    """How one phase of a test on ``rig`` ended. ``kind`` is ``passed``, ``skipped`` or a
    failure class (``product``, ``crash``, ``rig``, ``test``); ``reason`` the exception's
    class (for a rig that is down, the class of what keeps it down)."""

    rig: str
    kind: str
    reason: str = ""
    message: str = ""
    down: bool = False
    detail: str = ""

    @property
    def failed(self) -> bool:
        return self.kind in (PRODUCT, CRASH, RIG, TEST)

    def outcome(self) -> Outcome:
        reason = f"down: {self.reason}" if self.down else self.reason
        return Outcome(self.rig, self.kind, reason if self.kind == RIG else "")


def failure_class(error: BaseException) -> str:
    """The class of a failure, as the Allure categories sort it."""
    if isinstance(error, WatchCrashed):
        return CRASH
    if isinstance(error, RigError):
        return RIG
    if isinstance(error, AssertionError | pytest.fail.Exception):
        return PRODUCT
    return TEST


def verdict_of(rig: str, call: pytest.CallInfo[None], report: pytest.TestReport) -> Verdict:
    excinfo = call.excinfo
    if excinfo is None or report.passed:
        return Verdict(rig, "passed")
    if report.skipped:
        return Verdict(rig, "skipped")
    error = excinfo.value
    first = str(error).strip().splitlines()[0] if str(error).strip() else ""
    if isinstance(error, RigDown):
        return Verdict(
            rig, RIG, type(error.cause).__name__, first, down=True, detail=str(error.cause)
        )
    return Verdict(rig, failure_class(error), type(error).__name__, first)


def verdicts(report: Any) -> Iterator[Verdict]:
    for key, value in getattr(report, "user_properties", ()):
        if key == VERDICT and isinstance(value, dict):
            yield Verdict(**value)


# --- the reports of one phase -------------------------------------------------------------------


def is_plugin_frame(entry: Any) -> bool:
    """A traceback entry in pytest-vela's own code (the conformance suite's tests excepted)."""
    path = Path(str(entry.path))
    return path.is_relative_to(_PACKAGE) and not path.is_relative_to(_CONFORMANCE)


def prune_rig_faults(item: pytest.Item) -> None:
    """Tracebacks of rig faults and crashes without pytest-vela's frames: what is left is the
    test's own code (nothing, for a fixture that failed), and the fault's message says the
    rest. Other failures keep their frames. (pytest rebuilds a traceback from its first kept
    frame, so the cut is made in the item's own traceback filter.)"""
    original = getattr(item, "_traceback_filter", None)
    if original is None:
        return

    def without_plugin_frames(excinfo: pytest.ExceptionInfo[BaseException]) -> Any:
        traceback = original(excinfo)
        if isinstance(excinfo.value, RigError | WatchCrashed):
            return traceback.filter(lambda entry: not is_plugin_frame(entry))
        return traceback

    item._traceback_filter = without_plugin_frames  # type: ignore[attr-defined,method-assign]


@pytest.hookimpl(hookwrapper=True, trylast=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Innermost, so that the report is shaped before Allure's listener reads it."""
    outcome: Any = yield
    rig = item_rig(item)
    if rig is None:
        return
    report: pytest.TestReport = outcome.get_result()
    verdict = verdict_of(rig, call, report)
    report.user_properties.append((VERDICT, asdict(verdict)))
    if not verdict.failed:
        return
    _one_line_when_nothing_is_left(report, verdict, item, call)
    if verdict.down:
        import allure

        allure.attach(verdict.detail, f"why {rig} is down", allure.attachment_type.TEXT)
        return
    for title, text in evidence_sections(item, rig):
        report.sections.append((title, text))


def _one_line_when_nothing_is_left(
    report: pytest.TestReport, verdict: Verdict, item: pytest.Item, call: pytest.CallInfo[None]
) -> None:
    """A fault whose every frame was the plugin's: its message alone, also in the short
    summary (which reads it from the crash location)."""
    longrepr = report.longrepr
    excinfo = call.excinfo
    if not isinstance(longrepr, ExceptionRepr):
        return
    chain = getattr(longrepr, "chain", None) or []
    for traceback, _crash, _ in chain:
        if (getattr(traceback, "extraline", None) or "").startswith("All traceback entries"):
            traceback.extraline = None
    if getattr(longrepr, "reprcrash", None) is None:
        path, lineno, _ = item.location
        error = type(excinfo.value).__name__ if excinfo is not None else verdict.reason
        crash = ReprFileLocation(path, (lineno or 0) + 1, f"{error}: {verdict.message}")
        longrepr.reprcrash = crash  # type: ignore[attr-defined]


def evidence_sections(item: pytest.Item, rig: str) -> list[tuple[str, str]]:
    """Short evidence for the terminal: the console since the test began (its last lines,
    without the agent's protocol lines), the link trace around the failure, the log paths."""
    session = item.config.stash[SESSION].sessions.get(rig)
    if session is None:
        return []
    sections: list[tuple[str, str]] = []
    console = session.console
    mark = item.stash.get(MARK, None)
    if console is not None and mark is not None:
        lines, agent = split_agent_lines(console.text_since(mark).strip("\n"))
        shown = lines[-CONSOLE_LINES:]
        head = f"last {len(shown)} of {len(lines)} lines" if len(lines) > len(shown) else ""
        if agent:
            head += f"{', ' if head else ''}{agent} agent protocol lines left out"
        title = f"{rig} console" + (f" ({head})" if head else "")
        sections.append((title, "\n".join(_clip(line) for line in shown) or "(nothing)"))
    trace_mark = item.stash.get(TRACE_MARK, None)
    if trace_mark is not None:
        records = session.trace.since(trace_mark)
        if records:
            shown_records = records[-TRACE_RECORDS:]
            title = f"{rig} link trace"
            if len(records) > len(shown_records):
                title += f" (last {len(shown_records)} of {len(records)} records)"
            text = LinkTrace.render(shown_records, limit=48).rstrip("\n")
            sections.append((title, "\n".join(_clip(line) for line in text.splitlines())))
    logs = []
    if console is not None:
        logs.append(f"console log: {console.log_path}")
    logs.append(f"allure results: {item.config.stash[SESSION].results_dir(rig)}")
    sections.append((f"{rig} logs", "\n".join(logs)))
    return sections


def split_agent_lines(text: str) -> tuple[list[str], int]:
    """The console text's lines without the agent's ``VELA-AGENT`` protocol lines, and how
    many of those there were."""
    kept: list[str] = []
    agent = 0
    for line in text.splitlines():
        if AGENT_CONSOLE_PREFIX in line:
            agent += 1
        else:
            kept.append(line)
    return kept, agent


def _clip(line: str) -> str:
    return line if len(line) <= LINE_WIDTH else line[: LINE_WIDTH - 1] + "…"


# --- the run -------------------------------------------------------------------------------------


def outcomes_by_test(reports: Iterable[Any]) -> dict[str, Verdict]:
    """Each test's verdict, by node id: its first failure (setup, call or teardown), else
    how its call went."""
    found: dict[str, Verdict] = {}
    for report in reports:
        for verdict in verdicts(report):
            known = found.get(report.nodeid)
            if (
                known is None
                or (verdict.failed and not known.failed)
                or (not known.failed and getattr(report, "when", "") == "call")
            ):
                found[report.nodeid] = verdict
    return found
