"""``--vela-reruns N``: a test broken by a rig fault (a ``RigError`` — a lost port, a hung watch,
a link that would not come up) is run again, up to N more times, after its rig has been
recovered; a test that failed for the product never is.

Every attempt is a report of its own: an attempt given up on is logged as ``rerun`` (the
terminal's ``R``, counted apart), and each is its own Allure result of the test (Allure shows
them as its retries). The last attempt is the test's outcome; one that passes after a rerun is
counted as such in the closing line and tagged in the report. A pool's test is run again on its
rig, or, when that rig has been taken out of the run, on another of its pool.
"""

from __future__ import annotations

import pytest
from _pytest.runner import runtestprotocol

from pytest_vela.plugin.record import BOUND, RECORD, TestRecord, item_rig, item_target
from pytest_vela.plugin.run import SESSION
from pytest_vela.plugin.verdict import verdicts
from pytest_vela.report.summary import RIG

RERUN = "rerun"


def reruns(config: pytest.Config) -> int:
    given = config.getoption("vela_reruns")
    value = given if given is not None else config.getini("vela_reruns")
    try:
        count = int(str(value).strip() or 0)
    except ValueError:
        count = -1
    if count < 0:
        raise pytest.UsageError(
            f"--vela-reruns / vela_reruns = {value!r}: give how many times a test broken by a "
            "rig fault is run again, as --vela-reruns 2 (0: never)"
        )
    return count


def broken_by_the_rig(reports: list[pytest.TestReport]) -> bool:
    """An attempt a rig fault broke (and no product failure: that is the product's)."""
    kinds = {v.kind for r in reports if r.failed for v in verdicts(r)}
    return kinds == {RIG}


class Reruns:
    def __init__(self, count: int) -> None:
        self.count = count

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_protocol(self, item: pytest.Item, nextitem: pytest.Item | None) -> bool:
        rig = item_rig(item)
        if rig is None:
            return False  # not a test on a rig: pytest runs it as usual
        ihook = item.ihook
        for attempt in range(1, self.count + 2):
            ihook.pytest_runtest_logstart(nodeid=item.nodeid, location=item.location)
            if attempt > 1:
                rig = _fresh(item, rig, attempt)
                item.config.stash[SESSION].router.current = rig
            reports = runtestprotocol(item, nextitem=nextitem, log=False)
            again = attempt <= self.count and broken_by_the_rig(reports)
            for report in reports:
                if again and report.failed:
                    report.outcome = RERUN  # type: ignore[assignment]
                ihook.pytest_runtest_logreport(report=report)
            ihook.pytest_runtest_logfinish(nodeid=item.nodeid, location=item.location)
            if not again:
                break
        return True

    def pytest_report_teststatus(
        self, report: pytest.TestReport
    ) -> tuple[str, str, tuple[str, dict[str, bool]]] | None:
        if report.outcome == RERUN:
            return RERUN, "R", ("RERUN", {"yellow": True})
        return None


def _fresh(item: pytest.Item, rig: str, attempt: int) -> str:
    """The item as before its first attempt: its function-scoped fixtures made anew, a new
    record (evidence and judgement of this attempt only); a pool's test may get another rig of
    its pool (its own was taken out of the run). Returns the rig it runs on now."""
    item._initrequest()  # type: ignore[attr-defined]
    pool = item.config.stash[SESSION].targets.pools.get(item_target(item) or "")
    if pool is not None:
        rig = pool.rig() or rig
        item.stash[BOUND] = rig
    item.stash[RECORD] = TestRecord(rig, attempt=attempt)
    return rig
