"""The night the morning review reads: a farm project with a simulated rig and a rig that is
down, run as a farm runs it — the main job, a report, the night's tests, the report again."""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from textwrap import dedent

from tests.support.report_results import report as run_report
from tests.support.rigs import fast_sim_rig, write_rig

FAST_SIM = fast_sim_rig(shell=2)

DOWN = """
    kind = "hardware"
    [serial]
    port = "/dev/serial/by-id/usb-no-such-watch"
    [ble]
    name = "Vela-watch01"
"""

NIGHT = """
    def test_link_loss_order(interconnect, peer):
        interconnect.send({"hello": "x" * 100})
        peer.drop()
        interconnect.events.wait_for("close", timeout=5)
        interconnect.events.assert_order(["close", "error"])  # wrong on purpose

    def test_crash(interconnect, vela_sim):
        vela_sim.crash()
        interconnect.send({"n": 1})

    def test_hang(watch, vela_sim):
        vela_sim.hang()
        watch.shell("ls")

    def test_fine(interconnect, peer):
        assert interconnect.send({"n": 2}).ok
        assert peer.expect_message(timeout=5) == {"n": 2}
"""


@dataclass
class Night:
    root: Path
    main_job: subprocess.CompletedProcess[str]
    night: subprocess.CompletedProcess[str]
    first_report: subprocess.CompletedProcess[str]
    report: subprocess.CompletedProcess[str]
    report_seconds: float

    @property
    def reports(self) -> Path:
        return self.root / "reports"

    @property
    def output(self) -> Path:
        return self.reports / "allure-report"


def _pytest(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=240,
    )


def run_night(root: Path) -> Night:
    """The main job, its report, the night's run over ``sim`` and ``watch01`` and the
    report of it all (timed), in a farm project made under ``root``."""
    # No quarantine: every test of the rig that is down is reported, one line each.
    (root / "pytest.ini").write_text("[pytest]\nvela_quarantine_after = 0\n")
    write_rig(root / "rigs", "sim", FAST_SIM)
    write_rig(root / "rigs", "watch01", DOWN)
    (root / "test_night.py").write_text(dedent(NIGHT))
    main_job = _pytest(root, "--pyargs", "pytest_vela.conformance")
    first_report = run_report(root)
    night = _pytest(root, "--rig", "sim,watch01", "-rA", "test_night.py")
    started = time.monotonic()
    report = run_report(root, "--max-failures", "0")
    took = time.monotonic() - started
    return Night(root, main_job, night, first_report, report, took)
