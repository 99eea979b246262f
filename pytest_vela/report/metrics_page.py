"""The metrics page of a report (``metrics.html``): each metric's trend across runs, per rig,
beside the pass/fail counts of the same runs.

One self-contained page — inline SVG and CSS, no script, nothing loaded from anywhere — so it
opens from ``file://`` as well as over http, beside either form of the report. Each chart
holds a run per column: the metric's median as a dot on a line, its min–max as a bar, and
under it the rig's passed / failed / broken / skipped tests of that run; every mark's tooltip
gives the run, its time and the numbers. A table first lists each metric's latest median and
its change from the run before.
"""

from __future__ import annotations

import html
import time
from collections.abc import Sequence

from pytest_vela.report.history import RunSummary
from pytest_vela.report.metrics import Point

MAX_RUNS = 60  # the latest runs drawn per chart
LEFT, RIGHT = 78, 16
COLUMN, PLOT = 26, 360  # px per run at least; the plot's least width
LABEL = 80  # px a run's date label needs
TREND_TOP, TREND_HEIGHT = 14, 150
BARS_TOP, BARS_HEIGHT = 186, 56
HEIGHT = 282
STATUS_COLOURS = {
    "passed": "#97cc64",
    "failed": "#fd5a3e",
    "broken": "#ffd050",
    "skipped": "#aaaaaa",
}
STYLE = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #222; }
h1 { font-size: 20px; } h2 { font-size: 16px; margin: 28px 0 4px; }
table { border-collapse: collapse; } td, th { padding: 3px 10px; border-bottom: 1px solid #eee; }
th { text-align: left; } td.n { text-align: right; font-variant-numeric: tabular-nums; }
.note { color: #666; }
svg text { fill: #444; }
.key { display: inline-block; width: 10px; height: 10px; margin: 0 3px 0 8px; }
"""


def _fmt(value: float) -> str:
    return f"{value:.4g}"


def _when(ts: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(ts)) if ts else "?"


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _series(points: Sequence[Point]) -> dict[tuple[str, str], dict[str, Point]]:
    """(rig, metric) → run → point."""
    found: dict[tuple[str, str], dict[str, Point]] = {}
    for point in points:
        found.setdefault((point.rig, point.name), {})[point.run] = point
    return dict(sorted(found.items()))


def _columns(rig: str, by_run: dict[str, Point], runs: Sequence[RunSummary]) -> list[RunSummary]:
    """The runs a chart draws: those the rig took part in or the metric has a value for."""
    known = {r.run for r in runs}
    shown = [r for r in runs if rig in r.rigs or r.run in by_run]
    shown += [RunSummary(p.run, p.ts) for p in by_run.values() if p.run not in known]
    return sorted(shown, key=lambda r: r.ts)[-MAX_RUNS:]


def _chart(rig: str, by_run: dict[str, Point], columns: Sequence[RunSummary]) -> str:
    step = max(COLUMN, PLOT / max(len(columns), 1))
    width = round(LEFT + RIGHT + step * max(len(columns), 1))
    every = max(1, -(-LABEL // int(step)))  # a date label every so many columns
    values = [
        v for p in by_run.values() if p.run in {c.run for c in columns} for v in (p.min, p.max)
    ]
    low, high = (min(values), max(values)) if values else (0.0, 1.0)
    pad = (high - low) * 0.08 or abs(high) * 0.1 or 1.0
    low, high = low - pad, high + pad
    unit = next(iter(by_run.values())).unit if by_run else ""

    def y(value: float) -> float:
        return TREND_TOP + TREND_HEIGHT * (high - value) / (high - low)

    def x(index: int) -> float:
        return LEFT + step * (index + 0.5)

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{HEIGHT}" '
        f'viewBox="0 0 {width} {HEIGHT}" role="img" font-family="sans-serif" font-size="11">',
        f'<rect x="{LEFT}" y="{TREND_TOP}" width="{width - LEFT - RIGHT}" '
        f'height="{TREND_HEIGHT}" fill="#fafafa" stroke="#ddd"/>',
    ]
    for value in (high - pad, (high + low) / 2, low + pad):
        out.append(
            f'<text x="{LEFT - 6}" y="{y(value) + 4:.1f}" text-anchor="end">'
            f"{_e(_fmt(value))} {_e(unit)}</text>"
            f'<line x1="{LEFT}" y1="{y(value):.1f}" x2="{width - RIGHT}" y2="{y(value):.1f}" '
            'stroke="#eee"/>'
        )
    line: list[str] = []
    segments: list[list[str]] = [line]
    for index, column in enumerate(columns):
        point = by_run.get(column.run)
        if point is None:
            line = []
            segments.append(line)
            continue
        line.append(f"{x(index):.1f},{y(point.median):.1f}")
    for segment in segments:
        if len(segment) > 1:
            out.append(
                f'<polyline points="{" ".join(segment)}" fill="none" stroke="#1565c0" '
                'stroke-width="1.5"/>'
            )
    tallest = max((sum(c.rigs.get(rig, {}).values()) for c in columns), default=0) or 1
    for index, column in enumerate(columns):
        point = by_run.get(column.run)
        counts = column.rigs.get(rig, {})
        said = f"run {column.run[:8]} · {_when(column.ts)}"
        if point is not None:
            tip = (
                f"{said}\n{point.name}: median {_fmt(point.median)} {point.unit}, "
                f"min {_fmt(point.min)}, max {_fmt(point.max)}, {point.count} value(s)"
            )
            out.append(
                f'<g class="point" data-run="{_e(column.run)}"><title>{_e(tip)}</title>'
                f'<line x1="{x(index):.1f}" y1="{y(point.max):.1f}" x2="{x(index):.1f}" '
                f'y2="{y(point.min):.1f}" stroke="#90caf9" stroke-width="6" '
                'stroke-linecap="round"/>'
                f'<circle cx="{x(index):.1f}" cy="{y(point.median):.1f}" r="3.5" '
                'fill="#1565c0"/></g>'
            )
        out.append(_bar(x(index), min(step, 2 * COLUMN), counts, tallest, said))
        if (len(columns) - 1 - index) % every == 0:  # the latest run always named
            out.append(
                f'<text x="{x(index):.1f}" y="{BARS_TOP + BARS_HEIGHT + 16}" '
                f'text-anchor="middle">{_e(_when(column.ts)[5:])}</text>'
            )
    out.append(
        f'<text x="{LEFT - 6}" y="{BARS_TOP + BARS_HEIGHT / 2 + 4}" text-anchor="end">'
        "tests</text></svg>"
    )
    return "".join(out)


def _bar(x: float, room: float, counts: dict[str, int], tallest: int, said: str) -> str:
    tip = (
        said
        + "\n"
        + (", ".join(f"{counts.get(s, 0)} {s}" for s in STATUS_COLOURS) if counts else "no tests")
    )
    parts = [f'<g class="tests"><title>{_e(tip)}</title>']
    bottom = float(BARS_TOP + BARS_HEIGHT)
    for status, colour in STATUS_COLOURS.items():
        n = counts.get(status, 0)
        if not n:
            continue
        height = BARS_HEIGHT * n / tallest
        bottom -= height
        parts.append(
            f'<rect x="{x - room * 0.35:.1f}" y="{bottom:.1f}" width="{room * 0.7:.1f}" '
            f'height="{height:.1f}" fill="{colour}"/>'
        )
    parts.append("</g>")
    return "".join(parts)


def _summary(series: dict[tuple[str, str], dict[str, Point]]) -> str:
    rows = [
        "<table><tr><th>metric</th><th>rig</th><th>runs</th><th>latest median</th>"
        "<th>the run before</th><th>change</th></tr>"
    ]
    for (rig, name), by_run in series.items():
        ordered = sorted(by_run.values(), key=lambda p: p.ts)
        last = ordered[-1]
        before = ordered[-2] if len(ordered) > 1 else None
        change = ""
        if before is not None and before.median:
            change = f"{(last.median - before.median) / abs(before.median) * 100:+.1f} %"
        rows.append(
            f'<tr><td><a href="#{_e(_anchor(rig, name))}">{_e(name)}</a></td><td>{_e(rig)}</td>'
            f'<td class="n">{len(ordered)}</td>'
            f'<td class="n">{_e(_fmt(last.median))} {_e(last.unit)}</td>'
            f'<td class="n">{_e(_fmt(before.median)) if before else "—"}</td>'
            f'<td class="n">{change or "—"}</td></tr>'
        )
    rows.append("</table>")
    return "".join(rows)


def _anchor(rig: str, name: str) -> str:
    return f"m-{rig}-{name}".replace(" ", "_")


def render_page(title: str, runs: Sequence[RunSummary], points: Sequence[Point]) -> str:
    """The page's HTML."""
    series = _series(points)
    ordered = sorted(runs, key=lambda r: r.ts)
    head = (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{_e(title)} — metrics</title><style>{STYLE}</style></head><body>"
        f"<h1>{_e(title)} — metrics across runs</h1>"
    )
    if not series:
        return head + '<p class="note">No metrics were recorded in these runs.</p></body></html>'
    span = f"{_when(ordered[0].ts)} to {_when(ordered[-1].ts)}" if ordered else ""
    parts = [
        head,
        f'<p class="note">{len(ordered)} runs, {_e(span)}. Each chart: a run per column, the '
        "metric's median (dot) and its min–max (bar) above the rig's tests of that run:"
        + "".join(
            f'<span class="key" style="background:{colour}"></span>{status}'
            for status, colour in STATUS_COLOURS.items()
        )
        + f"; hover for the numbers. The latest {MAX_RUNS} runs are drawn.</p>",
        _summary(series),
    ]
    for (rig, name), by_run in series.items():
        columns = _columns(rig, by_run, ordered)
        units = sorted({p.unit for p in by_run.values() if p.unit})
        parts.append(
            f'<h2 id="{_e(_anchor(rig, name))}">{_e(name)}'
            f"{' (' + _e(' / '.join(units)) + ')' if units else ''} on {_e(rig)}</h2>"
        )
        parts.append(_chart(rig, by_run, columns))
    parts.append("</body></html>")
    return "\n".join(parts)
