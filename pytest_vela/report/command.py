"""``pytest-vela report``: one HTML report from the results of one rig, several, or a farm.

    pytest-vela report [PATH ...] [-o DIR] [--single-file] [--max-failures N] [--serve]

Each PATH is a reports root (``reports/``, holding ``<rig>/allure-results``), a rig's results
directory, or a folder holding several roots (one per farm host); the default is ``reports``.
The report is built by Allure 3 (pinned, installed from npm on first use) with one environment
per rig, the rig / crash / product categories, and a trend kept in ``<root>/history.jsonl``
(one point per run: building one run's report again, as a single file or to serve it, adds
none; see ``history``); every third-party request is removed from its pages. ``--serve``
serves the report already built from the same results as they are now, and builds it only
when there is none or the results changed. The closing line
is the terminal's own ("N product failures, M watch crashes, K rig faults (rig: reason)"); with
``--max-failures`` / ``--max-rig-faults`` the exit code is the nightly job's quality gate.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from pytest_vela.report import allure3, history
from pytest_vela.report.allure3 import ReportError
from pytest_vela.report.build import (
    DIRECTORY_OUTPUT,
    METRICS_PAGE,
    SINGLE_FILE_OUTPUT,
    Built,
    build,
    target,
)
from pytest_vela.report.serving import serve
from pytest_vela.report.sources import latest_results, outcome_of
from pytest_vela.report.summary import CRASH, PRODUCT, RIG, TEST, closing_line, plural

GATE_FAILED = 1
BUILD_FAILED = 2


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "report",
        help="build one Allure report (HTML) from the results of one or many rigs",
        description="Build one Allure 3 report (HTML) from the results of one rig, several, "
        "or a farm's hosts: a parent suite and an environment per rig, the rig / crash / "
        "product categories, a trend, no third-party requests.",
    )
    parser.add_argument(
        "paths",
        nargs="*",
        type=Path,
        metavar="PATH",
        help="reports roots (holding <rig>/allure-results), results directories, or folders "
        "holding several roots, e.g. one per farm host (default: reports)",
    )
    parser.add_argument(
        "-o",
        "--output",
        type=Path,
        metavar="DIR",
        help=f"where the report goes (default: <first root>/{DIRECTORY_OUTPUT}, with "
        f"--single-file <first root>/{SINGLE_FILE_OUTPUT}); replaced on each build",
    )
    parser.add_argument(
        "--name", default="pytest-vela", help="the report's title (default: pytest-vela)"
    )
    parser.add_argument(
        "--single-file",
        action="store_true",
        help="one self-contained index.html (opens from file:// too) instead of a directory "
        "that must be served over http",
    )
    parser.add_argument(
        "--history",
        type=Path,
        metavar="FILE",
        help="the trend's history, one point per run (default: <first root>/history.jsonl)",
    )
    parser.add_argument(
        "--no-history", action="store_true", help="neither read nor extend the history"
    )
    parser.add_argument(
        "--max-failures",
        type=int,
        metavar="N",
        help="quality gate: exit 1 when more than N tests failed as product failures, watch "
        "crashes or test errors",
    )
    parser.add_argument(
        "--max-rig-faults",
        type=int,
        metavar="N",
        help="quality gate: exit 1 when more than N tests broke on rig faults",
    )
    parser.add_argument(
        "--serve",
        action="store_true",
        help="serve the report on 127.0.0.1 and print its URL (Ctrl-C ends); a report already "
        "built from the same results, unchanged since, is served without rebuilding it",
    )
    parser.add_argument(
        "--port", type=int, default=0, help="port for --serve (default: any free port)"
    )
    parser.add_argument(
        "--allure",
        metavar="CMD",
        help=f"an Allure 3 command to use instead of the pinned allure {allure3.VERSION} "
        "(also VELA_ALLURE)",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    started = time.monotonic()
    try:
        found = target(args)
        reuse = args.serve and found.is_current()
        built = None if reuse else build(found, args)
    except ReportError as exc:
        print(f"pytest-vela report: {exc}", file=sys.stderr)
        return BUILD_FAILED
    outcomes = [outcome_of(result, d.rig) for d, result in latest_results(found.dirs)]
    per_rig = Counter(o.rig for o in outcomes)
    rigs = ", ".join(f"{rig} ({n})" for rig, n in sorted(per_rig.items()))
    if built is None:
        stamp = found.built_stamp() or {}
        when = time.strftime("%H:%M:%S", time.localtime(float(stamp.get("built", 0))))
        how = f"built at {when}, the results unchanged since: not rebuilt"
    else:
        how = f"built in {time.monotonic() - started:.1f} s"
    print(f"report: {found.index} — {len(outcomes)} tests on {rigs}; {how}")
    if not found.single_file and not args.serve:
        print(
            "  (a directory report loads its data over http: opened from file:// it shows a "
            "spinner for ever; open it with --serve, or build it with --single-file)"
        )
    if built is not None and built.trend is not None:
        print(_trend_line(built.trend))
    if built is not None:
        _say_metrics(built)
    elif (found.output / METRICS_PAGE).is_file():
        print(f"metrics: {found.output / METRICS_PAGE}")
    print(closing_line(outcomes))
    status = _gate(args, outcomes)
    if args.serve:
        serve(found.output, args.port)
    return status


def _say_metrics(built: Built) -> None:
    measured = built.metrics
    page = built.metrics_page
    for skipped in measured.skipped:
        print(f"metrics: {skipped}")
    if page is None:
        print("metrics: none recorded in these runs")
        return
    names = sorted({name for _, name in measured.names})
    rigs = sorted({rig for rig, _ in measured.names})
    print(
        f"metrics: {page} — {plural(len(names), 'metric')} ({', '.join(names)}) on "
        f"{', '.join(rigs)}, {plural(len({p.run for p in measured.points}), 'run')}"
    )


def _trend_line(trend: history.HistoryPlan) -> str:
    where = trend.history
    points = plural(history.point_count(where), "point")
    if trend.extends:
        runs = ", ".join(r.run[:8] for r in trend.new)
        return f"trend: {where}, {points}: one added for run {runs}"
    runs = ", ".join(r.run[:8] for r in trend.runs)
    return f"trend: {where}, {points}: none added, run {runs} has its point there already"


def _gate(args: argparse.Namespace, outcomes: list[Any]) -> int:
    counts = Counter(o.kind for o in outcomes)
    failures = counts[PRODUCT] + counts[CRASH] + counts[TEST]
    status = 0
    if args.max_failures is not None:
        verdict = "passed" if failures <= args.max_failures else "FAILED"
        print(
            f"quality gate {verdict}: {failures} failed (product, crash, test), "
            f"at most {args.max_failures} allowed"
        )
        status = status or (GATE_FAILED if failures > args.max_failures else 0)
    if args.max_rig_faults is not None:
        verdict = "passed" if counts[RIG] <= args.max_rig_faults else "FAILED"
        print(
            f"quality gate {verdict}: {counts[RIG]} rig faults, "
            f"at most {args.max_rig_faults} allowed"
        )
        status = status or (GATE_FAILED if counts[RIG] > args.max_rig_faults else 0)
    return status
