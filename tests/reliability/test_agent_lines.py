"""Property: whatever text follows ``VELA-AGENT `` on a console line — a mirror line cut or
garbled by noise, JSON of any shape or depth, numbers JSON has no words for — the agent's
end's console-line path drops it or takes it as the message it is, and ``decode`` either
returns a message or raises ``ProtocolError``; nothing else escapes. Well-formed event reports
come back equal, through ``encode`` / ``decode`` and through the console mirror."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from pytest_vela.common.loop import LoopThread
from pytest_vela.console.lines import LineListener, LineSplitter
from pytest_vela.errors import ProtocolError
from pytest_vela.link.trace import LinkTrace
from pytest_vela.peer.bridge import BridgeClient
from pytest_vela.peer.watch_end import AgentEnd
from pytest_vela.report.sequence_svg import render_svg
from pytest_vela.rigfile.schema import BleSettings
from pytest_vela.wire.messages import EventReport, Message, decode, encode
from pytest_vela.wire.profile import AGENT_CONSOLE_PREFIX

PROPERTY = settings(max_examples=300, deadline=None)


class LinesOnly:
    """The part of a console the agent client follows: watched lines, through the console's
    own line splitter (a listener that raises is reported to ``errors``, as the console logs
    it)."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.splitter = LineSplitter(on_error=self.errors.append)

    def watch_lines(self, pattern: str, listener: LineListener) -> None:
        self.splitter.add(listener, pattern)

    def line(self, text: str) -> None:
        self.splitter.feed(text + "\n", time.time())


@pytest.fixture(scope="module")
def loop() -> Iterator[LoopThread]:
    thread = LoopThread("agent-lines")
    yield thread
    thread.stop()


def follower(loop: LoopThread) -> tuple[AgentEnd, LinesOnly]:
    """The agent's end of a new bridge following a console, never connected: only the
    console path is used. Its clock is mapped as ``sync_clock`` leaves it (watch time 0 a
    minute ago), so that watch timestamps are turned into host times as in a real session."""
    bridge = BridgeClient(BleSettings(name="Vela-lines"), loop, LinkTrace())
    bridge.clock_offset = time.time() - 60.0
    end = AgentEnd(bridge)
    console = LinesOnly()
    end.follow_console(console)  # type: ignore[arg-type]
    return end, console


# --- what may follow the prefix ------------------------------------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)
FIELDS = ["t", "id", "op", "seq", "kind", "ts", "code", "data", "isReconnected", "ok", "clock"]
TYPES = ["evt", "res", "cmd", "app", "ack", "ping", "pong", "link", "peer", "session", "hello"]
odd_numbers = st.sampled_from(
    ["NaN", "Infinity", "-Infinity", "1e400", "-1e400", "1e308", "1" + "0" * 400, "4" * 5000, "-0"]
)


@st.composite
def message_like(draw: st.DrawFn) -> str:
    """A JSON object shaped like a bridge message: a known type, known field names with values
    of any type, now and then a number JSON cannot hold or Python refuses to read."""
    obj: dict[str, Any] = {"t": draw(st.sampled_from(TYPES) | st.text(max_size=5))}
    for name in draw(st.lists(st.sampled_from(FIELDS), max_size=7, unique=True)):
        obj[name] = draw(json_values | st.sampled_from(["open", "message", "close", "error"]))
    text = json.dumps(obj, separators=(",", ":"))
    if draw(st.booleans()) and len(obj) > 1:
        name = draw(st.sampled_from(sorted(set(obj) - {"t"})))
        text = text.replace(
            f'"{name}":{json.dumps(obj[name], separators=(",", ":"))}',
            f'"{name}":{draw(odd_numbers)}',
            1,
        )
    return text


def nested(depth: int, opener: str) -> str:
    closer = {"[": "]", "{": "}"}[opener]
    if opener == "{":
        return '{"a":' * depth + "0" + closer * depth
    return opener * depth + closer * depth


