"""Quarantine: a rig that keeps failing for infrastructure is taken out of the run.

A test *broken* by a rig fault (a ``RigError`` in its setup, body or teardown) adds one to its
rig's streak; a test that used the watch and met no rig fault — passed, or failed for the
product — ends it; skipped tests leave it alone. When the streak reaches the rig's limit (rig
file ``farm.quarantine_after``, else ini ``vela_quarantine_after``, default 3; 0 never), the rig
is shut down (its lock or place released) and its remaining tests are skipped with the reason,
while the other rigs go on. Under xdist a rig runs on one worker, so the streak is that
worker's; the controller learns of faults and quarantines from the reports' verdicts (a rig
fault's class, and ``quarantined``), which ``verdict.RunVerdict`` reads.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from pytest_vela.errors import RigConfigError, RigDown, RigError, first_line
from pytest_vela.plugin.record import TestRecord
from pytest_vela.plugin.verdict import note_quarantine
from pytest_vela.rig.session import RigSession
from pytest_vela.rigfile.loader import Rig

DEFAULT_AFTER = 3


@dataclass
class RigHealth:
    """One rig's streak of rig faults, and why it was taken out (None while it is in)."""

    limit: int
    streak: int = 0
    last: str = ""
    out: str | None = None


def ini_limit(value: object) -> int:
    """The ini setting ``vela_quarantine_after``: a whole number, 0 or more."""
    text = str(value).strip()
    if not text.isdigit():
        raise RigConfigError(
            f"ini setting vela_quarantine_after = {value!r}: give the number of rig faults in "
            f"a row that take a rig out of the run, as vela_quarantine_after = {DEFAULT_AFTER} "
            "(0: never)"
        )
    return int(text)


def fault_summary(error: BaseException) -> str:
    """``SerialLost: the port vanished`` — the type and the first line of the message; for a
    rig that never started, of what kept it down."""
    if isinstance(error, RigDown):
        error = error.cause
    first = first_line(error)
    return f"{type(error).__name__}: {first}" if first else type(error).__name__


class Quarantine:
    """The rigs' streaks for this process (a worker holds only its own rigs' tests)."""

    def __init__(self, rigs: dict[str, Rig], default_limit: int) -> None:
        self.rigs = {
            name: RigHealth(
                rig.settings.farm.quarantine_after
                if rig.settings.farm.quarantine_after is not None
                else default_limit
            )
            for name, rig in rigs.items()
        }

    def reason(self, rig: str) -> str | None:
        """Why ``rig`` is out of the run, or None while it is in."""
        health = self.rigs.get(rig)
        return health.out if health is not None else None

    def skip_if_out(self, rig: str | None) -> None:
        """Before a test's fixtures: a quarantined rig's test is skipped, saying why."""
        reason = self.reason(rig) if rig is not None else None
        if reason is not None:
            pytest.skip(reason)

    def phase_done(
        self,
        record: TestRecord,
        error: BaseException | None,
        report: pytest.TestReport,
        session: RigSession | None,
    ) -> None:
        """After each phase's report: at teardown, count the test in its rig's streak and take
        the rig out when the streak reaches its limit (the report's verdict says so)."""
        health = self.rigs.get(record.rig)
        if health is None:
            return
        if report.skipped:
            record.skipped = True
            if health.out is not None:
                note_quarantine(report, health.out)
        if isinstance(error, RigError) and record.rig_fault is None:
            record.rig_fault = fault_summary(error)
        if report.when != "teardown" or health.out is not None:
            return
        if record.rig_fault is not None:
            health.streak += 1
            health.last = record.rig_fault
        elif record.started and not record.skipped:
            health.streak = 0
        if health.limit and health.streak >= health.limit:
            health.out = (
                f"rig {record.rig!r} quarantined after {health.streak} rig faults in a row "
                f"(last: {health.last}); its remaining tests are skipped"
            )
            note_quarantine(report, health.out)
            if session is not None:
                session.retire(health.out)
