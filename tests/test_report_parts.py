"""The report's parts on their own: one classification everywhere, the scrubber, the results
finder, the command line and the reference ``pytest --fixtures`` prints."""

from __future__ import annotations

import argparse
import base64
import builtins
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from pytest_vela import cli, errors
from pytest_vela.report.categories import (
    LABEL,
    allure2_categories,
    allure3_categories,
    classify,
)
from pytest_vela.report.command import run as run_report
from pytest_vela.report.scrub import scrub, scrub_html, third_party_requests
from pytest_vela.report.sources import category_of, find_results, outcome_of
from pytest_vela.report.summary import Outcome, closing_line

MESSAGES = [
    (
        "broken",
        "pytest_vela.errors.RigDown: watch01 down: SerialLost: cannot open",
        "Rig infrastructure",
        "rig",
    ),
    (
        "broken",
        "pytest_vela.errors.WatchHung: the watch did not return",
        "Rig infrastructure",
        "rig",
    ),
    ("broken", "pytest_vela.errors.LoopTimeout: waited", "Rig infrastructure", "rig"),
    (
        "failed",
        "pytest_vela.errors.WatchCrashed: the watch crashed during",
        "Watch crashed",
        "crash",
    ),
    ("failed", "AssertionError: expected events in order", "Product failures", "product"),
    ("failed", "pytest_vela.errors.ExpectTimeout: expected 'x'", "Product failures", "product"),
    ("broken", "RuntimeError: the test mentions SerialLost in passing", "Test errors", "test"),
]


@pytest.mark.parametrize(("status", "message", "category", "key"), MESSAGES)
def test_one_classification_for_allure_2_allure_3_and_the_terminal(
    status: str, message: str, category: str, key: str
) -> None:
    error_type = message.split(":", 1)[0].rsplit(".", 1)[-1]
    error = getattr(errors, error_type, None) or getattr(builtins, error_type)
    raised = error.__new__(error)  # as raised: only its class decides
    assert classify(raised).key == key  # as the plugin decides, where the error is raised
    labelled = {"status": status, "labels": [{"name": LABEL, "value": key}]}
    assert category_of(labelled) == category  # as the report command counts
    allure3 = next(  # Allure 3 files a result by its label
        c["name"]
        for c in allure3_categories()
        if status in c["matchers"]["statuses"] and re.search(c["matchers"]["labels"][LABEL], key)
    )
    assert allure3 == category
    allure2 = next(  # Allure 2: the whole message must match
        c["name"]
        for c in allure2_categories()
        if status in c["matchedStatuses"]
        and re.fullmatch(c.get("messageRegex", ".*"), message, re.S)
    )
    assert allure2 == category
    unlabelled = {"status": status, "statusDetails": {"message": message}, "labels": []}
    assert category_of(unlabelled) == category  # a result without the label: Allure 2's rule


def test_the_closing_line_names_each_rigs_faults() -> None:
    line = closing_line(
        [
            Outcome("sim", "product"),
            Outcome("sim", "rig", "WatchHung"),
            Outcome("watch01", "rig", "down: SerialLost"),
            Outcome("watch01", "rig", "down: SerialLost"),
            Outcome("sim", "crash"),
            Outcome("sim", "crash"),
            Outcome("sim", "passed"),
        ]
    )
    assert line == (
        "1 product failure, 2 watch crashes, 3 rig faults "
        "(sim: WatchHung; watch01: down: SerialLost ×2)"
    )
    assert closing_line([Outcome("sim", "test")]).endswith(", 1 error in the tests themselves")
    down = {"status": "broken", "statusDetails": {"message": MESSAGES[0][1]}}
    assert outcome_of(down, "watch01") == Outcome("watch01", "rig", "down: SerialLost")


ANALYTICS = """<html><head><script>window.allure = {};</script></head><body>
<script src="app-1.js"></script>
<script async src="https://www.googletagmanager.com/gtag/js?id=G-X"></script>
<script>
  window.dataLayer = window.dataLayer || [];
  function gtag(){dataLayer.push(arguments);}
  gtag('js', new Date());
</script>
</body></html>"""


def test_the_scrubber_removes_the_analytics_and_keeps_the_report(tmp_path: Path) -> None:
    bundle = base64.b64encode(b'const t="https://trace.playwright.dev";').decode()
    page = ANALYTICS.replace(
        '<script src="app-1.js">', f'<script src="data:text/javascript;base64,{bundle}">'
    )
    (tmp_path / "index.html").write_text(page)
    (tmp_path / "app-1.js").write_text('const x="https://trace.playwright.dev/";')
    assert third_party_requests(tmp_path)  # found before
    scrub(tmp_path)
    clean = (tmp_path / "index.html").read_text()
    assert "googletagmanager" not in clean and "gtag(" not in clean
    assert "window.allure = {};" in clean and "data:text/javascript;base64," in clean
    assert third_party_requests(tmp_path) == []
    assert "about:blank" in (tmp_path / "app-1.js").read_text()


