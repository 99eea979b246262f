"""The ``watch``-level promises, kept against real NuttX: both ``sim:nsh`` builds of
``shared/nuttx-sim/`` run as process rigs, through the plugin, as a user's project runs them.

One pytest run per build holds every step (startup to a prompt takes ~30 ms, pytest's own
start about a second): a shell round trip, long outputs, commands back to back, soft and hard
resets, a hang told apart from a crash, an expected and an unexpected crash (apache: the Vela
fork has its assertions off) with the decoded backtrace in the failure and the next test
passing, the program killed from outside failing its test as a crash naming the signal, and
the identity in the header.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.nuttx import (
    nuttx_build,
    process_rig,
    programs_of,
    run_on_nuttx,
    symbol_address,
)
from tests.support.projects import allure_results, outcome

COMMON_TESTS = """
    import os, re, signal, pytest
    from pytest_vela.errors import WatchCrashed, WatchHung

    def test_round_trip(watch):
        assert watch.shell("echo round-trip-{build}") == "round-trip-{build}\\n"

    def test_long_output(watch):
        helped = watch.shell("help")
        assert helped.startswith("help usage:") and "Builtin Apps:" in helped
        assert {{"echo", "ls", "ps", "uname"}} <= set(helped.split())
        listed = watch.shell("ps").splitlines()
        assert "COMMAND" in listed[0].split() and any("nsh_main" in line for line in listed)
        assert "\\r" not in helped + "\\n".join(listed)

    def test_back_to_back(watch):
        for n in range(30):
            assert watch.shell(f"echo n={{n}}") == f"n={{n}}\\n"

    def test_soft_reset(watch):
        boots = len(watch.boots)
        watch.reset()
        assert len(watch.boots) == boots + 1
        assert watch.shell("echo after-reboot") == "after-reboot\\n"

    def test_hard_reset(watch):
        before = set(program_pids())
        watch.reset(hard=True)
        assert set(program_pids()).isdisjoint(before)
        assert watch.shell("echo after-restart") == "after-restart\\n"

    def test_silence_is_a_hang_not_a_crash(watch):
        crashes = len(watch.crashes)
        with pytest.raises(WatchHung):
            watch.shell("sleep 2", timeout=0.5)
        assert len(watch.crashes) == crashes

    def test_hangs(watch):
        watch.shell("sleep 2", timeout=0.5)

    def test_after_the_hang(watch):
        assert watch.shell("echo recovered") == "recovered\\n"

    def test_killed_from_outside(watch):
        (pid,) = program_pids()
        os.kill(pid, signal.SIGSEGV)
        watch.console.expect("NuttShell", timeout=5)  # started again, after the crash's record

    def test_after_the_kill(watch):
        assert watch.shell("echo alive") == "alive\\n"

    def test_peer(peer):
        pass

    def program_pids():
        found = []
        for entry in os.listdir("/proc"):
            try:
                environ = open(f"/proc/{{entry}}/environ", "rb").read().split(b"\\0")
            except OSError:
                continue
            if {marker!r}.encode() in environ:
                found.append(int(entry))
        return found
"""

CRASH_TESTS = """
    def test_expected_crash(watch):
        with watch.expect_crash(timeout=5) as crash:
            watch.console.write_line("exec 0x{address:x}")
        assert "Assertion failed" in crash.line
        assert any(frame.function == "sched_unlock" for frame in crash.report.frames)
        assert watch.shell("echo back") == "back\\n"

    def test_unexpected_crash(watch):
        watch.shell("exec 0x{address:x}")

    def test_after_the_crash(watch):
        assert watch.shell("echo next") == "next\\n"
