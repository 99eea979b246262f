"""The rig file's console defaults match what real NuttX prints: its boot greeting, a crash's
lines (and not the lines around them), and a prompt the console can find."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pytest_vela.errors import RigConfigError
from pytest_vela.rigfile.loader import load_rig
from pytest_vela.rigfile.schema import SerialSettings
from tests.support.rigs import write_rig
from tests.support.transcripts import read_transcript

DEFAULTS = SerialSettings()
CRASH = re.compile(DEFAULTS.crash_marker)
BOOT = re.compile(DEFAULTS.boot_marker)

# Crash lines as NuttX's sources print them, with the function name syslog puts first.
CRASH_LINES = [
    "dump_assert_info: Assertion failed : at file: mm_heap/mm_free.c:112 task: nsh_main",
    "_assert: Assertion failed at file:mm/mm_heap/mm_free.c line: 112 task: init",  # before 12.1
    "up_dump_register: R0: 00000000 R1: 2000a3c4 R2: 00000001  R3: deadbeef",
    "dump_tasks:    PID GROUP PRI POLICY   TYPE    NPX STATE   EVENT      SIGMASK          STACK",
    "riscv_exception: Segmentation fault in nsh_main (PID 3: nsh_main)",
    "arm64_fatal: PANIC: Unhandled user exception in PID 3: nsh_main",
    "arm_hardfault: PANIC!!! Hard Fault!:",
    "Reset board on recursive assert",
]
NOT_CRASHES = [
    "dump_assert_info: Current Version: NuttX  0.0.0 0 Dec  4 2026 14:24:02 sim",
    "sched_dumpstack: backtrace| 4: 0x00000000400747b4 0x0000000040073be4",
    "nsh: foo: command not found",
    "ASSERTION FAILED",  # appears nowhere in NuttX
]


@pytest.mark.parametrize("line", CRASH_LINES)
def test_the_crash_marker_matches_each_crash_line_nuttx_prints(line: str) -> None:
    assert CRASH.search(line)


@pytest.mark.parametrize("line", NOT_CRASHES)
def test_the_crash_marker_leaves_other_lines_alone(line: str) -> None:
    assert not CRASH.search(line)


def test_a_real_assertion_is_one_crash_line() -> None:
    crash = read_transcript("transcript-apache-crash.txt")
    lines = crash.answer_to(crash.exchanges[0].typed)
    assert [line for line in lines if CRASH.search(line)] == [
        "dump_assert_info: Assertion failed rtcb && rtcb->lockcount > 0: at file: "
        "sched/sched_unlock.c:67 task: nsh_main process: nsh_main 0x4001933d"
    ]


@pytest.mark.parametrize(
    "name", ["transcript-apache.txt", "transcript-vela.txt", "transcript-apache-crash.txt"]
)
def test_the_boot_marker_matches_the_real_greeting_once(name: str) -> None:
    boot = read_transcript(name).boot
    assert [line for line in boot.split("\r\r\n") if BOOT.search(line)] == ["NuttShell (NSH)"]
    assert BOOT.search("NuttShell (NSH) NuttX-12.8.0")  # a release build's greeting


def test_the_default_prompt_is_what_nsh_prints_before_its_erase() -> None:
    boot = read_transcript("transcript-apache.txt").boot
    assert boot.endswith(DEFAULTS.prompt + "\x1b[K")


def test_a_prompt_with_an_escape_in_it_is_refused_saying_why(tmp_path: Path) -> None:
    write_rig(tmp_path, "sim", 'kind = "sim"\n[serial]\nprompt = "nsh> \\u001b[K"\n')
    with pytest.raises(RigConfigError) as err:
        load_rig("sim", tmp_path)
    message = str(err.value)
    assert "serial.prompt" in message and "control character" in message
    assert 'write only the text the prompt shows, as in "nsh> "' in message
