"""The sequence diagram: valid SVG, every event in it, bursts collapsed, order failures drawn,
a crash across the lanes, the watch clock on every row, a small picture for a short exchange."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from dataclasses import replace

import pytest

from pytest_vela.link.trace import LinkTrace, TraceRecord
from pytest_vela.peer.events import Event
from pytest_vela.report.sequence_rows import COLOURS, MAX_ROWS, PHONE, WATCH, WatchMark
from pytest_vela.report.sequence_svg import (
    BOTTOM,
    LANE_X,
    MAX_WIDTH,
    MIN_WIDTH,
    ROW,
    TOP,
    render_svg,
)
from pytest_vela.wire.framing import encode as frames
from pytest_vela.wire.messages import (
    AppData,
    Command,
    EventReport,
    Hello,
    Message,
    Result,
    SessionState,
    encode,
)

SVG = "{http://www.w3.org/2000/svg}"
T0 = 1_800_000_000.0


def _exchange(messages: int) -> tuple[list[Event], LinkTrace]:
    """An open, ``messages`` phone messages each with its onmessage, a send that fails,
    then a link loss (error, close)."""
    trace = LinkTrace()
    events: list[Event] = []
    ids = iter(range(1, 10**6))

    def put(message: Message, direction: str = "tx") -> None:
        for frame in frames(encode(message), next(ids), 247, 1 << 20):
            trace.frame(direction, frame)  # type: ignore[arg-type]

    trace.event("connected to Vela-sim")
    events.append(Event("open", T0 + 0.001, is_reconnected=False, seq=1, watch_ts=1.0))
    for n in range(messages):
        put(AppData(json.dumps({"n": n})))
        data = json.dumps({"n": n})
        events.append(Event("message", T0 + 0.002 + n / 1000, data=data, seq=n + 2))
    put(Command(7, "send", {"data": {"big": "x" * 600}}))  # several frames
    put(Result(7, False, code=1006, data="disconnected"), "rx")
    seq = messages + 2
    events.append(Event("error", T0 + 5, code=1006, seq=seq, watch_ts=5000.0))
    events.append(Event("close", T0 + 5.001, code=1006, seq=seq + 1, watch_ts=5001.0))
    return events, trace


def _seqs(svg: ET.Element) -> list[int]:
    found: list[int] = []
    for group in svg.iter(f"{SVG}g"):
        if group.get("data-seqs"):
            found.extend(int(s) for s in group.get("data-seqs", "").split(","))
    return found


def _texts(svg: ET.Element) -> str:
    return "\n".join("".join(t.itertext()) for t in svg.iter(f"{SVG}text"))


@pytest.mark.parametrize("messages", [18, 1998], ids=["20-events", "2000-events"])
def test_valid_svg_with_every_event_and_bounded_size(messages: int) -> None:
    events, trace = _exchange(messages)
    svg = ET.fromstring(render_svg(events, T0, trace.since(0)))
    assert sorted(_seqs(svg)) == [e.seq for e in events]  # each event, exactly once
    rows = [g for g in svg.iter(f"{SVG}g") if "step" in (g.get("class") or "")]
    assert len(rows) <= MAX_ROWS
    assert float(svg.get("height", "0")) < 10_000  # readable: bounded, whatever the count
    text = _texts(svg)
    assert f"×{messages} message #2–#{messages + 1}" in text
    assert "#1 open (first)" in text
    assert f"#{messages + 2} error 1006 DISCONNECTED" in text
    assert "result #7 fail 1006 DISCONNECTED" in text
    assert re.search(r"send\(\{\"data\"", text)  # the command, reassembled from its frames
    assert "connected to Vela-sim" in text  # a link event on the link's lane
    assert "⋮" in text  # the long pause before the loss is drawn as a gap


def test_a_burst_never_spans_a_loss() -> None:
    events = [Event("message", T0 + n / 100, data="x", seq=n + 1) for n in range(10)]
    events.insert(5, Event("close", T0 + 0.045, code=1006, seq=99))
    text = _texts(ET.fromstring(render_svg(events, T0)))
    assert "×5 message #1–#5" in text and "×5 message #6–#10" in text
    assert text.index("#1–#5") < text.index("#99 close") < text.index("#6–#10")


def test_labels_never_share_a_row() -> None:
    events, trace = _exchange(6)
    svg = ET.fromstring(render_svg(events, T0, trace.since(0)))
    label_rows = [
        float(t.get("y", "0"))
        for g in svg.iter(f"{SVG}g")
        if "step" in (g.get("class") or "")
        for t in g.findall(f"{SVG}text")[3:]  # past the three clock columns
    ]
    assert len(label_rows) == len(set(label_rows))


def test_an_order_failure_draws_the_expected_order_against_the_actual_one() -> None:
    events = [
        Event("close", T0 + 0.01, code=1006, seq=1),
        Event("error", T0 + 0.02, code=1006, seq=2),
    ]
    svg = ET.fromstring(render_svg(events, T0, (), (["error", "close", "open"], 1)))
    text = _texts(svg)
    assert "assert_order failed" in text
    assert "✓ error" in text and "✗ close" in text  # matched, then the first one missing
    assert "✓1" in text  # the event that matched, ticked in the diagram


def test_text_from_the_watch_is_made_safe() -> None:
    events = [Event("message", T0, data='<&"\x00\x1b>', seq=1)]
    svg = ET.fromstring(render_svg(events, T0))
    assert "\\x00" in _texts(svg)


def test_an_empty_exchange_says_so() -> None:
    svg = ET.fromstring(render_svg([], T0))
    assert "(no events and no link traffic)" in _texts(svg)


def _trace(*steps: tuple[str, Message | str]) -> list[TraceRecord]:
    """A link trace of these messages (or link events), 10 ms apart from T0."""
    trace = LinkTrace()
    for n, (direction, message) in enumerate(steps):
        if isinstance(message, str):
            trace.event(message)
        else:
            for frame in frames(encode(message), n + 1, 247, 1 << 20):
                trace.frame(direction, frame)  # type: ignore[arg-type]
    walls = {r.msg_id: T0 + 0.01 * n for n, r in enumerate(trace.since(0))}
    return [
        replace(r, wall=walls.get(r.msg_id, T0) if r.msg_id is not None else T0 + 0.01 * n)
        for n, r in enumerate(trace.since(0))
    ]


def _rows(svg: ET.Element) -> list[ET.Element]:
    return [g for g in svg.iter(f"{SVG}g") if "step" in (g.get("class") or "")]


def test_a_crash_crosses_the_lanes_and_the_link_is_seen_going_down() -> None:
    events = [Event("open", T0 + 0.001, is_reconnected=False, seq=1, watch_ts=1.0)]
    records = _trace(("tx", Command(4, "send", {"data": {"n": 1}})), ("rx", SessionState(False)))
    records += [replace(r, wall=T0 + 0.2) for r in _trace(("event", "disconnected (link lost)"))]
    line = "dump_assert_info: Assertion failed rtcb: at file: sched/sched_unlock.c:67"
    svg = ET.fromstring(render_svg(events, T0, records, marks=[WatchMark(T0 + 0.015, line)]))
    text = _texts(svg)
    assert "1 crash" in text.splitlines()[0]
    order = [label for label in text.splitlines() if "#4 send" in label or "watch crash" in label]
    assert order[0].startswith("#4 send") and order[1].startswith("watch crash: Assertion failed")
    assert "app link down" in text and "disconnected (link lost)" in text
    crash = next(g for g in _rows(svg) if "crash" in (g.get("class") or ""))
    across = [ln for ln in crash.iter(f"{SVG}line") if ln.get("stroke") == COLOURS["crash"]]
    assert [(ln.get("x1"), ln.get("x2")) for ln in across] == [
        (str(LANE_X[PHONE]), str(LANE_X[WATCH]))
    ]
    assert line in "".join(crash.find(f"{SVG}title").itertext())  # type: ignore[union-attr]


def test_every_row_has_a_watch_clock_and_each_command_its_id() -> None:
    records = _trace(
        ("rx", Hello("1", "com.vela.agent", 5000.0)),
        ("tx", Command(2, "send", {"data": "x"})),
        ("rx", Result(2, True, clock=5020.0)),
        ("rx", EventReport(1, "open", 5005.0, is_reconnected=False)),
    )
    svg = ET.fromstring(render_svg([], T0, records))
    clocks = [g.findall(f"{SVG}text")[2].text for g in _rows(svg)]
    assert clocks == ["5000.0", "≈5010.0", "5020.0", "5005.0"], clocks  # measured, or ≈
    text = _texts(svg)
    assert '#2 send({"data": "x"})' in text and "result #2 ok" in text
    assert "#1 open (first), before the log" in text  # in the trace, not in the test's log
    assert _seqs(svg) == []  # the log's events only


def test_an_exchange_with_no_watch_time_of_its_own_takes_the_bridges_clock() -> None:
    records = _trace(("tx", Command(2, "send", {"data": "x"})), ("rx", SessionState(False)))
    unmapped = ET.fromstring(render_svg([], T0, records))
    assert [g.findall(f"{SVG}text")[2].text for g in _rows(unmapped)] == [None, None]
    svg = ET.fromstring(render_svg([], T0, records, clock=T0 - 7.0))  # watch = host - T0 + 7 s
    clocks = [g.findall(f"{SVG}text")[2].text or "" for g in _rows(svg)]
    assert all(re.fullmatch(r"≈70\d\d\.\d", c) for c in clocks), clocks


def test_a_short_exchange_fills_a_small_picture() -> None:
    records = _trace(("tx", Command(2, "send", {"data": "x"})), ("rx", Result(2, True)))
    svg = ET.fromstring(render_svg([], T0, records))
    assert int(svg.get("width", "0")) == MIN_WIDTH
    rows = _rows(svg)
    first_y = float(rows[0].findall(f"{SVG}text")[0].get("y", "0"))
    assert first_y - 34 <= ROW + 4  # right below the column heads
    assert int(svg.get("height", "0")) == TOP + len(rows) * ROW + BOTTOM
    wide = "x" * 300
    marked = render_svg([], T0, records, marks=[WatchMark(T0, wide)])
    assert int(ET.fromstring(marked).get("width", "0")) == MAX_WIDTH  # grows, within bounds