"""


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """Each build's run (its pytest output), made once for this module's checks."""
    done: dict[str, str] = {}
    yield done


def run_of(runs: dict[str, str], tmp_path_factory: pytest.TempPathFactory, name: str) -> str:
    if name not in runs:
        build = nuttx_build(name)
        marker = f"VELA_TEST_RUN={uuid.uuid4().hex}"
        tests = COMMON_TESTS.format(build=name, marker=marker)
        if name == "apache":
            tests += CRASH_TESTS.format(address=symbol_address(build, "sched_unlock"))
        key, value = marker.split("=")
        rig = process_rig(
            build, process=f'env = {{ {key} = "{value}" }}', firmware=f"elf = '{build}'"
        )
        root = tmp_path_factory.mktemp(name)
        done = run_on_nuttx(root, name, rig, tests)
        assert not programs_of(build, marker), "the program outlived the run"
        runs[name] = done.stdout + done.stderr
        runs[f"{name}.reports"] = str(root / "reports")
    return runs[name]


@pytest.mark.parametrize("build", ["apache", "vela"])
def test_the_watch_works_on_real_nuttx(
    runs: dict[str, str], tmp_path_factory: pytest.TempPathFactory, build: str
) -> None:
    rig = build
    out = run_of(runs, tmp_path_factory, rig)
    for test in (
        "test_round_trip",
        "test_long_output",
        "test_back_to_back",
        "test_soft_reset",
        "test_hard_reset",
        "test_silence_is_a_hang_not_a_crash",
        "test_after_the_hang",
        "test_after_the_kill",
    ):
        assert outcome(out, test, rig).startswith("PASSED"), out
    assert re.search(r"SKIPPED \[1\] test_nuttx.py:\d+: rig '\w+' has no BLE link \(program ", out)
    # The identity: the header says how the rig is reached, the closing lines what it runs.
    assert f"rig {rig}: process, program {nuttx_build(rig)} on a pty" in out, out
    # uname's fields asked one by one (its -a by word position would say "NuttX 0").
    assert re.search(rf"^{rig}: process, NuttX 0\.0\.0 on sim\b", out, re.MULTILINE), out


@pytest.mark.parametrize("build", ["apache", "vela"])
def test_a_hang_is_a_rig_fault_and_an_unasked_exit_a_crash(
    runs: dict[str, str], tmp_path_factory: pytest.TempPathFactory, build: str
) -> None:
    rig = build
    out = run_of(runs, tmp_path_factory, rig)
    hung = outcome(out, "test_hangs", rig)
    assert hung.startswith("FAILED") and "WatchHung" in hung, out
    killed = outcome(out, "test_killed_from_outside", rig)
    assert killed.startswith("FAILED") and "WatchCrashed" in killed, out
    assert "was killed by signal 11 (SIGSEGV), unasked" in out, out
    crashes = "2 watch crashes" if rig == "apache" else "1 watch crash,"
    assert f"0 product failures, {crashes}" in out and f"1 rig fault ({rig}: WatchHung)" in out


def test_crashes_on_real_nuttx_carry_their_decoded_backtrace(
    runs: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> None:
    out = run_of(runs, tmp_path_factory, "apache")
    assert outcome(out, "test_expected_crash", "apache").startswith("PASSED"), out
    crashed = outcome(out, "test_unexpected_crash", "apache")
    assert crashed.startswith("FAILED") and "WatchCrashed" in crashed, out
    assert outcome(out, "test_after_the_crash", "apache").startswith("PASSED"), out
    # The failure holds the crash's lines and each frame as function and file:line.
    assert "dump_assert_info: Assertion failed" in out
    assert "sched_dumpstack: backtrace|" in out
    assert "backtrace (20 frames, decoded with firmware.elf nuttx-apache-sim)" in out
    frame = r"#\d+ +0x[0-9a-f]+ {} at {}:\d+"
    assert re.search(frame.format("sched_unlock", r"nuttx/sched/sched/sched_unlock\.c"), out)
    assert re.search(frame.format("cmd_exec", r"apps/nshlib/nsh_proccmds\.c"), out)
    # The report gets each crash, expected or not, as an attachment of its test.
    reports = Path(runs["apache.reports"])
    for test in ("test_expected_crash", "test_unexpected_crash"):
        attached = allure_results(reports, "apache")[test]["attachments"]
        crash = [a for a in attached if a["name"].startswith("crash ")]
        assert len(crash) == 1, attached
        text = (reports / "apache" / "allure-results" / crash[0]["source"]).read_text()
        assert re.search(frame.format("sched_unlock", r"nuttx/sched/sched/sched_unlock\.c"), text)
