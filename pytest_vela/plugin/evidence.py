"""A test's evidence, gathered once and shown twice: whole in the Allure report, short in the
terminal under a failure.

Three recorders each keep a *mark* where the test began (``TestRecord``): the console log, the
link trace (every frame's whole payload) and the event log. The console's agent protocol lines
(``VELA-AGENT …``, the machine-readable mirror of the agent's results and events) are folded
away in the report — attached whole on their own — and left out in the terminal. Each crash of
the test, expected or not, is attached with its own lines and its decoded backtrace.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import allure

from pytest_vela.device.crash_report import CrashReport
from pytest_vela.errors import shown_path
from pytest_vela.link.trace import LinkTrace, TraceRecord
from pytest_vela.peer.events import EventLog
from pytest_vela.plugin.record import TestRecord
from pytest_vela.report.sequence_rows import WatchMark
from pytest_vela.report.sequence_svg import render_svg
from pytest_vela.rig.session import RigSession
from pytest_vela.wire.profile import AGENT_FOLD, split_agent_lines

CONSOLE_LINES = 20  # console lines shown in the terminal on a failure
TRACE_RECORDS = 12  # link trace records shown in the terminal on a failure
LINE_WIDTH = 160


@dataclass
class Evidence:
    rig: str
    console: str | None = None  # the console since the test began
    records: list[TraceRecord] | None = None  # the link trace since then (None: not marked)
    events: EventLog | None = None
    started: float = 0.0  # when the test began (host clock)
    clock_offset: float | None = None  # host minus watch seconds, from the bridge
    crashes: list[CrashReport] = field(default_factory=list)  # the test's, expected or not
    logs: list[str] = field(default_factory=list)  # where the whole logs are


def gather(record: TestRecord, session: RigSession, results: Path) -> Evidence:
    found = Evidence(record.rig, events=record.events, started=record.began)
    found.clock_offset = session.watch_clock_offset
    console = session.console
    if console is not None and record.console_mark is not None:
        found.console = console.text_since(record.console_mark)
    if record.trace_mark is not None:
        found.records = session.trace.since(record.trace_mark)
    watch = session.started_watch
    if watch is not None and record.crashes_before is not None:
        crashes = watch.crashes
        found.crashes = [crashes.evidence(i) for i in range(record.crashes_before, len(crashes))]
    if console is not None:
        found.logs.append(f"console log: {console.log_shown}")
    found.logs.append(f"allure results: {shown_path(results)}")
    return found


def attach(evidence: Evidence) -> None:
    """The whole of it, as the report's attachments."""
    if evidence.console is not None:
        kept, agent = split_agent_lines(evidence.console, fold=True)
        allure.attach(_text(kept), "console", allure.attachment_type.TEXT)
        if agent:
            allure.attach(_text(agent), AGENT_FOLD, allure.attachment_type.TEXT)
    for number, crash in enumerate(evidence.crashes, 1):
        title = f"crash {number}: {crash.line[:80]}"
        allure.attach(crash.render(), title, allure.attachment_type.TEXT)
    if evidence.records is not None:
        text = LinkTrace.render(evidence.records)
        allure.attach(text, "link trace", allure.attachment_type.TEXT)
    events = evidence.events
    if events is not None:
        allure.attach(events.timeline(), "event timeline", allure.attachment_type.TEXT)
    if events is not None or evidence.records:
        # Without an event log (an app under test reports none) the link trace alone draws it.
        crashes = [WatchMark(crash.ts, crash.line) for crash in evidence.crashes]
        svg = render_svg(
            list(events or []),
            evidence.started if events is None else events.started,
            evidence.records or [],
            None if events is None else events.order_failure,
            crashes,
            clock=evidence.clock_offset,
        )
        allure.attach(svg, "sequence diagram", allure.attachment_type.SVG)


def sections(evidence: Evidence) -> list[tuple[str, str]]:
    """Its short form, as sections of a failure's report in the terminal: the console's last
    lines, the link trace around the failure, the log paths."""
    rig = evidence.rig
    found: list[tuple[str, str]] = []
    if evidence.console is not None:
        lines, agent = split_agent_lines(evidence.console.strip("\n"))
        shown = lines[-CONSOLE_LINES:]
        head = f"last {len(shown)} of {len(lines)} lines" if len(lines) > len(shown) else ""
        if agent:
            head += f"{', ' if head else ''}{len(agent)} agent protocol lines left out"
        title = f"{rig} console" + (f" ({head})" if head else "")
        found.append((title, "\n".join(_clip(line) for line in shown) or "(nothing)"))
    if evidence.records:
        records = evidence.records
        shown_records = records[-TRACE_RECORDS:]
        title = f"{rig} link trace"
        if len(records) > len(shown_records):
            title += f" (last {len(shown_records)} of {len(records)} records)"
        text = LinkTrace.render(shown_records, limit=48).rstrip("\n")
        found.append((title, "\n".join(_clip(line) for line in text.splitlines())))
    found.append((f"{rig} logs", "\n".join(evidence.logs)))
    return found


def _text(lines: list[str]) -> str:
    return "\n".join(lines) + ("\n" if lines else "")


def _clip(line: str) -> str:
    return line if len(line) <= LINE_WIDTH else line[: LINE_WIDTH - 1] + "…"
