"""The morning review, end to end: the main job, then a night with a crash, a rig fault, a rig
that never came up and an order failure; the terminal, what allure-pytest wrote, and the one
report ``pytest-vela report`` builds from it all — in a browser too.

Two pytest runs and two report builds serve every test of this module (module scope).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pytest_vela.report.scrub import third_party_requests
from pytest_vela.report.serving import make_server
from tests.support.browser import open_page
from tests.support.morning_review import Night, run_night
from tests.support.report_results import report as run_report

CLOSING = re.compile(r"^\d+ product failures?, \d+ watch crash(es)?, \d+ rig faults?.*$", re.M)


@pytest.fixture(scope="module")
def night(tmp_path_factory: pytest.TempPathFactory) -> Night:
    return run_night(tmp_path_factory.mktemp("farm"))


def _results(reports: Path, rig: str) -> dict[str, dict[str, Any]]:
    found = {}
    for path in (reports / rig / "allure-results").glob("*-result.json"):
        result = json.loads(path.read_text())
        found[result["name"]] = result
    return found


def _labels(result: dict[str, Any]) -> dict[str, str]:
    return {item["name"]: item["value"] for item in result["labels"]}


def _attachment(reports: Path, rig: str, result: dict[str, Any], name: str) -> str:
    sources = [str(a["source"]) for a in result.get("attachments", []) if a["name"] == name]
    assert sources, f"no {name!r} attachment: {[a['name'] for a in result['attachments']]}"
    return (reports / rig / "allure-results" / sources[0]).read_text()


def _steps(result: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    pending = list(result.get("steps", []))
    while pending:
        step = pending.pop(0)
        found.append(step)
        pending[:0] = step.get("steps", [])
    return found


# --- the terminal ------------------------------------------------------------------------------


def test_the_main_job_passes_and_says_so(night: Night) -> None:
    assert night.main_job.returncode == 0, night.main_job.stdout[-3000:]
    assert "0 product failures, 0 watch crashes, 0 rig faults" in night.main_job.stdout
    assert "rig sim: sim, simulated watch" in night.main_job.stdout  # the header


def test_the_header_names_each_rig_and_where_its_reports_go(night: Night) -> None:
    out = night.night.stdout
    assert re.search(r"rig sim: sim, .*results reports/sim/allure-results", out)
    assert re.search(r"rig watch01: hardware, serial /dev/serial/by-id/usb-no-such-watch", out)


def test_a_rig_that_cannot_start_is_said_once_and_each_test_gets_one_line(night: Night) -> None:
    out = night.night.stdout
    assert out.count("watch01 down: SerialLost: cannot open serial port") >= 1
    assert out.count("is the watch plugged in") == 1  # the whole story, once
    setup_errors = re.findall(r"ERROR at setup of (test_\w+)\[watch01\]", out)
    assert sorted(setup_errors) == ["test_crash", "test_fine", "test_hang", "test_link_loss_order"]
    for block in out.split("ERROR at setup of ")[1:5]:
        body = block.split("\n_", 1)[0]
        assert body.count("\nE   ") == 1, body  # one line, no traceback
        assert "Traceback" not in body and "pytest_vela/" not in body


def test_rig_faults_lose_the_plugins_frames(night: Night) -> None:
    out = night.night.stdout
    hang = out.split("test_hang[sim] ___", 1)[1].split("\n___", 1)[0]
    assert "WatchHung" in hang
    assert "pytest_vela/device" not in hang and "pytest_vela/console" not in hang
    assert 'watch.shell("ls")' in hang  # the test's own line stays


def test_each_failure_shows_short_evidence(night: Night) -> None:
    out = night.night.stdout
    loss = out.split("test_link_loss_order[sim] ___", 1)[1].split("\n___", 1)[0]
    assert re.search(r"-+ sim console .*agent protocol lines left out", loss)
    assert "# test start: test_link_loss_order[sim] in test_night.py" in loss
    assert "VELA-AGENT" not in loss.split("sim console", 1)[1]
    assert "sim link trace" in loss and "tx →" in loss
    assert "console log: " in loss


def test_the_closing_line_counts_each_kind_of_failure(night: Night) -> None:
    lines = CLOSING.findall(night.night.stdout) and [
        m.group(0) for m in CLOSING.finditer(night.night.stdout)
    ]
    assert lines == [
        "1 product failure, 1 watch crash, 5 rig faults "
        "(sim: WatchHung; watch01: down: SerialLost ×4)"
    ]


# --- what allure-pytest wrote --------------------------------------------------------------------


def test_every_result_carries_its_rig_three_ways(night: Night) -> None:
    for rig in ("sim", "watch01"):
        results = _results(night.reports, rig)
        assert len(results) == 4, rig
        for result in results.values():
            labels = _labels(result)
            assert labels["rig"] == rig and labels["parentSuite"] == rig
            assert {"name": "rig", "value": repr(rig)} in result["parameters"]


def test_statuses_and_messages_sort_into_the_categories(night: Night) -> None:
    sim = _results(night.reports, "sim")
    assert sim["test_link_loss_order[sim]"]["status"] == "failed"
    crash = sim["test_crash[sim]"]
    assert crash["status"] == "failed"
    assert crash["statusDetails"]["message"].startswith("pytest_vela.errors.WatchCrashed")
    assert sim["test_hang[sim]"]["status"] == "broken"
    assert sim["test_fine[sim]"]["status"] == "passed"
    for result in _results(night.reports, "watch01").values():
        assert result["status"] == "broken"
        message = result["statusDetails"]["message"]
        assert message.startswith("pytest_vela.errors.RigDown: watch01 down: SerialLost:")
        assert "\n" not in message.strip()
        why = _attachment(night.reports, "watch01", result, "why watch01 is down")
        assert "is the watch plugged in" in why


def test_steps_name_each_call_with_its_arguments_and_outcome(night: Night) -> None:
    loss = _results(night.reports, "sim")["test_link_loss_order[sim]"]
    names = [step["name"] for step in _steps(loss)]
    assert any(n.startswith('interconnect.send({"hello":') and "→ success" in n for n in names)
    assert "peer.drop() → link dropped" in names
    assert any(n.startswith("events.wait_for(close, timeout=5 s) → #") for n in names)
    failed = [s for s in _steps(loss) if s["status"] == "failed"]
    assert [s["name"] for s in failed] == ["events.assert_order(['close', 'error'])"]
    send = next(s for s in _steps(loss) if s["name"].startswith("interconnect.send"))
    params = {p["name"]: p["value"] for p in send["parameters"]}
    assert params["timeout"] == "15 s" and params["outcome"] == "success"
    assert send["stop"] >= send["start"]  # timed
    fine = _results(night.reports, "sim")["test_fine[sim]"]
    assert any(
        s["name"].startswith("peer.expect_message(timeout=5 s) → message #1") for s in _steps(fine)
    )


def test_internal_fixtures_stay_off_the_test_pages(night: Night) -> None:
    names = []
    for path in (night.reports / "sim" / "allure-results").glob("*-container.json"):
        container = json.loads(path.read_text())
        names += [f["name"] for f in container.get("befores", []) + container.get("afters", [])]
    assert names and not [n for n in names if n.startswith("_vela") or n.endswith("<lambda>")]
    assert "vela_sim (teardown)" in names


def test_the_console_attachment_folds_the_agents_lines_away(night: Night) -> None:
    loss = _results(night.reports, "sim")["test_link_loss_order[sim]"]
    console = _attachment(night.reports, "sim", loss, "console")
    agent = _attachment(night.reports, "sim", loss, "console: agent protocol lines")
    assert "VELA-AGENT" not in console and "agent protocol line" in console
    assert "VELA-AGENT" in agent and '"kind":"close"' in agent
    assert "# test start: test_link_loss_order[sim] in test_night.py" in console
    assert "# test end: test_link_loss_order[sim] in test_night.py" in console


def test_the_link_trace_is_whole(night: Night) -> None:
    loss = _results(night.reports, "sim")["test_link_loss_order[sim]"]
    trace = _attachment(night.reports, "sim", loss, "link trace")
    assert '"hello":"' + "x" * 100 in trace  # 100+ bytes in one frame, not cut at 32


def test_the_sequence_diagram_holds_every_event_and_the_expected_order(night: Night) -> None:
    loss = _results(night.reports, "sim")["test_link_loss_order[sim]"]
    svg = ET.fromstring(_attachment(night.reports, "sim", loss, "sequence diagram"))
    timeline = _attachment(night.reports, "sim", loss, "event timeline")
    seqs = sorted(int(s) for s in re.findall(r"#(\d+)\s+(?:open|message|close|error)", timeline))
    shown = sorted(
        int(s)
        for g in svg.iter("{http://www.w3.org/2000/svg}g")
        for s in (g.get("data-seqs") or "").split(",")
        if s
    )
    assert shown == seqs and seqs
    text = " ".join("".join(t.itertext()) for t in svg.iter("{http://www.w3.org/2000/svg}text"))
    assert "assert_order failed" in text and "link drop" in text


def test_the_controller_writes_each_rigs_environment(night: Night) -> None:
    sim = json.loads((night.reports / "sim" / "allure-results" / "vela-rig.json").read_text())
    env = sim["environment"]
    assert sim["rig"] == "sim" and env["rig.kind"] == "sim" and env["model"] == "sim"
    assert re.fullmatch(r"[0-9a-f]{64}", env["firmware"])
    assert env["agent"] and env["pyserial"] and env["bleak"] and env["pytest-vela"] and env["host"]
    down = json.loads((night.reports / "watch01" / "allure-results" / "vela-rig.json").read_text())
    assert down["environment"]["rig.kind"] == "hardware"
    assert (night.reports / "sim" / "allure-results" / "categories.json").is_file()


def test_each_run_starts_from_a_clean_results_directory(night: Night) -> None:
    # the main job's 20 results were on sim too: the night's run replaced them
    assert set(_results(night.reports, "sim")) == {
        "test_link_loss_order[sim]",
        "test_crash[sim]",
        "test_hang[sim]",
        "test_fine[sim]",
    }


# --- the report -------------------------------------------------------------------------------


def _widget(night: Night, *parts: str) -> Any:
    return json.loads(night.output.joinpath("widgets", *parts).read_text())


def test_the_report_builds_with_the_terminals_closing_line(night: Night) -> None:
    assert night.first_report.returncode == 0, night.first_report.stderr
    report = night.report
    assert report.returncode == 1, report.stdout + report.stderr  # the gate: failures > 0
    assert "quality gate FAILED: 2 failed" in report.stdout
    terminal = CLOSING.search(night.night.stdout)
    built = CLOSING.search(report.stdout)
    assert terminal and built and terminal.group(0) == built.group(0)
    assert night.report_seconds < 60
    print(f"report built in {night.report_seconds:.1f} s")


def test_each_rig_is_an_environment_with_its_variables(night: Night) -> None:
    environments = {e["id"] for e in _widget(night, "environments.json")}
    assert {"sim", "watch01"} <= environments
    variables = _widget(night, "sim", "variables.json")
    assert variables["rig.kind"] == "sim" and re.fullmatch(r"[0-9a-f]{64}", variables["firmware"])
    assert _widget(night, "watch01", "variables.json")["rig.kind"] == "hardware"
    farm = {e["name"]: e["values"] for e in _widget(night, "allure_environment.json")}
    assert farm["rigs"] == ["sim, watch01"]  # not one rig's environment passed off as all
    assert "firmware" not in farm and "rig.kind" not in farm and farm["pyserial"]


def test_the_report_tree_starts_with_the_rigs(night: Night) -> None:
    tree = _widget(night, "tree.json")
    roots = [tree["groupsById"][g]["name"] for g in tree["root"]["groups"]]
    assert sorted(roots) == ["sim", "watch01"]  # each rig a parent suite


def test_the_three_failures_sit_in_three_categories(night: Night) -> None:
    tree = _widget(night, "categories.json")
    names = {}
    for node in tree["nodes"].values():
        if node["type"] == "category":
            names[node["name"]] = node["statistic"]["total"]
    assert names == {"Rig infrastructure": 5, "Watch crashed": 1, "Product failures": 1}


def test_two_builds_make_a_trend_of_two_points(night: Night) -> None:
    history = (night.reports / "history.jsonl").read_text().splitlines()
    assert len(history) == 2
    charts = _widget(night, "charts.json")["general"]
    dynamics = next(c for c in charts.values() if c["type"] == "statusDynamics")
    assert len(dynamics["data"]) == 2


def test_the_report_asks_no_third_party(night: Night) -> None:
    assert third_party_requests(night.output) == []
    for page in night.output.rglob("*.html"):
        text = page.read_text()
        assert "googletagmanager" not in text and "gtag(" not in text


def test_a_single_file_report(night: Night, tmp_path: Path) -> None:
    done = run_report(night.root, "--single-file", "--no-history", "-o", str(tmp_path / "one"))
    assert done.returncode == 0, done.stderr
    one = tmp_path / "one"
    page = (one / "index.html").read_text()
    assert not (one / "data").exists() and not list(one.glob("*.js"))  # all inside the page
    assert not re.search(r"<script[^>]*\bsrc=\"(?!data:)", page)
    assert third_party_requests(one) == []


def test_serve_prints_a_local_url_and_serves_the_report(night: Night) -> None:
    import urllib.request

    argv = ["report", "--no-history", "--serve", "-o", str(night.root / "served")]
    proc = subprocess.Popen(
        [sys.executable, "-m", "pytest_vela.cli", *argv],
        cwd=night.root,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = ""
        while "serving the report at" not in line:
            line = proc.stdout.readline()
            assert line, "the command ended without serving"
        url = re.search(r"http://127\.0\.0\.1:\d+/", line)
        assert url, line
        with urllib.request.urlopen(url.group(0), timeout=10) as page:
            assert b"pytest-vela" in page.read()
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture
def served(night: Night) -> Iterator[str]:
    server = make_server(night.output)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def test_a_browser_shows_the_failed_test_and_asks_only_the_local_host(
    night: Night, served: str
) -> None:
    by_id = json.loads((night.output / "test-results.json").read_text())["byId"]
    test_id = next(k for k, v in by_id.items() if v["name"] == "test_link_loss_order[sim]")
    with open_page(f"{served}#/{test_id}") as page:
        body = page.wait_for_text(
            "test_link_loss_order[sim]",
            "Product failures",
            "peer.drop() → link dropped",
            "events.assert_order(['close', 'error'])",
        )
        assert "Failed" in body
        page.call("Page.navigate", url=f"{served}#/{test_id}/attachments")
        page.wait_for_text("sequence diagram", "link trace", "console")
        assert page.click_text("sequence diagram")
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and not any(".svg" in u for u in page.requests):
            page.evaluate("1")
            time.sleep(0.2)
        assert any(".svg" in u for u in page.requests), [u for u in page.requests if "data/" in u]
    local = ("http://127.0.0.1:", "data:", "blob:http://127.0.0.1:")
    outside = [u for u in page.requests if not u.startswith(local)]
    assert page.requests and outside == []
