"""What a reviewer finds in the Allure results the next morning, read from the files
allure-pytest wrote."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from tests.support.rigs import FAST_SIM

SVG = "{http://www.w3.org/2000/svg}"


def _results(root: Path, rig: str) -> dict[str, dict[str, Any]]:
    found = {}
    for path in (root / "reports" / rig / "allure-results").glob("*-result.json"):
        result = json.loads(path.read_text())
        found[result["name"]] = result
    return found


def _failure(result: dict[str, Any]) -> str | None:
    """The class the plugin gave a failed result (its ``failure`` label, which Allure 3's
    categories match)."""
    return next((la["value"] for la in result["labels"] if la["name"] == "failure"), None)


def _category(root: Path, rig: str, result: dict[str, Any]) -> str | None:
    """The first category of categories.json that this result falls into, as Allure 2
    decides."""
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
    assert {"console", "link trace", "event timeline", "sequence diagram"} <= set(attachments)
    timeline = attachments["event timeline"].read_text()
    assert re.search(r"#\d+\s+error\s+code=1006", timeline)
    assert re.search(r"#\d+\s+close\s+code=1006", timeline)
    assert "tx" in attachments["link trace"].read_text()  # the drop order went out
    assert attachments["sequence diagram"].read_text().startswith("<svg")
    assert "timeline" in result["statusDetails"]["message"]  # the failure shows it too
    assert _category(pytester.path, "sim", result) == "Product failures"
    assert _failure(result) == "product"


def test_rig_faults_are_broken_and_crashes_failed(pytester: pytest.Pytester) -> None:
    pytester.mkdir("rigs").joinpath("sim.toml").write_text("kind = 'sim'\n[timeouts]\nshell = 1\n")
    pytester.makepyfile(
        """
        def test_hung(watch, vela_sim):
            vela_sim.hang()
            watch.shell("ls")

        def test_crashed(watch, vela_sim):
            vela_sim.crash()
            watch.console.expect(r"NuttShell \\(NSH\\)", timeout=5)
        """
    )
    pytester.runpytest_subprocess("-p", "no:cacheprovider")
    results = _results(pytester.path, "sim")
    hung, crashed = results["test_hung[sim]"], results["test_crashed[sim]"]
    assert hung["status"] == "broken"
    assert "WatchHung" in hung["statusDetails"]["message"]
    assert _category(pytester.path, "sim", hung) == "Rig infrastructure"
    assert _failure(hung) == "rig"
    assert crashed["status"] == "failed"
    assert "Assertion failed" in crashed["statusDetails"]["message"]
    results_dir = pytester.path / "reports" / "sim" / "allure-results"
    console = [a for a in crashed["attachments"] if a["name"] == "console"]
    assert len(console) == 1  # the crash's own console slice, panic included
    assert "Assertion failed" in (results_dir / console[0]["source"]).read_text()
    assert _category(pytester.path, "sim", crashed) == "Watch crashed"
    assert _failure(crashed) == "crash"


def test_a_crash_is_drawn_in_its_sequence_diagram(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        def test_crash(interconnect, vela_sim):
            assert interconnect.send({"n": 0}).ok
            vela_sim.crash()
            interconnect.send({"n": 1})
        """
    )
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(failed=1)
    crash = _results(pytester.path, "sim")["test_crash[sim]"]
    results_dir = pytester.path / "reports" / "sim" / "allure-results"
    source = next(a["source"] for a in crash["attachments"] if a["name"] == "sequence diagram")
    svg = ET.fromstring((results_dir / source).read_text())
    rows = [g for g in svg.iter(f"{SVG}g") if "step" in (g.get("class") or "")]
    texts = [["".join(t.itertext()) for t in g.iter(f"{SVG}text")] for g in rows]
    labels = [row[3] for row in texts if len(row) > 3]
    assert any(label.startswith("watch crash: Assertion failed") for label in labels), labels
    assert "app link down" in labels or "disconnected (link lost)" in labels, labels
    assert any(re.match(r"#\d+ send\(", label) for label in labels), labels  # the command's id
    assert all(row[2] for row in texts), texts  # the watch clock on every row
    assert int(svg.get("width", "0")) <= 1180


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


