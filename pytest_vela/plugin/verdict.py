"""The run's verdict for a nightly job: product failures, rig faults, or neither.

Worked out where every report arrives — the process that runs the tests, or under xdist the
controller — from the reports alone: a failed report that carries a rig fault (``FAULT``, set
by ``quarantine``) is the rig's, any other failure is the product's. The exit status:

- 0: every test passed (pytest's own);
- 1: product failures (pytest's own), whether or not rigs failed too;
- ``RIG_FAULTS`` (10): no product failure, but a rig fault broke a test — a rig that never came
  up, one that was quarantined, one that failed once and was recovered;
- pytest's 2–5 (interrupted, internal error, usage error, no tests) are left as they are.
"""

from __future__ import annotations

from collections import Counter

import pytest

from pytest_vela.plugin.quarantine import FAULT, QUARANTINED

RIG_FAULTS = 10


def _split(value: object) -> tuple[str, str]:
    rig, _, text = str(value).partition(": ")
    return rig, text


class Verdict:
    """A plugin of the process that sees every report (registered by the hooks' configure)."""

    def __init__(self) -> None:
        self.product_failures = 0
        self.broken: dict[str, set[str]] = {}  # rig → the tests its faults broke
        self.quarantined: dict[str, str] = {}  # rig → why it was taken out
        self.skipped: Counter[str] = Counter()  # rig → tests skipped in quarantine

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

    def add(self, report: pytest.TestReport | pytest.CollectReport) -> None:
        faults = []
        for name, value in getattr(report, "user_properties", ()):
            if name == FAULT:
                faults.append(_split(value)[0])
            elif name == QUARANTINED:
                rig, why = _split(value)
                self.quarantined.setdefault(rig, why)
                if report.skipped:
                    self.skipped[rig] += 1
        if not report.failed:
            return
        if faults:
            for rig in faults:
                self.broken.setdefault(rig, set()).add(report.nodeid)
        else:
            self.product_failures += 1

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
        if lines:
            lines.append(
                "exit status 1: product failures as well"
                if self.product_failures
                else f"exit status {RIG_FAULTS}: rig faults, no product failure"
            )
        return lines
