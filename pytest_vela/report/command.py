"""``pytest-vela report``: one HTML report from the results of one rig, several, or a farm.

    pytest-vela report [PATH ...] [-o DIR] [--single-file] [--max-failures N] [--serve]

Each PATH is a reports root (``reports/``, holding ``<rig>/allure-results``), a rig's results
directory, or a folder holding several roots (one per farm host); the default is ``reports``.
The report is built by Allure 3 (pinned, installed from npm on first use) with one environment
per rig, the rig / crash / product categories, and a trend kept in ``<root>/history.jsonl``
(one point per build); every third-party request is removed from its pages. The closing line
is the terminal's own ("N product failures, M watch crashes, K rig faults (rig: reason)"); with
``--max-failures`` / ``--max-rig-faults`` the exit code is the nightly job's quality gate.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import os
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from pytest_vela.report import allure3
from pytest_vela.report.allure3 import ReportError
from pytest_vela.report.scrub import scrub, third_party_requests
from pytest_vela.report.sources import ResultsDir, find_results, latest_results, outcome_of
from pytest_vela.report.summary import CRASH, PRODUCT, RIG, TEST, closing_line

MARKER = ".pytest-vela-report"  # in every output directory this command made (and may replace)
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
        help="where the report goes (default: <first root>/allure-report); replaced on each build",
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
        help="the trend's history, one line per build (default: <first root>/history.jsonl)",
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
        help="serve the report on 127.0.0.1 after building it and print its URL (Ctrl-C ends)",
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


def _root(paths: list[Path], dirs: list[ResultsDir]) -> Path:
    first = paths[0]
    if any(d.path.resolve() == first.resolve() for d in dirs):
        return first.parent.parent if first.name == "allure-results" else first.parent
    return first


def _stage(dirs: list[ResultsDir], staging: Path) -> list[Path]:
    """The results as Allure reads them: each directory's files (hard-)linked into a staging
    directory of its own, without its ``environment.properties`` (of several, Allure keeps
    the last, which would pass one rig's environment off as the farm's); one merged file
    holds what all the rigs share instead, and the rigs' own go to their environments."""
    staged = []
    for index, directory in enumerate(dirs):
        target = staging / f"{index:03d}-{directory.rig}"
        target.mkdir()
        for file in directory.path.iterdir():
            if file.is_file() and file.name != "environment.properties" and file.name[0] != ".":
                _link(file, target / file.name)
        staged.append(target)
    common: dict[str, set[str]] = {}
    for directory in dirs:
        for key, value in directory.environment.items():
            common.setdefault(key, set()).add(value)
    everywhere = [k for k in common if all(k in d.environment for d in dirs)]
    shared = {
        k: common[k].pop() for k in everywhere if len(common[k]) == 1 and not k.startswith("rig")
    }
    shared["rigs"] = ", ".join(sorted({d.rig for d in dirs}))
    hosts = sorted(common.get("host", set()))
    if len(hosts) > 1:
        shared["hosts"] = ", ".join(hosts)
    farm = staging / "zzz-farm"
    farm.mkdir()
    lines = [f"{k}={v}" for k, v in sorted(shared.items())]
    (farm / "environment.properties").write_text("\n".join(lines) + "\n", encoding="utf-8")
    staged.append(farm)
    return staged


def _link(source: Path, target: Path) -> None:
    """A hard link where the file system allows (Allure skips symbolic links), else a copy."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def _environments(dirs: list[ResultsDir]) -> dict[str, dict[str, str]]:
    found: dict[str, dict[str, str]] = {}
    for directory in dirs:
        env = found.setdefault(directory.rig, {})
        env.update({k: v for k, v in directory.environment.items() if k != "rig"})
    return found


def _replace(built: Path, output: Path) -> None:
    if output.exists():
        if not (output / MARKER).exists():
            raise ReportError(
                f"{output} exists and is not a report this command built: give another "
                "--output, or remove it"
            )
        shutil.rmtree(output)
    os.replace(built, output)


def build(args: argparse.Namespace, say: Any = print) -> tuple[Path, list[Any]]:
    """Build the report; returns its index page and each test's outcome."""
    paths: list[Path] = list(args.paths) or [Path("reports")]
    dirs = find_results(paths)
    if not dirs:
        raise ReportError(
            f"no Allure results under {', '.join(map(str, paths))}: run the tests first "
            "(pytest writes <reports>/<rig>/allure-results), or name their directories"
        )
    root = _root(paths, dirs)
    output: Path = args.output or root / "allure-report"
    history = None if args.no_history else (args.history or root / "history.jsonl")
    argv = allure3.command(args.allure, say=say)
    output.parent.mkdir(parents=True, exist_ok=True)
    if history is not None:
        history.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".vela-report-", dir=output.parent) as tmp:
        staging = Path(tmp).resolve()
        built = staging / "out"
        (staging / "results").mkdir()
        staged = _stage(dirs, staging / "results")
        config = staging / "allurerc.mjs"
        config.write_text(
            allure3.config(
                name=args.name,
                output=built.resolve(),
                history=history.resolve() if history is not None else None,
                environments=_environments(dirs),
                single_file=args.single_file,
            ),
            encoding="utf-8",
        )
        allure3.generate(argv, config, staged, cwd=staging)
        scrub(built)
        left = third_party_requests(built)
        if left:
            raise ReportError("the report would still load from elsewhere: " + "; ".join(left))
        (built / MARKER).write_text("built by pytest-vela report\n")
        _replace(built, output)
    outcomes = [outcome_of(result, directory.rig) for directory, result in latest_results(dirs)]
    return output / "index.html", outcomes


def run(args: argparse.Namespace) -> int:
    started = time.monotonic()
    try:
        index, outcomes = build(args)
    except ReportError as exc:
        print(f"pytest-vela report: {exc}", file=sys.stderr)
        return BUILD_FAILED
    took = time.monotonic() - started
    per_rig = Counter(o.rig for o in outcomes)
    rigs = ", ".join(f"{rig} ({n})" for rig, n in sorted(per_rig.items()))
    print(f"report: {index} — {len(outcomes)} tests on {rigs}; built in {took:.1f} s")
    print(closing_line(outcomes))
    status = _gate(args, outcomes)
    if args.serve:
        serve(index.parent, args.port)
    return status


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


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def make_server(directory: Path, port: int = 0) -> http.server.ThreadingHTTPServer:
    """An http server for the report on 127.0.0.1 only."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    return http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)


def serve(directory: Path, port: int = 0) -> None:
    server = make_server(directory, port)
    print(f"serving the report at http://127.0.0.1:{server.server_address[1]}/ (Ctrl-C ends)")
    sys.stdout.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