FARM_TESTS = """
    def test_link(interconnect, rig):
        assert interconnect.get_ready_state() == 1

    def test_wrong(watch, rig):
        assert watch.shell("echo 1") == "2\\n"

    def test_crash(watch, vela_sim):
        vela_sim.crash()
        watch.shell("echo after")
"""


@pytest.fixture(scope="module")
def farm_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """Two simulated rigs and one that never comes up, on two xdist workers."""
    import subprocess
    import sys
    from textwrap import dedent

    root = tmp_path_factory.mktemp("farm")
    (root / "pytest.ini").write_text("[pytest]\n")
    rigs = root / "rigs"
    rigs.mkdir()
    for name in ("left", "right"):
        (rigs / f"{name}.toml").write_text(FAST_SIM)
    (rigs / "desk.toml").write_text(
        "kind = 'hardware'\n[serial]\nport = '/dev/serial/by-id/usb-none'\n[ble]\nname = 'x'\n"
    )
    (root / "test_farm.py").write_text(dedent(FARM_TESTS))
    argv = ["-p", "no:cacheprovider", "-n", "2", "--rig", "left,right,desk", "test_farm.py"]
    done = subprocess.run(
        [sys.executable, "-m", "pytest", *argv],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=240,
    )
    return done.stdout, root


def test_under_xdist_each_rig_keeps_its_results_labels_and_environment(
    farm_run: tuple[str, Path],
) -> None:
    _, root = farm_run
    for rig in ("left", "right", "desk"):
        results = _results(root, rig)
        assert set(results) == {f"test_link[{rig}]", f"test_wrong[{rig}]", f"test_crash[{rig}]"}
        for result in results.values():
            labels = {label["name"]: label["value"] for label in result["labels"]}
            assert labels["rig"] == rig and labels["parentSuite"] == rig
        described = json.loads(
            (root / "reports" / rig / "allure-results" / "vela-rig.json").read_text()
        )
        assert described["rig"] == rig
    for rig in ("left", "right"):  # read on the workers, written by the controller
        env = json.loads((root / "reports" / rig / "allure-results" / "vela-rig.json").read_text())
        assert len(env["environment"]["firmware"]) == 64
        crashed = _results(root, rig)[f"test_crash[{rig}]"]
        assert _category(root, rig, crashed) == "Watch crashed"
        assert _failure(crashed) == "crash"
        wrong = _results(root, rig)[f"test_wrong[{rig}]"]
        assert _category(root, rig, wrong) == "Product failures"
    down = _results(root, "desk")["test_link[desk]"]
    assert _category(root, "desk", down) == "Rig infrastructure"


def test_under_xdist_the_controller_says_it_once_and_counts_it_all(
    farm_run: tuple[str, Path],
) -> None:
    out, _ = farm_run
    assert out.count("is the watch plugged in") == 1
    assert "desk down: SerialLost: cannot open serial port /dev/serial/by-id/usb-none" in out
    assert (
        "2 product failures, 2 watch crashes, 3 rig faults (desk: down: SerialLost ×3)"
        in out.splitlines()
    )


def test_alluredir_takes_the_rigs_results_and_nothing_is_written_twice(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile("def test_one(watch):\n    pass\n")
    stale = pytester.path / "out" / "sim" / "stale-result.json"
    stale.parent.mkdir(parents=True)
    stale.write_text("{}")
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--alluredir", "out", "--clean-alluredir"
    )
    result.assert_outcomes(passed=1)
    out = pytester.path / "out"
    assert not stale.exists()  # --clean-alluredir honoured
    assert len(list((out / "sim").glob("*-result.json"))) == 1
    assert (out / "sim" / "vela-rig.json").is_file()
    assert not list(out.glob("*-result.json"))  # no flat copy beside the rigs' own
    assert not (pytester.path / "reports" / "sim" / "allure-results").exists()
    assert list((pytester.path / "reports" / "sim" / "logs").glob("console-*.log"))
