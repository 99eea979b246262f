"""The nightly farm's verdicts: a rig that keeps failing for infrastructure is quarantined while
the others go on, and the exit status tells rig faults (10) from product failures (1)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pytest_vela.plugin.verdict import RIG_FAULTS, RunVerdict
from pytest_vela.rig.sim_process import SimulatorProcess
from pytest_vela.rigfile.schema import RigSettings
from tests.support.leftovers import sim_run_dir
from tests.support.rigs import FAST_SIM

LOSES_ITS_PORT = """
import os
import socket

import pytest


def unplug():
    with socket.socket(socket.AF_UNIX) as control:
        control.connect(os.environ["FLAKY_CONTROL"])
        control.sendall(b'{"op": "unplug"}\\n')
        control.recv(4096)


@pytest.mark.parametrize("n", range(6))
def test_shell(watch, rig, n):
    if rig.name == "flaky" and n == 1:
        unplug()  # the cable is pulled for good: every later test on flaky meets a lost port
    assert watch.shell(f"echo {n}") == f"{n}\\n"
"""


@pytest.fixture
def flaky_watch() -> Iterator[SimulatorProcess]:
    """A watch on a serial port as far as the harness can tell (a simulated one's pty), whose
    cable the tests can pull through its control channel."""
    with sim_run_dir() as run_dir:
        sim = SimulatorProcess(RigSettings(kind="sim"), run_dir)
        sim.start()
        yield sim
        sim.stop()


def _farm(
    pytester: pytest.Pytester, sim: SimulatorProcess, tmp_path: Path, mp: pytest.MonkeyPatch
) -> None:
    rigs = pytester.mkdir("rigs")
    rigs.joinpath("flaky.toml").write_text(
        "kind = 'hardware'\n"
        f"[serial]\nport = '{sim.port}'\n"
        "[ble]\nname = 'Vela-flaky'\n"
        "[timeouts]\nconnect = 1\nshell = 3\n"
    )
    rigs.joinpath("sim.toml").write_text(FAST_SIM)
    pytester.makepyfile(test_port=LOSES_ITS_PORT)
    mp.setenv("FLAKY_CONTROL", str(sim.control_path))
    mp.setenv("VELA_LOCK_DIR", str(tmp_path / "locks"))


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["one-process", "xdist"])
def test_a_rig_that_keeps_losing_its_port_is_quarantined(
    pytester: pytest.Pytester,
    flaky_watch: SimulatorProcess,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    workers: list[str],
) -> None:
    _farm(pytester, flaky_watch, tmp_path, monkeypatch)
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--rig", "sim,flaky", "-rs", *workers
    )
    outcomes = result.parseoutcomes()
    assert outcomes.get("passed") == 7, result.stdout.str()  # sim's six, flaky's first
    assert outcomes.get("skipped") == 2
    assert outcomes.get("failed", 0) + outcomes.get("errors", outcomes.get("error", 0)) == 3
    assert result.ret == RIG_FAULTS
    result.stdout.fnmatch_lines(
        [
            "*= rig faults =*",
            "rig 'flaky' quarantined after 3 rig faults in a row (last: SerialLost*"
            "its remaining tests are skipped (2 skipped)",
            "rig 'flaky': 3 test(s) broken by rig faults",
            "exit status 10: rig faults, no product failure",
        ]
    )
    result.stdout.fnmatch_lines(["SKIPPED*rig 'flaky' quarantined after 3 rig faults*"])


NEVER_UP = """
def test_shell(watch, rig):
    assert watch.shell("echo 1") == "1\\n"

def test_more(watch):
    pass

def test_still_more(watch):
    pass

def test_product(rig):
    assert rig.name != "sim", "the product is broken"
"""


def _never_up_rig(pytester: pytest.Pytester, extra: str = "") -> None:
    rigs = pytester.mkdir("rigs")
    rigs.joinpath("gone.toml").write_text(
        "kind = 'hardware'\n[serial]\nport = '/dev/serial/by-id/no-such-adapter'\n"
        f"[ble]\nname = 'Vela-gone'\n{extra}"
    )
    rigs.joinpath("sim.toml").write_text(FAST_SIM)


def test_product_failures_win_over_rig_faults(
    pytester: pytest.Pytester, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VELA_LOCK_DIR", str(tmp_path / "locks"))
    _never_up_rig(pytester)
    pytester.makepyfile(test_both=NEVER_UP)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--rig", "sim,gone")
    assert result.ret == 1
    result.stdout.fnmatch_lines(
        [
            "rig 'gone' quarantined after 3 rig faults in a row (last: SerialLost*",
            "exit status 1: product failures as well",
        ]
    )


def test_a_rig_that_never_comes_up_is_a_rig_fault_and_the_limit_is_the_ini_s(
    pytester: pytest.Pytester, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VELA_LOCK_DIR", str(tmp_path / "locks"))
    _never_up_rig(pytester)
    pytester.makepyfile(test_gone=NEVER_UP.split("def test_product")[0])
    pytester.makeini("[pytest]\nvela_quarantine_after = 2\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--rig", "gone")
    assert result.ret == RIG_FAULTS
    result.assert_outcomes(errors=2, skipped=1)
    result.stdout.fnmatch_lines(["rig 'gone' quarantined after 2 rig faults in a row*"])


def test_a_rig_file_can_turn_quarantine_off(
    pytester: pytest.Pytester, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VELA_LOCK_DIR", str(tmp_path / "locks"))
    _never_up_rig(pytester, "[farm]\nquarantine_after = 0\n")
    pytester.makepyfile(test_gone=NEVER_UP.split("def test_product")[0])
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--rig", "gone")
    assert result.ret == RIG_FAULTS
    result.assert_outcomes(errors=3)
    assert "quarantined" not in result.stdout.str()


def test_a_bad_ini_limit_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nvela_quarantine_after = often\n")
    pytester.makepyfile(test_x="def test_x():\n    pass\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*vela_quarantine_after = 'often'*(0: never)*"])


@pytest.mark.parametrize(
    ("status", "product", "faults", "expected"),
    [
        (0, 0, False, 0),
        (1, 1, False, 1),
        (1, 0, True, RIG_FAULTS),
        (0, 0, True, RIG_FAULTS),  # a quarantined rig whose tests were all skipped
        (1, 2, True, 1),
        (2, 0, True, 2),  # interrupted stays interrupted
        (5, 0, False, 5),
    ],
)
def test_the_exit_status(status: int, product: int, faults: bool, expected: int) -> None:
    verdict = RunVerdict()
    verdict.product_failures = product
    if faults:
        verdict.quarantined["desk"] = "rig 'desk' quarantined"
    assert verdict.exit_status(status) == expected
