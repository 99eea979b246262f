"""The verdict: how each phase of a test on a rig ended, and what the whole run comes to.

Every report of a test that runs on a rig carries a ``PhaseVerdict`` (``report.vela_verdict``,
a plain dict, so that it reaches the xdist controller with the report, and stays out of the
JUnit file's properties): the rig and, for a failure, its class
(``report.categories.classify`` — a product failure, a watch crash, a rig fault or an error in
the test itself) with a one-line reason. ``RunVerdict``, registered only in the process that
sees every report (the controller under xdist), reads them — and nothing else — for the
closing line, the "rig faults" summary and the exit status:

- 0: every test passed (pytest's own);
- 1: product failures (pytest's own), whether or not rigs failed too;
- ``RIG_FAULTS`` (10): no product failure, but a rig fault broke a test — a rig that never came
  up, one that was quarantined, one that failed once and was recovered;
- pytest's 2–5 (interrupted, internal error, usage error, no tests) are left as they are.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from typing import Any

import pytest

from pytest_vela.errors import RigDown, first_line
from pytest_vela.report.categories import classify
from pytest_vela.report.summary import CRASH, PRODUCT, RIG, TEST, Outcome

VERDICT = "vela_verdict"  # the report's attribute
RIG_FAULTS = 10


@dataclass(frozen=True)
class PhaseVerdict:
    """How one phase of a test on ``rig`` ended. ``kind`` is ``passed``, ``skipped`` or a
    failure class (``product``, ``crash``, ``rig``, ``test``); ``reason`` the exception's
    class (for a rig that is down, the class of what keeps it down); ``quarantined`` why the
    rig is out of the run, on the report that took it out and on the skips that followed."""

    rig: str
    kind: str
    reason: str = ""
    message: str = ""
    down: bool = False
    detail: str = ""
    quarantined: str = ""

    @property
    def failed(self) -> bool:
        return self.kind in (PRODUCT, CRASH, RIG, TEST)

    def outcome(self) -> Outcome:
        reason = f"down: {self.reason}" if self.down else self.reason
        return Outcome(self.rig, self.kind, reason if self.kind == RIG else "")


def verdict_of(rig: str, error: BaseException | None, report: pytest.TestReport) -> PhaseVerdict:
    if error is None or report.passed:
        return PhaseVerdict(rig, "passed")
    if report.skipped:
        return PhaseVerdict(rig, "skipped")
    if isinstance(error, RigDown):
        cause = error.cause
        return PhaseVerdict(
            rig, RIG, type(cause).__name__, first_line(error), down=True, detail=str(cause)
        )
    cls = classify(error, product=(pytest.fail.Exception,))
    return PhaseVerdict(rig, cls.key, type(error).__name__, first_line(error))


def attach(report: pytest.TestReport, verdict: PhaseVerdict) -> None:
    setattr(report, VERDICT, asdict(verdict))


def verdicts(report: Any) -> Iterator[PhaseVerdict]:
    """The report's verdict, if it is one of a test on a rig."""
    value = getattr(report, VERDICT, None)
    if isinstance(value, dict):
        yield PhaseVerdict(**value)


def note_quarantine(report: pytest.TestReport, why: str) -> None:
    """The report's verdict says its rig is out of the run."""
    for verdict in verdicts(report):
        attach(report, replace(verdict, quarantined=why))


class RunVerdict:
    """Each test's outcome and the run's verdict, from the reports as they arrive."""

    def __init__(self, pools: dict[str, list[str]] | None = None) -> None:
        self.pools = pools or {}  # pool → its rigs
        self.product_failures = 0
        self.broken: dict[str, set[str]] = {}  # rig → the tests its faults broke
        self.quarantined: dict[str, str] = {}  # rig → why it was taken out
        self.skipped: Counter[str] = Counter()  # rig → tests skipped in quarantine
        self.rigs_seen: set[str] = set()
        self.rerun: set[str] = set()  # tests run again after a rig fault (--vela-reruns)
        self._tests: dict[str, tuple[PhaseVerdict, str]] = {}  # node id → verdict, its phase

    # --- hooks ---------------------------------------------------------------------------

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.add(report)

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        self.add(report)

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        session.exitstatus = self.exit_status(session.exitstatus)

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        lines = self.summary()
        if lines:
            terminalreporter.write_sep("=", "rig faults", yellow=True)
            for line in lines:
                terminalreporter.write_line(line)

    # --- the reports -----------------------------------------------------------------------

    def add(self, report: pytest.TestReport | pytest.CollectReport) -> None:
        found = list(verdicts(report))
        if str(report.outcome) == "rerun":  # an attempt given up on: the next one counts
            self.rerun.add(report.nodeid)
            self.rigs_seen.update(v.rig for v in found)
            return
        for verdict in found:
            self.rigs_seen.add(verdict.rig)
            self._keep(report, verdict)
            if verdict.quarantined:
                self.quarantined.setdefault(verdict.rig, verdict.quarantined)
                if report.skipped:
                    self.skipped[verdict.rig] += 1
        if not report.failed:
            return
        faults = [v.rig for v in found if v.kind == RIG]
        for rig in faults:
            self.broken.setdefault(rig, set()).add(report.nodeid)
        if not faults:
            self.product_failures += 1

    def _keep(self, report: Any, verdict: PhaseVerdict) -> None:
        """A test's outcome: its first failure (setup, call or teardown), else how its call
        went."""
        known = self._tests.get(report.nodeid)
        when = getattr(report, "when", "")
        if (
            known is None
            or (verdict.failed and not known[0].failed)
            or (not known[0].failed and when == "call")
        ):
            self._tests[report.nodeid] = (verdict, when)

    def outcomes(self) -> list[Outcome]:
        return [verdict.outcome() for verdict, _ in self._tests.values()]

    @property
    def passed_after_rerun(self) -> int:
        return sum(
            1
            for nodeid in self.rerun
            if nodeid in self._tests and self._tests[nodeid][0].kind == "passed"
        )

    @property
    def failed(self) -> bool:
        return any(verdict.failed for verdict, _ in self._tests.values())

    @property
    def rig_faults(self) -> bool:
        return bool(self.broken or self.quarantined)

    def exit_status(self, status: int) -> int:
        """The run's exit status given pytest's: product failures win over rig faults."""
        if status not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
            return status
        if self.product_failures:
            return int(pytest.ExitCode.TESTS_FAILED)
        if self.rig_faults:
            return RIG_FAULTS
        return status

    def summary(self) -> list[str]:
        """A line per quarantined rig, one per rig whose faults broke tests, and what the exit
        status will say; nothing when no rig failed."""
        lines = []
        for rig, why in sorted(self.quarantined.items()):
            skipped = self.skipped.get(rig, 0)
            lines.append(f"{why} ({skipped} skipped)" if skipped else why)
        for rig, tests in sorted(self.broken.items()):
            lines.append(f"rig {rig!r}: {len(tests)} test(s) broken by rig faults")
        for pool, members in sorted(self.pools.items()):
            if members and all(m in self.quarantined for m in members):
                lines.append(f"pool {pool!r}: every rig of it is out of the run")
        if lines:
            lines.append(
                "exit status 1: product failures as well"
                if self.product_failures
                else f"exit status {RIG_FAULTS}: rig faults, no product failure"
            )
        return lines
