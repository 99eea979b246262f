"""One record per test that runs on a rig: what the plugin keeps about it from its set-up to its
last report — where its evidence begins, what the watch had done before it, and how it ended.

The fixtures write the marks when the test starts; the judge, the quarantine and the reports
read and write the rest; nothing else about a test is kept anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from pytest_vela.peer.events import EventLog
from pytest_vela.plugin.verdict import PhaseVerdict

RECORD = pytest.StashKey["TestRecord"]()
BOUND = pytest.StashKey[str]()  # the rig of its pool a test runs on


@dataclass
class TestRecord:
    rig: str
    #: Which run of the test this is (``--vela-reruns``: a test broken by a rig fault runs again).
    attempt: int = 1
    #: When the test began on its rig (host clock), and where its console log, link trace
    #: and events begin (None: not reached).
    began: float = 0.0
    console_mark: int | None = None
    trace_mark: int | None = None
    metrics_mark: int | None = None
    events: EventLog | None = None
    #: What the watch had seen when the test began: crashes and apps' uncaught errors (None:
    #: the watch never started for this test, so nothing of it can be judged).
    crashes_before: int | None = None
    app_errors_before: int = 0
    #: A crash or an app's error already failed this test (each is reported once).
    crash_reported: bool = False
    app_errors_reported: int = 0
    #: The test's first failure, over its phases: its class for every report.
    failure: PhaseVerdict | None = None
    #: The first rig fault that broke it (its streak in quarantine), and whether it was skipped.
    rig_fault: str | None = None
    skipped: bool = False

    @property
    def started(self) -> bool:
        """The test reached the watch (its marks were taken)."""
        return self.crashes_before is not None


def item_target(item: pytest.Item) -> str | None:
    """What a collected test is parametrized over: a rig's name or a pool (``pool:NAME``);
    None for a test that runs on no rig."""
    callspec = getattr(item, "callspec", None)
    return callspec.params.get("rig") if callspec is not None else None


def item_rig(item: pytest.Item) -> str | None:
    """The rig a test runs on: its rig, or the rig of its pool it was given; None for a test
    that runs on no rig."""
    return item.stash.get(BOUND, None) or item_target(item)


def record_of(item: pytest.Item) -> TestRecord | None:
    """The test's record (made on first use); None for a test that runs on no rig."""
    found = item.stash.get(RECORD, None)
    if found is None:
        rig = item_rig(item)
        if rig is None:
            return None
        found = item.stash[RECORD] = TestRecord(rig)
    return found
