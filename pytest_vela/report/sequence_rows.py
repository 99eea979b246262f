"""A test's exchange as rows of a sequence diagram: steps taken from the event log and the link
trace, then grouped into rows (``sequence_svg`` draws them).

Three lanes: the phone (the peer, played by the harness), the link (the BLE bridge) and the
watch app. The link trace gives the arrows — agent commands and their results, each naming
its ``#id``, messages each way, the phone's link orders, acknowledgements — reassembled from
its frames and decoded; the event log gives the marks on the watch app's lane (open, message,
close and error, with their codes), and an event the trace carries but the log does not (one
that came while the fixtures set the test up) is marked from the trace; link events (connect,
disconnect, framing errors) and the watch app's link going up or down are marks on the link's
lane. What the watch itself said — a crash's panic — comes as ``WatchMark``s with their host
times, drawn across the lanes: everything below it happened after.

One row per step, so no two labels ever share a line. Long gaps are drawn as gaps. Runs of
alike steps are collapsed ("×20 message #7–#26"; a burst never spans an open, close or error),
and a very long exchange is summarised in slices, so that 20 events and 2,000 read alike.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from pytest_vela.codes import ErrorCode
from pytest_vela.errors import ProtocolError
from pytest_vela.link.trace import TraceRecord
from pytest_vela.peer.events import Event
from pytest_vela.wire.messages import (
    Ack,
    AppData,
    Command,
    EventReport,
    Hello,
    LinkOrder,
    Message,
    PeerState,
    Ping,
    Pong,
    Result,
    SessionState,
    decode,
)

PHONE, LINK, WATCH = "phone", "link", "watch"
MIN_RUN = 4  # alike steps in a row collapsed from this many on
MAX_ROWS = 300  # beyond this, the exchange is summarised in slices
GAP_MS = 250.0  # a pause this long between two rows is drawn as a gap

COLOURS = {
    "open": "#2e7d32",
    "message": "#1565c0",
    "close": "#6d4c41",
    "error": "#c62828",
    "cmd": "#37474f",
    "result": "#37474f",
    "app": "#1565c0",
    "order": "#8e24aa",
    "small": "#9e9e9e",
    "link": "#ef6c00",
    "raw": "#616161",
    "crash": "#b71c1c",
}


@dataclass(frozen=True)
class WatchMark:
    """A line the watch printed that the diagram shows (a crash's marker line), with the host
    time it arrived."""

    t: float
    line: str
    kind: str = "crash"


@dataclass
class Step:
    """One thing that happened: an arrow (``src`` → ``dst``) or a mark (``src`` only)."""

    t: float  # host clock, seconds
    src: str
    dst: str | None
    key: str  # steps with one key are alike (collapsible)
    label: str
    colour: str
    detail: str = ""
    seqs: list[int] = field(default_factory=list)  # event log seqs shown by this step
    watch_ms: float | None = None  # the watch's clock, where measured
    matched: int | None = None  # its place in a failed assert_order's expectation


@dataclass
class Row:
    steps: list[Step]  # one, or a collapsed run of alike steps
    gap_before_ms: float = 0.0

    @property
    def first(self) -> Step:
        return self.steps[0]


# --- from the log and the trace to steps -------------------------------------------------------


def _code_name(code: int | None) -> str:
    if code is None:
        return ""
    try:
        return f" {code} {ErrorCode(code).name}"
    except ValueError:
        return f" {code}"


def event_steps(events: Sequence[Event], matched: dict[int, int]) -> list[Step]:
    steps = []
    for index, event in enumerate(events):
        label = f"#{event.seq} {event.kind}"
        if event.kind in ("close", "error"):
            label += _code_name(event.code)
        if event.kind == "open" and event.is_reconnected is not None:
            label += " (reconnected)" if event.is_reconnected else " (first)"
        if event.kind == "message" and event.data is not None:
            label += f" {event.data}"
        detail = label + (f"\ndata: {event.data}" if event.data is not None else "")
        steps.append(
            Step(
                event.ts,
                WATCH,
                None,
                f"event:{event.kind}",
                label,
                COLOURS.get(event.kind, "#000"),
                detail,
                seqs=[event.seq],
                watch_ms=event.watch_ts,
                matched=matched.get(index),
            )
        )
    return steps


def _short(value: object, limit: int = 80) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def message_step(t: float, direction: str, message: Message) -> Step | None:
    """The arrow (or mark) of one decoded bridge message; None for event reports (the log's
    marks, see ``trace_steps``)."""
    outgoing = direction == "tx"
    src, dst = (PHONE, WATCH) if outgoing else (WATCH, PHONE)
    if isinstance(message, EventReport):
        return None
    if isinstance(message, Command):
        args = f"({_short(message.args)})" if message.args else "()"
        label = f"#{message.id} {message.op}{args}"
        return Step(t, src, dst, f"cmd:{message.op}", label, COLOURS["cmd"])
    if isinstance(message, Result):
        if message.ok:
            said = "ok" + (f" status {message.status}" if message.status is not None else "")
        else:
            said = f"fail{_code_name(message.code)}" + (
                f": {_short(message.data, 40)}" if message.data is not None else ""
            )
        step = Step(t, src, dst, f"res:{message.ok}", f"result #{message.id} {said}", "#37474f")
        step.watch_ms = message.clock
        return step
    if isinstance(message, AppData):
        who = "phone → watch app" if outgoing else "watch app → phone"
        number = "" if message.id is None else f"#{message.id} "
        label = f"message {number}{message.data}"
        return Step(t, src, dst, f"app:{direction}", label, COLOURS["app"], who)
    if isinstance(message, LinkOrder):
        return Step(t, PHONE, LINK, "order", f"link {message.op}", COLOURS["order"])
    if isinstance(message, PeerState):
        return Step(
            t, src, dst, "peer", f"phone app installed={message.installed}", COLOURS["order"]
        )
    if isinstance(message, SessionState):
        said = "up" if message.up else "down"
        detail = f"the watch says its app's link to the phone app went {said}"
        return Step(t, LINK, None, "session", f"app link {said}", COLOURS["link"], detail)
    if isinstance(message, Hello):
        step = Step(t, src, dst, "hello", f"hello (agent {message.agent})", COLOURS["cmd"])
        step.watch_ms = message.clock
        return step
    if isinstance(message, Ack | Ping | Pong):
        label = f"{message.t} #{message.id}"
        return Step(t, src, dst, f"small:{message.t}:{direction}", label, COLOURS["small"])
    return None  # pragma: no cover - every message type is named above


def trace_steps(records: Sequence[TraceRecord], logged: Sequence[Event] = ()) -> list[Step]:
    """Arrows for the bridge messages in the trace (reassembled from their frames), marks for
    link events, and for the event reports of events not in the ``logged`` ones."""
    known = {(e.seq, e.kind) for e in logged}
    steps: list[Step] = []
    partial: dict[tuple[str, int], list[TraceRecord]] = {}
    for record in records:
        if record.direction == "event":
            steps.append(Step(record.wall, LINK, None, "link", record.preview, COLOURS["link"]))
            continue
        if record.msg_id is None or record.count is None:
            steps.append(_raw(record.wall, record.direction, [record]))
            continue
        key = (record.direction, record.msg_id)
        frames = partial.setdefault(key, [])
        frames.append(record)
        if len(frames) < record.count:
            continue
        del partial[key]
        payload = b"".join(f.payload for f in frames)
        try:
            message = decode(payload)
        except ProtocolError:
            steps.append(_raw(frames[0].wall, record.direction, frames))
            continue
        if isinstance(message, EventReport):
            if (message.seq, message.kind) not in known:
                steps.append(_unlogged_event(frames[0].wall, message))
            continue
        step = message_step(frames[0].wall, record.direction, message)
        if step is not None:
            if len(frames) > 1:
                step.detail = (step.detail + "\n" if step.detail else "") + (
                    f"{len(frames)} frames, {len(payload)} bytes"
                )
            steps.append(step)
    for frames in partial.values():  # cut short: the test ended mid-message
        steps.append(_raw(frames[0].wall, frames[0].direction, frames))
    return steps


def _unlogged_event(t: float, report: EventReport) -> Step:
    """An event the trace carries and the test's event log does not: it came before the log
    began (while the fixtures set the test up, say)."""
    event = Event(
        report.kind,
        t,
        data=report.data,
        code=report.code,
        is_reconnected=report.is_reconnected,
        seq=report.seq,
        watch_ts=report.ts,
    )
    step = event_steps([event], {})[0]
    step.seqs = []
    step.key = f"setup:{report.kind}"
    step.label += ", before the log"
    step.detail += "\n(in the link trace, not in the test's event log, which began after it)"
    return step


_PRINTER = re.compile(r"^\s*\w+:\s+(?=\S)")  # NuttX's "dump_assert_info: " before a line


def mark_steps(marks: Sequence[WatchMark]) -> list[Step]:
    """A mark per line the watch printed, named without the function that printed it (the
    tooltip keeps the whole line)."""
    return [
        Step(
            m.t,
            WATCH,
            None,
            m.kind,
            f"watch {m.kind}: {_PRINTER.sub('', m.line.strip())}",
            COLOURS["crash"],
            m.line,
        )
        for m in marks
    ]


def _raw(t: float, direction: str, frames: list[TraceRecord]) -> Step:
    src, dst = (PHONE, WATCH) if direction == "tx" else (WATCH, PHONE)
    size = sum(f.length for f in frames)
    label = f"{len(frames)} frame(s), {size} bytes, not a whole message: {frames[0].preview}"
    return Step(t, src, dst, f"raw:{direction}", label, COLOURS["raw"])


def order_matches(events: Sequence[Event], expected: Sequence[str]) -> dict[int, int]:
    """Which events ``assert_order`` matched (event index → place in ``expected``)."""
    matched: dict[int, int] = {}
    position = 0
    for index, event in enumerate(events):
        if position < len(expected) and event.kind == expected[position]:
            matched[index] = position
            position += 1
    return matched


# --- steps to rows -----------------------------------------------------------------------------


CHATTY = ("event:message", "app:", "small:", "cmd:", "res:", "raw:")


def _chatty(step: Step) -> bool:
    return step.key.startswith(CHATTY)


def collapse(steps: list[Step]) -> list[list[Step]]:
    """Between two notable steps (an open, close or error, a link event or order), the chatty
    ones — messages, commands and results, acknowledgements — are grouped by kind: a kind seen
    at least ``MIN_RUN`` times there becomes one row; the rest keep a row each, in time order.
    Notable steps always keep their own row, so a burst never hides where a link broke."""
    rows: list[list[Step]] = []
    segment: list[Step] = []

    def flush() -> None:
        by_key: dict[str, list[Step]] = {}
        for step in segment:
            by_key.setdefault(step.key, []).append(step)
        out: list[list[Step]] = []
        for group in by_key.values():
            if len(group) >= MIN_RUN:
                out.append(group)
            else:
                out.extend([step] for step in group)
        rows.extend(sorted(out, key=lambda row: row[0].t))
        segment.clear()

    for step in steps:
        if _chatty(step):
            segment.append(step)
        else:
            flush()
            rows.append([step])
    flush()
    return rows


def summarise(rows: list[list[Step]]) -> list[list[Step]]:
    """A very long exchange: consecutive rows in slices, one row per kind in each slice."""
    if len(rows) <= MAX_ROWS:
        return rows
    steps = [s for row in rows for s in row]
    slices = max(1, MAX_ROWS // 4)
    size = -(-len(steps) // slices)
    out: list[list[Step]] = []
    for start in range(0, len(steps), size):
        by_key: dict[str, list[Step]] = {}
        for step in steps[start : start + size]:
            by_key.setdefault(step.key, []).append(step)
        out.extend(by_key.values())
    return out


def build_rows(steps: list[Step]) -> list[Row]:
    steps = sorted(steps, key=lambda s: s.t)
    grouped = summarise(collapse(steps))
    rows: list[Row] = []
    last: float | None = None
    for group in grouped:
        t = group[0].t
        gap = (t - last) * 1000 if last is not None else 0.0
        rows.append(Row(group, gap if gap >= GAP_MS else 0.0))
        last = max(last or t, group[-1].t)
    return rows
