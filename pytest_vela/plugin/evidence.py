"""Per-test evidence for the report: the console slice, the link trace and the exchange as a
sequence diagram.

The console attachment has the agent's protocol lines (``VELA-AGENT …``, the machine-readable
mirror of its results and events) folded away into one line per run of them; they are attached
whole on their own. The link trace is attached untruncated, every frame's whole payload.
"""

from __future__ import annotations

import allure
import pytest

from pytest_vela.link.trace import LinkTrace
from pytest_vela.plugin.run import CRASHES, EVENTS, MARK, TRACE_MARK
from pytest_vela.plugin.timeline_svg import render_svg
from pytest_vela.rig.session import RigSession
from pytest_vela.wire.profile import AGENT_CONSOLE_PREFIX

TEXT = allure.attachment_type.TEXT
AGENT_ATTACHMENT = "console: agent protocol lines"


def fold_agent_lines(text: str) -> tuple[str, str]:
    """The console text with each run of agent protocol lines folded into one line, and those
    lines on their own."""
    kept: list[str] = []
    agent: list[str] = []
    run = 0

    def fold() -> None:
        nonlocal run
        if run:
            kept.append(f"⋯ {run} agent protocol line{'s' if run > 1 else ''} ({AGENT_ATTACHMENT})")
            run = 0

    for line in text.splitlines():
        if AGENT_CONSOLE_PREFIX in line:
            agent.append(line)
            run += 1
            continue
        fold()
        kept.append(line)
    fold()
    return "\n".join(kept) + ("\n" if kept else ""), "\n".join(agent) + ("\n" if agent else "")


def attach_evidence(item: pytest.Item, session: RigSession) -> None:
    """The test's console slice, link trace and sequence diagram, for the report."""
    mark = item.stash.get(MARK, None)
    if mark is not None and session.console is not None:
        console, agent = fold_agent_lines(session.console.text_since(mark))
        allure.attach(console, "console", allure.attachment_type.TEXT)
        if agent:
            allure.attach(agent, AGENT_ATTACHMENT, allure.attachment_type.TEXT)
    attach_crashes(item, session)
    trace_mark = item.stash.get(TRACE_MARK, None)
    records = session.trace.since(trace_mark) if trace_mark is not None else []
    if trace_mark is not None:
        allure.attach(LinkTrace.render(records), "link trace", allure.attachment_type.TEXT)
    events = item.stash.get(EVENTS, None)
    if events is not None:
        allure.attach(events.timeline(), "event timeline", allure.attachment_type.TEXT)
        allure.attach(
            render_svg(list(events), events.started, records, events.order_failure),
            "sequence diagram",
            allure.attachment_type.SVG,
        )


def attach_crashes(item: pytest.Item, session: RigSession) -> None:
    """Each crash of the test, expected or not: its lines and its decoded backtrace."""
    watch = session.started_watch
    start = item.stash.get(CRASHES, None)
    if watch is None or start is None:
        return
    for index in range(start, len(watch.crashes)):
        report = watch.crashes.evidence(index)
        allure.attach(report.render(), f"crash {index + 1}: {report.line[:80]}", TEXT)
