"""A test's exchange as a sequence diagram (SVG), for the report: the rows of
``sequence_rows`` drawn on three lanes (phone, link, watch app).

The time of each row is written on the left, on the host clock (ms since the test began, and
the wall clock) with the watch's own clock beside it: measured where the watch stamped it (an
event, a result or hello carrying the watch's clock), ≈ estimated for the rest from the
offset between the two clocks (the event log's, else the trace's). Every event of the log is
in the picture: its row names its ``#seq`` (a collapsed row names the range and lists them in
``data-seqs``). A crash is a red line across the lanes at the time its marker line arrived.

The picture is as wide as what it holds (the watch lane's longest label, the order panel),
from ``MIN_WIDTH`` to ``MAX_WIDTH``, and as high as its rows, so that a short exchange is not
a few lines lost in a large white page.

After a failed ``EventLog.assert_order`` the expected order is drawn against the actual one:
the expected kinds, those matched ticked and the first missing one crossed, above the kinds
that actually came, those that matched joined to their place in the expectation.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from pytest_vela.link.trace import TraceRecord
from pytest_vela.peer.events import Event, time_of_day
from pytest_vela.report.sequence_rows import (
    LINK,
    PHONE,
    WATCH,
    Row,
    Step,
    WatchMark,
    build_rows,
    event_steps,
    mark_steps,
    order_matches,
    trace_steps,
)

LANE_X = {PHONE: 330, LINK: 560, WATCH: 790}
LANE_TITLES = {
    PHONE: "phone app (peer, harness)",
    LINK: "link (BLE bridge)",
    WATCH: "watch app (interconnect)",
}
MAX_WIDTH = 1180
MIN_WIDTH = 900
ROW = 20
TOP = 44  # the first row, below the title and the column heads
BOTTOM = 16
CHAR = 6.4  # px per character at font-size 11 (monospace-ish estimate)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")


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


def clock_offset(events: Sequence[Event], steps: Sequence[Step]) -> float | None:
    """Host seconds minus watch seconds: the event log's own mapping where it has events,
    else the median of what the trace's stamped messages say (one way, so a little late)."""
    mapped = [e.ts - e.watch_ts / 1000 for e in events if e.watch_ts is not None]
    samples = mapped or [s.t - s.watch_ms / 1000 for s in steps if s.watch_ms is not None]
    return sorted(samples)[len(samples) // 2] if samples else None


def _width(rows: Sequence[Row], order_chips: int) -> int:
    """Room for the watch lane's marks and the order panel, within the bounds."""
    needed = MIN_WIDTH
    for row in rows:
        first = row.first
        if first.dst is None and first.src == WATCH:
            needed = max(needed, int(LANE_X[WATCH] + 26 + len(_row_label(row)) * CHAR))
    if order_chips:
        needed = max(needed, 90 + order_chips * 78 + 260)
    return min(needed, MAX_WIDTH)


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
    marks: Sequence[WatchMark] = (),
    clock: float | None = None,
) -> str:
    """The SVG document; an empty exchange still renders, saying so. ``marks``: what the watch
    printed that belongs in the picture (its crashes' marker lines), with their host times;
    ``clock``: the bridge's own host-minus-watch offset, for an exchange that carries no watch
    time of its own (the column then still says each row's watch time, as an estimate)."""
    matched = order_matches(events, order[0]) if order is not None else {}
    steps = event_steps(events, matched) + trace_steps(records, events) + mark_steps(marks)
    rows = build_rows(steps)
    offset = clock_offset(events, steps)
    if offset is None:
        offset = clock

    panel = _order_panel(events, order, matched) if order is not None else []
    panel_height = 120 if panel else 0
    chips = min(13, max(len(events), len(order[0]))) if order is not None else 0
    width = _width(rows, chips)
    gaps = sum(1 for r in rows if r.gap_before_ms)
    body_top = TOP + panel_height
    height = body_top + (max(len(rows), 1) + gaps) * ROW + BOTTOM
    span = (max(s.t for s in steps) - started) * 1000 if steps else 0.0
    said = [f"{len(events)} events", f"{len(steps) - len(events) - len(marks)} link steps"]
    if marks:
        said.append(f"{len(marks)} crash{'es' if len(marks) > 1 else ''}")
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="DejaVu Sans Mono, monospace" '
        'font-size="11">',
        "<title>the test's exchange: phone, link and watch app</title>",
        f'<rect width="{width}" height="{height}" fill="#fff"/>',
        f'<text x="8" y="16" font-size="12" font-weight="bold">{", ".join(said)}, '
        f"{span:.1f} ms since the test began</text>",
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
            f'<line x1="{x}" y1="{body_top - 4}" x2="{x}" y2="{height - BOTTOM + 4}" '
            'stroke="#ccc" stroke-dasharray="4 3"/>'
        )
    out.extend(f'<g transform="translate(0,{TOP - 20})">{part}</g>' for part in panel)
    y = body_top
    for row in rows:
        if row.gap_before_ms:
            out.append(
                f'<text x="8" y="{y + 13}" fill="#999">⋮ {row.gap_before_ms / 1000:.2f} s</text>'
            )
            out.append(
                f'<line x1="250" y1="{y + 10}" x2="{width - 10}" y2="{y + 10}" stroke="#eee" '
                'stroke-width="6"/>'
            )
            y += ROW
        out.append(_draw_row(row, y, started, offset, width))
        y += ROW
    if not steps:
        out.append(
            f'<text x="{LANE_X[LINK]}" y="{body_top + 14}" text-anchor="middle" '
            'fill="#777">(no events and no link traffic)</text>'
        )
    out.append("</svg>")
    return "\n".join(out)


def _draw_row(row: Row, y: int, started: float, offset: float | None, width: int) -> str:
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
    if first.key == "crash":  # the whole watch: across the lanes
        parts.append(
            f'<line x1="{LANE_X[PHONE]}" y1="{y + 10}" x2="{LANE_X[WATCH]}" y2="{y + 10}" '
            f'stroke="{colour}" stroke-width="2" stroke-dasharray="6 3"/>'
        )
        weight = ' font-weight="bold"'
    if first.dst is None:
        x = LANE_X[first.src]
        parts.append(f'<circle cx="{x}" cy="{y + 10}" r="5" fill="{colour}"/>')
        room = (LANE_X[WATCH] - x - 20) if first.src == LINK else (width - x - 16)
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
