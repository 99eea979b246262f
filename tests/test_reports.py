"""What a reviewer finds in the Allure results the next morning, read from the files
allure-pytest wrote."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest


def _results(root: Path, rig: str) -> dict[str, dict[str, Any]]:
    found = {}
    for path in (root / "reports" / rig / "allure-results").glob("*-result.json"):
        result = json.loads(path.read_text())
        found[result["name"]] = result
    return found


def _category(root: Path, rig: str, result: dict[str, Any]) -> str | None:
    """The first category of categories.json that this result falls into, as Allure decides."""
    categories = json.loads(
        (root / "reports" / rig / "allure-results" / "categories.json").read_text()
    )
    message = result.get("statusDetails", {}).get("message", "")
    for category in categories:
        if result["status"] not in category["matchedStatuses"]:
            continue
        if re.fullmatch(category.get("messageRegex", ".*"), message, re.S):
            return str(category["name"])
    return None


def test_interconnect_tests_carry_their_evidence(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        def test_loss(interconnect, peer):
            peer.drop()
            interconnect.events.wait_for("close", timeout=5)
            interconnect.events.assert_order(["close", "error"])  # wrong on purpose
        """
    )
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(failed=1)
    result = _results(pytester.path, "sim")["test_loss[sim]"]
    assert result["status"] == "failed"
    labels = {label["name"]: label["value"] for label in result["labels"]}
    assert labels["parentSuite"] == "sim"
    assert {"name": "rig", "value": "'sim'"} in result["parameters"]
    results_dir = pytester.path / "reports" / "sim" / "allure-results"
    attachments = {a["name"]: results_dir / a["source"] for a in result["attachments"]}
    assert {"console", "link trace", "event timeline", "event timeline (picture)"} <= set(
        attachments
    )
    timeline = attachments["event timeline"].read_text()
    assert re.search(r"#\d+\s+error\s+code=1006", timeline)
    assert re.search(r"#\d+\s+close\s+code=1006", timeline)
    assert "tx" in attachments["link trace"].read_text()  # the drop order went out
    assert attachments["event timeline (picture)"].read_text().startswith("<svg")
    assert "timeline" in result["statusDetails"]["message"]  # the failure shows it too
    assert _category(pytester.path, "sim", result) == "Product failures"


def test_rig_faults_are_broken_and_crashes_failed(pytester: pytest.Pytester) -> None:
    pytester.mkdir("rigs").joinpath("sim.toml").write_text("kind = 'sim'\n[timeouts]\nshell = 1\n")
    pytester.makepyfile(
        """
        def test_hung(watch, vela_sim):
            vela_sim.hang()
            watch.shell("ls")

        def test_crashed(watch, vela_sim):
            vela_sim.crash()
            watch.console.expect("booting completed", timeout=5)
        """
    )
    pytester.runpytest_subprocess("-p", "no:cacheprovider")
    results = _results(pytester.path, "sim")
    hung, crashed = results["test_hung[sim]"], results["test_crashed[sim]"]
    assert hung["status"] == "broken"
    assert "WatchHung" in hung["statusDetails"]["message"]
    assert _category(pytester.path, "sim", hung) == "Rig infrastructure"
    assert crashed["status"] == "failed"
    assert "PANIC!!!" in crashed["statusDetails"]["message"]
    results_dir = pytester.path / "reports" / "sim" / "allure-results"
    console = [a for a in crashed["attachments"] if a["name"] == "console"]
    assert len(console) == 1  # the crash's own console slice, panic included
    assert "PANIC!!!" in (results_dir / console[0]["source"]).read_text()
    assert _category(pytester.path, "sim", crashed) == "Watch crashed"


def test_tests_that_use_no_rig_leave_no_reports(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_plain():\n    assert 1 + 1 == 2\n")
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)
    assert not (pytester.path / "reports").exists()


def test_session_fixtures_are_reported_with_the_tests_they_served(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile("def test_a(watch):\n    pass\n\ndef test_b(watch):\n    pass\n")
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=2)
    results_dir = pytester.path / "reports" / "sim" / "allure-results"
    tests = {json.loads(p.read_text())["uuid"] for p in results_dir.glob("*-result.json")}
    watch_containers = [
        container
        for container in map(json.loads, map(Path.read_text, results_dir.glob("*-container.json")))
        if any(before.get("name") == "watch" for before in container.get("befores", []))
    ]
    assert len(watch_containers) == 1  # set up once for the session, reported at its end
    assert set(watch_containers[0]["children"]) == tests
    assert (results_dir / "categories.json").exists()
    assert "rig.kind=sim" in (results_dir / "environment.properties").read_text()
