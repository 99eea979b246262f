"""A failed phase's report, shaped before Allure's listener reads it: its verdict (the class of
the failure, for the terminal, the exit status and the report's categories), the ``failure``
label on its Allure result, tracebacks of rig faults and crashes without the plugin's frames,
and the short evidence sections the terminal shows under it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import allure
import pytest
from _pytest._code.code import ExceptionRepr, ReprFileLocation

import pytest_vela
from pytest_vela.errors import AppLoadFailed, AppThrew, RigError, WatchCrashed
from pytest_vela.plugin import evidence, junit
from pytest_vela.plugin.record import record_of
from pytest_vela.plugin.run import SESSION
from pytest_vela.plugin.verdict import PhaseVerdict, attach, verdict_of
from pytest_vela.report.categories import LABEL

_PACKAGE = Path(pytest_vela.__file__).resolve().parent
_CONFORMANCE = _PACKAGE / "conformance"


def is_plugin_frame(entry: Any) -> bool:
    """A traceback entry in pytest-vela's own code (the conformance suite's tests excepted)."""
    path = Path(str(entry.path))
    return path.is_relative_to(_PACKAGE) and not path.is_relative_to(_CONFORMANCE)


def prune_rig_faults(item: pytest.Item) -> None:
    """Tracebacks of rig faults, crashes and apps' errors (and apps that cannot start)
    without pytest-vela's frames: what
    is left is the test's own code (nothing, for a fixture that failed), and the fault's
    message says the rest. Other failures keep their frames. (pytest rebuilds a traceback
    from its first kept frame, so the cut is made in the item's own traceback filter.)"""
    original = getattr(item, "_traceback_filter", None)
    if original is None:
        return

    def without_plugin_frames(excinfo: pytest.ExceptionInfo[BaseException]) -> Any:
        traceback = original(excinfo)
        if isinstance(excinfo.value, RigError | WatchCrashed | AppThrew | AppLoadFailed):
            return traceback.filter(lambda entry: not is_plugin_frame(entry))
        return traceback

    item._traceback_filter = without_plugin_frames  # type: ignore[attr-defined,method-assign]


@pytest.hookimpl(hookwrapper=True, trylast=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Innermost, so that the report is shaped before Allure's listener reads it."""
    outcome: Any = yield
    record = record_of(item)
    if record is None:
        return
    report: pytest.TestReport = outcome.get_result()
    verdict = verdict_of(record.rig, call.excinfo.value if call.excinfo else None, report)
    attach(report, verdict)
    vela = item.config.stash[SESSION]
    if report.when == "setup" and record.attempt > 1:
        allure.dynamic.tag(f"rerun {record.attempt - 1} after a rig fault")
    if verdict.failed and record.failure is None:  # the test's class is its first failure's
        record.failure = verdict
        allure.dynamic.label(LABEL, verdict.kind)
    if report.when == "teardown":
        junit.add_properties(report, record, vela.identities.get(record.rig, {}))
    if not verdict.failed:
        return
    _one_line_when_nothing_is_left(report, verdict, item, call)
    if verdict.down:
        allure.attach(verdict.detail, f"why {record.rig} is down", allure.attachment_type.TEXT)
        return
    session = vela.sessions.get(record.rig)
    if session is not None:
        found = evidence.gather(record, session, vela.results_dir(record.rig))
        report.sections.extend(evidence.sections(found))


def _one_line_when_nothing_is_left(
    report: pytest.TestReport,
    verdict: PhaseVerdict,
    item: pytest.Item,
    call: pytest.CallInfo[None],
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