def test_third_party_loads_are_found() -> None:
    assert scrub_html('<img src="https://cdn.example/x.png">') == (
        '<img src="https://cdn.example/x.png">'
    )  # not the scrubber's to guess: reported instead


def _results_dir(path: Path, rig: str, n: int = 1) -> Path:
    path.mkdir(parents=True)
    (path / "vela-rig.json").write_text(json.dumps({"rig": rig, "environment": {"rig": rig}}))
    for i in range(n):
        result = {"uuid": f"{rig}-{i}", "historyId": f"{rig}-{i}", "status": "passed"}
        (path / f"{rig}-{i}-result.json").write_text(json.dumps(result))
    return path


def test_results_are_found_in_roots_farms_and_results_directories(tmp_path: Path) -> None:
    _results_dir(tmp_path / "host-a" / "reports" / "watch01" / "allure-results", "watch01")
    _results_dir(tmp_path / "host-b" / "reports" / "watch02" / "allure-results", "watch02")
    single = _results_dir(tmp_path / "elsewhere", "sim")
    found = find_results([tmp_path / "host-a" / "reports", tmp_path / "host-b", single])
    assert sorted(d.rig for d in found) == ["sim", "watch01", "watch02"]
    assert find_results([tmp_path / "host-a", tmp_path / "host-a" / "reports"])[0].rig == "watch01"
    assert len(find_results([tmp_path / "host-a", tmp_path / "host-a" / "reports"])) == 1


def _args(*argv: str) -> argparse.Namespace:
    return cli.build_parser().parse_args(["report", *argv])


def test_no_results_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_report(_args(str(tmp_path / "none"))) == 2
    assert "no Allure results under" in capsys.readouterr().err


def test_without_node_the_report_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _results_dir(tmp_path / "reports" / "sim" / "allure-results", "sim")
    monkeypatch.delenv("VELA_ALLURE", raising=False)
    monkeypatch.setattr("pytest_vela.report.allure3.shutil.which", lambda _name: None)
    assert run_report(_args(str(tmp_path / "reports"))) == 2
    err = capsys.readouterr().err
    assert "needs Node.js" in err and "apt-get install nodejs npm" in err and "--allure" in err


def test_every_option_of_every_command_has_help() -> None:
    parser = cli.build_parser()
    pending = [parser]
    seen = 0
    while pending:
        current = pending.pop()
        for action in current._actions:
            if isinstance(action, argparse._SubParsersAction):
                pending.extend(action.choices.values())
                continue
            if isinstance(action, argparse._HelpAction):
                continue
            seen += 1
            assert action.help, f"{current.prog}: {action.option_strings or action.dest}"
    assert seen > 20


def test_the_command_says_its_version() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pytest_vela.cli", "--version"], capture_output=True, text=True
    )
    assert done.returncode == 0 and re.fullmatch(r"pytest-vela \d+\.\d+\.\d+\S*\n", done.stdout)


def test_pytest_fixtures_is_the_reference_with_units(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_x():\n    pass\n")
    out = pytester.runpytest_subprocess("--fixtures", "-p", "no:cacheprovider").stdout.str()
    flat = " ".join(out.replace("``", "").split())
    assert ".diagnosis(timeout=10000) — **milliseconds**" in flat
    assert ".send(data, timeout=None) — **seconds**" in flat
    assert (
        ".expect_message(timeout=10.0) (s) → the next message the watch app sent, **parsed**"
        in flat
    )
    assert ".data is the string the app received" in flat
    assert ".shell(cmd, timeout=None)" in flat and ".set_latency(ms)" in flat
    assert "_vela_test_on_rig" not in out  # internal: pytest --fixtures hides it without -v


def test_a_node_too_old_for_the_pinned_allure_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _results_dir(tmp_path / "reports" / "sim" / "allure-results", "sim")
    tools = tmp_path / "bin"
    tools.mkdir()
    for name, says in (("node", "v18.20.4"), ("npm", "9.2.0")):  # Debian 12's
        (tools / name).write_text(f"#!/bin/sh\necho {says}\n")
        (tools / name).chmod(0o755)
    monkeypatch.delenv("VELA_ALLURE", raising=False)
    monkeypatch.setenv("PATH", f"{tools}:/usr/bin:/bin")
    assert run_report(_args(str(tmp_path / "reports"))) == 2
    err = capsys.readouterr().err
    assert "Node.js 20.19 or later" in err and "is v18.20.4" in err and "nodejs.org" in err
