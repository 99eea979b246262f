"""A test's exchange as a sequence diagram (SVG), for the report.

Three lanes: the phone (the peer, played by the harness), the link (the BLE bridge) and the
watch app. The link trace gives the arrows — agent commands and their results, messages each
way, the phone's link orders, acknowledgements — reassembled from its frames and decoded; the
event log gives the marks on the watch app's lane (open, message, close and error, with their
codes); link events (connect, disconnect, framing errors) are marks on the link's lane.

One row per step, so no two labels ever share a line; the time of each row is written on the
left, on the host clock (ms since the test began, and the wall clock) with the watch's own clock
beside it (measured for events, ≈ estimated for the rest). Long gaps are drawn as gaps. Runs of
alike steps are collapsed ("×20 message #7–#26"; a burst never spans an open, close or error),
and a very long exchange is summarised in slices, so that 20 events and 2,000 read alike.
Every event of the log is in the picture: its row names its ``#seq`` (a collapsed row names the
range and lists them in ``data-seqs``).

After a failed ``EventLog.assert_order`` the expected order is drawn against the actual one:
the expected kinds, those matched ticked and the first missing one crossed, above the kinds
that actually came, those that matched joined to their place in the expectation.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from pytest_vela.codes import ErrorCode
from pytest_vela.errors import ProtocolError
from pytest_vela.link.trace import TraceRecord
from pytest_vela.peer.events import Event, time_of_day
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
    decode,
)

PHONE, LINK, WATCH = "phone", "link", "watch"
LANE_X = {PHONE: 330, LINK: 560, WATCH: 790}
LANE_TITLES = {
    PHONE: "phone app (peer, harness)",
    LINK: "link (BLE bridge)",
    WATCH: "watch app (interconnect)",
}
WIDTH = 1180
ROW = 20
TOP = 70
CHAR = 6.4  # px per character at font-size 11 (monospace-ish estimate)
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
}

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")


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
    """The arrow of one decoded bridge message; None for event reports (the log's marks)."""
    outgoing = direction == "tx"
    src, dst = (PHONE, WATCH) if outgoing else (WATCH, PHONE)
    if isinstance(message, EventReport):
        return None
    if isinstance(message, Command):
        args = f"({_short(message.args)})" if message.args else "()"
        return Step(t, src, dst, f"cmd:{message.op}", f"{message.op}{args}", COLOURS["cmd"])
    if isinstance(message, Result):
        if message.ok:
            said = "ok" + (f" status {message.status}" if message.status is not None else "")
        else:
            said = f"fail{_code_name(message.code)}" + (
                f": {_short(message.data, 40)}" if message.data is not None else ""
            )
        return Step(t, src, dst, f"res:{message.ok}", f"result #{message.id} {said}", "#37474f")
    if isinstance(message, AppData):
        who = "phone → watch app" if outgoing else "watch app → phone"
        return Step(t, src, dst, f"app:{direction}", f"message {message.data}", COLOURS["app"], who)
    if isinstance(message, LinkOrder):
        return Step(t, PHONE, LINK, "order", f"link {message.op}", COLOURS["order"])
    if isinstance(message, PeerState):
        return Step(
            t, src, dst, "peer", f"phone app installed={message.installed}", COLOURS["order"]
        )
    if isinstance(message, Hello):
        return Step(t, src, dst, "hello", f"hello (agent {message.agent})", COLOURS["cmd"])
    if isinstance(message, Ack | Ping | Pong):
        return Step(t, src, dst, f"small:{message.t}:{direction}", message.t, COLOURS["small"])
    return None  # pragma: no cover - every message type is named above


def trace_steps(records: Sequence[TraceRecord]) -> list[Step]:
    """Arrows for the bridge messages in the trace (reassembled from their frames), marks for
    link events."""
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


# --- drawing -----------------------------------------------------------------------------------


def _text(value: object) -> str:
    """Text made safe for XML: escaped, control characters spelled out."""
    raw = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", str(value))
    return (
        raw.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


def _fit(label: str, width: float) -> str:
    room = max(4, int(width / CHAR))
    return label if len(label) <= room else label[: room - 1] + "…"


def _seq_range(seqs: list[int]) -> str:
    if not seqs:
        return ""
    low, high = min(seqs), max(seqs)
    return f"#{low}" if low == high else f"#{low}–#{high}"


def _row_label(row: Row) -> str:
    steps = row.steps
    if len(steps) == 1:
        return steps[0].label
    first = steps[0]
    seqs = [s for step in steps for s in step.seqs]
    kind = first.key.split(":", 1)[-1] if first.key.startswith("event:") else first.label
    if seqs:
        return f"×{len(steps)} {kind} {_seq_range(seqs)}"
    return f"×{len(steps)} {_run_name(first)}"


def _run_name(step: Step) -> str:
    kind, _, rest = step.key.partition(":")
    if kind == "cmd":
        return rest
    if kind == "res":
        return "results ok" if rest == "True" else "results failed"
    if kind == "app":
        return f"messages {step.detail}"
    if kind == "small":
        return rest.split(":")[0]
    return {"link": "link events", "raw": "partial frames", "order": "link orders"}.get(
        kind, _strip_ids(step.label)
    )


def _strip_ids(label: str) -> str:
    return re.sub(r"#\d+ ?", "", label).strip()


def _clock(t: float, started: float) -> tuple[str, str]:
    return f"{(t - started) * 1000:+.1f}", time_of_day(t).strip()


def _watch_clock(row: Row, offset: float | None) -> str:
    first = row.first
    if first.watch_ms is not None:
        return f"{first.watch_ms:.1f}"
    if offset is not None:
        return f"≈{(first.t - offset) * 1000:.1f}"
    return ""


def render_svg(
    events: Sequence[Event],
    started: float,
    records: Sequence[TraceRecord] = (),
    order: tuple[Sequence[str], int] | None = None,
) -> str:
    """The SVG document; an empty exchange still renders, saying so."""
    matched = order_matches(events, order[0]) if order is not None else {}
    steps = event_steps(events, matched) + trace_steps(records)
    rows = build_rows(steps)
    offsets = [e.ts - e.watch_ts / 1000 for e in events if e.watch_ts is not None]
    offset = sorted(offsets)[len(offsets) // 2] if offsets else None

    panel = _order_panel(events, order, matched) if order is not None else []
    panel_height = 120 if panel else 0
    gaps = sum(1 for r in rows if r.gap_before_ms)
    body_top = TOP + panel_height
    height = body_top + (len(rows) + gaps) * ROW + 40
    span = (max(s.t for s in steps) - started) * 1000 if steps else 0.0
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" font-family="DejaVu Sans Mono, monospace" '
        'font-size="11">',
        "<title>the test's exchange: phone, link and watch app</title>",
        f'<rect width="{WIDTH}" height="{height}" fill="#fff"/>',
        f'<text x="8" y="16" font-size="12" font-weight="bold">{len(events)} events, '
        f"{len(steps) - len(events)} link steps, {span:.1f} ms since the test began"
        "</text>",
        '<text x="8" y="34" fill="#555">+ms (host)</text>',
        '<text x="82" y="34" fill="#555">host clock</text>',
        '<text x="176" y="34" fill="#555">watch ms</text>',
    ]
    for lane, x in LANE_X.items():
        out.append(
            f'<text x="{x}" y="34" text-anchor="middle" font-weight="bold">'
            f"{_text(LANE_TITLES[lane])}</text>"
        )
        out.append(
            f'<line x1="{x}" y1="{body_top - 8}" x2="{x}" y2="{height - 20}" stroke="#ccc" '
            'stroke-dasharray="4 3"/>'
        )
    out.extend(f'<g transform="translate(0,{TOP - 20})">{part}</g>' for part in panel)
    y = body_top
    for row in rows:
        if row.gap_before_ms:
            out.append(
                f'<text x="8" y="{y + 13}" fill="#999">⋮ {row.gap_before_ms / 1000:.2f} s</text>'
            )
            out.append(
                f'<line x1="250" y1="{y + 10}" x2="{WIDTH - 10}" y2="{y + 10}" stroke="#eee" '
                'stroke-width="6"/>'
            )
            y += ROW
        out.append(_draw_row(row, y, started, offset))
        y += ROW
    if not steps:
        out.append(
            f'<text x="{LANE_X[LINK]}" y="{body_top + 14}" text-anchor="middle" '
            'fill="#777">(no events and no link traffic)</text>'
        )
    out.append("</svg>")
    return "\n".join(out)


def _draw_row(row: Row, y: int, started: float, offset: float | None) -> str:
    first = row.first
    host_ms, wall = _clock(first.t, started)
    seqs = [s for step in row.steps for s in step.seqs]
    label = _row_label(row)
    tip_lines = [label]
    if len(row.steps) > 1:
        last_ms, _ = _clock(row.steps[-1].t, started)
        tip_lines.append(f"from {host_ms} ms to {last_ms} ms")
        tip_lines.extend(_strip_ids(s.label) if not s.seqs else s.label for s in row.steps[:50])
        if len(row.steps) > 50:
            tip_lines.append(f"… and {len(row.steps) - 50} more")
    elif first.detail and first.detail != label:
        tip_lines.append(first.detail)
    attrs = f' class="step {first.key.split(":")[0]}"'
    if seqs:
        attrs += f' data-seqs="{",".join(map(str, seqs))}"'
    parts = [
        f"<g{attrs}><title>{_text(chr(10).join(tip_lines))}</title>",
        f'<text x="8" y="{y + 14}">{host_ms}</text>',
        f'<text x="82" y="{y + 14}" fill="#555">{wall}</text>',
        f'<text x="176" y="{y + 14}" fill="#555">{_watch_clock(row, offset)}</text>',
    ]
    colour = first.colour
    weight = ' font-weight="bold"' if len(row.steps) > 1 else ""
    if first.dst is None:
        x = LANE_X[first.src]
        parts.append(f'<circle cx="{x}" cy="{y + 10}" r="5" fill="{colour}"/>')
        room = (LANE_X[WATCH] - x - 20) if first.src == LINK else (WIDTH - x - 16)
        if first.matched is not None:
            parts.append(
                f'<text x="{x - 10}" y="{y + 14}" text-anchor="end" fill="#2e7d32" '
                f'font-weight="bold">✓{first.matched + 1}</text>'
            )
        parts.append(
            f'<text x="{x + 10}" y="{y + 14}" fill="{colour}"{weight}>'
            f"{_text(_fit(label, room))}</text>"
        )
    else:
        x1, x2 = LANE_X[first.src], LANE_X[first.dst]
        head = -7 if x2 > x1 else 7
        parts.append(
            f'<line x1="{x1}" y1="{y + 15}" x2="{x2}" y2="{y + 15}" stroke="{colour}" '
            f'stroke-width="{2 if len(row.steps) > 1 else 1.2}"/>'
        )
        parts.append(f'<path d="M{x2},{y + 15} l{head},-4 v8 z" fill="{colour}"/>')
        middle = (x1 + x2) / 2
        parts.append(
            f'<text x="{middle}" y="{y + 11}" text-anchor="middle" fill="{colour}"{weight}>'
            f"{_text(_fit(label, abs(x2 - x1) - 12))}</text>"
        )
    parts.append("</g>")
    return "".join(parts)


def _order_panel(
    events: Sequence[Event], order: tuple[Sequence[str], int] | None, matched: dict[int, int]
) -> list[str]:
    """Expected order (ticked as matched, the first missing crossed) above the actual kinds,
    each matched one joined to its expectation."""
    if order is None:
        return []
    expected, position = order
    parts = [
        '<text x="8" y="36" font-weight="bold" fill="#c62828">assert_order failed: '
        "expected (top) against actual (bottom)</text>",
        '<text x="8" y="62">expected</text>',
        '<text x="8" y="108">actual</text>',
    ]
    chip = 78
    x0 = 90
    shown = list(enumerate(events))[:13]
    actual_x: dict[int, float] = {}
    for n, (index, event) in enumerate(shown):
        x = x0 + n * chip
        actual_x[index] = x
        used = index in matched
        parts.append(
            f'<rect x="{x}" y="94" width="{chip - 8}" height="20" rx="4" '
            f'fill="{"#c8e6c9" if used else "#eeeeee"}" stroke="#999"/>'
            f'<text x="{x + 4}" y="108">{_text(f"#{event.seq} {event.kind}")}</text>'
        )
    if len(events) > len(shown):
        parts.append(
            f'<text x="{x0 + len(shown) * chip}" y="108">… {len(events) - len(shown)} more</text>'
        )
    for n, kind in enumerate(expected[:13]):
        x = x0 + n * chip
        if n < position:
            fill, mark = "#c8e6c9", "✓"
        elif n == position:
            fill, mark = "#ffcdd2", "✗"
        else:
            fill, mark = "#eeeeee", " "
        parts.append(
            f'<rect x="{x}" y="48" width="{chip - 8}" height="20" rx="4" fill="{fill}" '
            f'stroke="#999"/><text x="{x + 4}" y="62">{_text(f"{mark} {kind}")}</text>'
        )
    if position < len(expected):
        parts.append(
            f'<text x="{x0 + min(len(expected), 13) * chip}" y="62" fill="#c62828">'
            f"no {_text(expected[position])} after the matched ones</text>"
        )
    for index, place in matched.items():
        if index in actual_x and place < 13:
            xa = actual_x[index] + (chip - 8) / 2
            xe = x0 + place * chip + (chip - 8) / 2
            parts.append(
                f'<line x1="{xe}" y1="68" x2="{xa}" y2="94" stroke="#2e7d32" stroke-width="1.5"/>'
            )
    return parts