deep_json = st.builds(
    nested, st.integers(min_value=1, max_value=8000), st.sampled_from(["[", "{"])
) | st.integers(min_value=1, max_value=8000).map(lambda n: '{"t":"evt","data":' + "[" * n)


@st.composite
def cut(draw: st.DrawFn, whole: st.SearchStrategy[str]) -> str:
    """A mirror line as noise leaves it: cut short, a character changed, text inserted."""
    text = draw(whole)
    i = draw(st.integers(min_value=0, max_value=len(text)))
    how = draw(st.sampled_from(["cut", "change", "insert"]))
    if how == "cut":
        return text[:i]
    if how == "change":
        return text[:i] + draw(st.characters()) + text[i + 1 :]
    return text[:i] + draw(st.text(max_size=8)) + text[i:]


# One console line's worth: no line end inside.
after_prefix = (
    st.text() | message_like() | cut(message_like()) | deep_json | json_values.map(json.dumps)
).map(lambda text: text.replace("\n", ""))


def decoded_or_refused(raw: str | bytes) -> Message | None:
    try:
        return decode(raw)
    except ProtocolError:
        return None


# --- properties ------------------------------------------------------------------------------


@PROPERTY
@given(after_prefix)
@example("[" * 5000)
@example('{"t":"evt","seq":1,"kind":"open","ts":NaN}')
@example('{"t":"evt","seq":1,"kind":"open","ts":1e400}')
def test_decode_returns_a_message_or_raises_protocol_error(text: str) -> None:
    decoded_or_refused(text)
    decoded_or_refused(text.encode())


@PROPERTY
@given(after_prefix)
@example("[" * 8000)
@example('{"t":"evt","seq":1,"kind":"open","ts":1e300}')
@example('{"t":"evt","seq":1,"kind":"open","ts":Infinity}')
def test_any_text_after_the_prefix_is_dropped_or_taken_on_the_console_path(
    loop: LoopThread, text: str
) -> None:
    client, console = follower(loop)
    console.line(f"[    1.000000] [ INFO] [JS] {AGENT_CONSOLE_PREFIX}{text}")
    assert console.errors == []
    message = decoded_or_refused(text.removesuffix("\r"))  # as the line reaches listeners
    assert len(client.events) == (1 if isinstance(message, EventReport) else 0)
    # What was taken is fit for the report: the test's timeline renders, in words and drawn.
    assert isinstance(client.events.timeline(), str)
    assert render_svg(list(client.events), client.events.started).endswith("</svg>")


event_reports = st.builds(
    EventReport,
    seq=st.integers(min_value=1, max_value=2**53),
    kind=st.sampled_from(["open", "message", "close", "error"]),
    ts=st.floats(min_value=0, max_value=1e12, allow_nan=False)
    | st.integers(min_value=0, max_value=2**40),
    code=st.none() | st.integers(min_value=-(2**31), max_value=2**31),
    data=st.none() | st.text() | json_values,
    is_reconnected=st.none() | st.booleans(),
)


@PROPERTY
@given(event_reports)
def test_a_well_formed_event_report_round_trips_through_encode_and_decode(
    report: EventReport,
) -> None:
    assert decode(encode(report)) == report


@PROPERTY
@given(st.lists(event_reports, min_size=1, max_size=5, unique_by=lambda r: r.identity))
def test_well_formed_event_reports_on_the_console_mirror_reach_the_event_log(
    loop: LoopThread, reports: list[EventReport]
) -> None:
    client, console = follower(loop)
    log = client.events
    for report in reports:
        console.line(f"{AGENT_CONSOLE_PREFIX}{encode(report).decode()}")
    assert console.errors == []
    got = [(e.seq, e.kind, e.watch_ts, e.code, e.data, e.is_reconnected) for e in log]
    want = [(r.seq, r.kind, r.ts, r.code, r.data, r.is_reconnected) for r in reports]
    assert got == want
    for report in reports:  # a second copy (by the bridge, say) is not a second event
        console.line(f"{AGENT_CONSOLE_PREFIX}{encode(report).decode()}")
    assert len(log) == len(reports)
