"""Per-test evidence for the report: the console slice, the link trace and the event timeline."""

from __future__ import annotations

import allure
import pytest

from pytest_vela.link.trace import LinkTrace
from pytest_vela.plugin.run import EVENTS, MARK, TRACE_MARK
from pytest_vela.plugin.timeline_svg import render_svg
from pytest_vela.rig.session import RigSession


def attach_evidence(item: pytest.Item, session: RigSession) -> None:
    """The test's console slice, link trace and event timeline, for the report."""
    mark = item.stash.get(MARK, None)
    if mark is not None and session.console is not None:
        allure.attach(session.console.text_since(mark), "console", allure.attachment_type.TEXT)
    trace_mark = item.stash.get(TRACE_MARK, None)
    if trace_mark is not None:
        records = session.trace.since(trace_mark)
        allure.attach(LinkTrace.render(records), "link trace", allure.attachment_type.TEXT)
    events = item.stash.get(EVENTS, None)
    if events is not None:
        allure.attach(events.timeline(), "event timeline", allure.attachment_type.TEXT)
        allure.attach(
            render_svg(list(events), events.started),
            "event timeline (picture)",
            allure.attachment_type.SVG,
        )
