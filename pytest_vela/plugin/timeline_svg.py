"""A picture of a test's event timeline, for the report: one lane per event kind, one mark per
event, at its time since the test began."""

from __future__ import annotations

from html import escape

from pytest_vela.peer.events import KINDS, Event

COLOURS = {"open": "#2e7d32", "message": "#1565c0", "close": "#6d4c41", "error": "#c62828"}
LANE = 34
LEFT = 80
WIDTH = 760


def render_svg(events: list[Event], started: float) -> str:
    """An SVG document; an empty timeline still renders, saying so."""
    height = LANE * len(KINDS) + 50
    span = max([e.ts - started for e in events] + [0.001])
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{LEFT + WIDTH + 20}" height="{height}" '
        'font-family="sans-serif" font-size="12">',
        f'<text x="{LEFT}" y="16">events since the test began (0 – {span * 1000:.1f} ms)</text>',
    ]
    for lane, kind in enumerate(KINDS):
        y = 30 + lane * LANE + LANE // 2
        parts.append(f'<text x="8" y="{y + 4}">{kind}</text>')
        parts.append(f'<line x1="{LEFT}" y1="{y}" x2="{LEFT + WIDTH}" y2="{y}" stroke="#ddd"/>')
    for event in events:
        if event.kind not in COLOURS:
            continue
        x = LEFT + WIDTH * max(0.0, event.ts - started) / span
        y = 30 + KINDS.index(event.kind) * LANE + LANE // 2
        label = f"#{event.seq} {event.kind}"
        if event.code is not None:
            label += f" {event.code}"
        if event.is_reconnected is not None:
            label += " reconnected" if event.is_reconnected else " first"
        tip = escape(
            f"{label} at +{(event.ts - started) * 1000:.1f} ms"
            + (f": {event.data}" if event.data else "")
        )
        parts.append(
            f'<circle cx="{x:.1f}" cy="{y}" r="6" fill="{COLOURS[event.kind]}">'
            f"<title>{tip}</title></circle>"
        )
        parts.append(f'<text x="{x + 8:.1f}" y="{y - 8}" font-size="10">{escape(label)}</text>')
    if not events:
        parts.append(f'<text x="{LEFT}" y="{height - 8}">(no events)</text>')
    parts.append("</svg>")
    return "\n".join(parts)
