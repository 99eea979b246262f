"""A rig whose shell does not answer when the run starts (left dead by an earlier run) is
power-cycled before it is declared down: here a process rig whose program keeps silent on its
first run and answers on the next, as a watch that comes back after a power cycle."""

from __future__ import annotations

import sys

import pytest

from tests.support.rigs import write_rig

SHELL = r"""
import pathlib, sys, time
seen = pathlib.Path("runs")
runs = int(seen.read_text()) + 1 if seen.exists() else 1
seen.write_text(str(runs))
if runs == 1 or (runs == 2 and "always-silent" in sys.argv):
    time.sleep(3600)  # a dead shell: reads nothing, says nothing
out = sys.stdout
out.write("\r\nNuttShell (NSH)\r\nnsh> ")
out.flush()
line = b""
while True:
    byte = sys.stdin.buffer.read(1)
    if not byte:
        break
    if byte in b"\r\n":
        said = "ran " + line.decode() + "\r\n" if line else ""
        out.write(line.decode() + "\r\n" + said + "nsh> ")
        out.flush()
        line = b""
    else:
        line += byte
"""


def _project(pytester: pytest.Pytester, *args: str) -> None:
    rigs = pytester.mkdir("rigs")
    (rigs / "shell.py").write_text(SHELL)
    (rigs / "cwd").mkdir()  # the program's working directory, kept across its runs
    argv = ", ".join(repr(a) for a in [sys.executable, "-u", "../shell.py", *args])
    write_rig(
        rigs,
        "proc",
        f"""
        kind = "process"
        [process]
        command = [{argv}]
        cwd = "cwd"
        [serial]
        boot_marker = 'NuttShell \\(NSH\\)'
        [timeouts]
        boot = 2
        shell = 2
        """,
    )
    pytester.makepyfile(
        test_up="""
        def test_the_shell_answers(watch):
            assert "ran echo hi" in watch.shell("echo hi")
        """
    )


def test_a_silent_shell_is_power_cycled_before_the_rig_is_down(pytester: pytest.Pytester) -> None:
    _project(pytester)
    result = pytester.runpytest_subprocess("--rig", "proc", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    said = "*proc: no prompt at start; power-cycling it (reset.method restart)*"
    result.stdout.fnmatch_lines([said])
    assert (pytester.path / "rigs" / "cwd" / "runs").read_text() == "2"


def test_a_rig_that_stays_silent_is_down_naming_both_attempts(pytester: pytest.Pytester) -> None:
    _project(pytester, "always-silent")
    result = pytester.runpytest_subprocess("--rig", "proc", "-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "*proc down: WatchHung: the watch did not return to its prompt*",
            "*a power cycle (reset.method = 'restart') did not bring it back either*",
        ]
    )
