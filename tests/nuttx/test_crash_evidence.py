"""A crash's evidence: its lines gathered from a real pty through the Console (unmodified
pyserial), as real NuttX printed them (``shared/nuttx-sim/transcript-apache-crash.txt``, its
``\\r\\r\\n`` line ends as they came), and its backtrace decoded with the build's ELF, checked
against binutils' ``addr2line``."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from pytest_vela.console.port import Console
from pytest_vela.device.crash_report import backtrace_addresses
from pytest_vela.device.crashes import CrashLog
from pytest_vela.device.symbols import Symbols
from tests.support.nuttx import (
    NUTTX_BOOT_MARKER,
    NUTTX_CRASH_MARKER,
    nuttx_build,
    transcript_output,
)
from tests.support.ptys import RawPty
from tests.support.tools import required_tool


def crash_log(
    console: Console, pattern: str = NUTTX_CRASH_MARKER, elf: Path | None = None
) -> CrashLog:
    return CrashLog(console, pattern, boot_marker=NUTTX_BOOT_MARKER, prompt="nsh> ", elf=elf)


def crash_lines(printed: bytes) -> list[str]:
    """The lines NuttX's assertion printed: those of its dumping functions."""
    lines = printed.decode().replace("\r", "").split("\n")
    return [line for line in lines if line.startswith(("dump_assert_info:", "sched_dumpstack:"))]


def test_a_crash_keeps_every_line_it_printed(raw_pty: RawPty, pty_console: Console) -> None:
    printed = transcript_output("apache-crash")
    crashes = crash_log(pty_console)
    raw_pty.send(printed)
    assert pty_console.wait_until(lambda: len(crashes) == 1, 5)
    report = crashes.evidence(0)
    assert "Assertion failed" in report.line
    # The version line its printer led up with, the assertion, every backtrace line.
    assert report.lines == crash_lines(printed)
    assert report.addresses == backtrace_addresses(crash_lines(printed))
    assert len(report.addresses) == sum(
        len(re.findall(r"0x[0-9a-f]{16}", line)) for line in crash_lines(printed)
    )
    assert "not decoded: set firmware.elf" in report.render()


def test_marker_lines_inside_a_crash_are_that_crash(raw_pty: RawPty, pty_console: Console) -> None:
    """NuttX's markers match several lines of one crash: it is still one crash."""
    crashes = crash_log(pty_console, pattern=NUTTX_CRASH_MARKER + "|sched_dumpstack")
    raw_pty.send(transcript_output("apache-crash"))
    assert pty_console.wait_until(lambda: len(crashes) >= 1, 5)
    report = crashes.evidence(0)
    assert len(crashes) == 1
    assert len(report.lines) == 5


def test_a_boot_or_the_prompt_ends_a_crash(raw_pty: RawPty, pty_console: Console) -> None:
    printed = transcript_output("apache-crash")
    crash = printed[printed.index(b"dump_assert_info") :]
    crashes = crash_log(pty_console)
    raw_pty.send(crash + b"\r\nNuttShell (NSH)\r\nnsh> " + crash + b"nsh> echo hi\r\nhi\r\n")
    assert pty_console.wait_until(lambda: len(crashes) == 2, 5)
    first, second = crashes.evidence(0), crashes.evidence(1)
    assert first.lines == second.lines == crash_lines(printed)
    assert first.ended and second.ended  # by the boot line, by the prompt


def test_an_external_crash_fails_the_test_naming_it(pty_console: Console) -> None:
    crashes = crash_log(pty_console)
    crashes.record_external("the watch's program nuttx exited with status 3, unasked")
    failure = crashes.failure(0)
    assert failure is not None
    assert "exited with status 3, unasked" in str(failure)
    assert failure.report is crashes.reports[0]


def test_the_backtrace_is_decoded_into_the_failure(raw_pty: RawPty, pty_console: Console) -> None:
    elf = nuttx_build("apache")
    crashes = crash_log(pty_console, elf=elf)
    raw_pty.send(transcript_output("apache-crash"))
    assert pty_console.wait_until(lambda: len(crashes) == 1, 5)
    failure = crashes.failure(0)
    assert failure is not None
    frames = failure.report.frames
    assert len(frames) == len(failure.report.addresses) and all(f.function for f in frames)
    for frame in frames:
        assert f"0x{frame.address:x} {frame.function} at {frame.location}" in str(failure)
    assert f"decoded with firmware.elf {elf.name}" in str(failure)


def test_an_elf_that_is_none_says_so(raw_pty: RawPty, pty_console: Console, tmp_path: Path) -> None:
    nuttx_build("apache")
    bogus = tmp_path / "nuttx.elf"
    bogus.write_bytes(b"not an ELF at all")
    crashes = crash_log(pty_console, elf=bogus)
    raw_pty.send(transcript_output("apache-crash"))
    assert pty_console.wait_until(lambda: len(crashes) == 1, 5)
    assert "cannot be read as an ELF" in crashes.evidence(0).render()


def _addr2line() -> str:
    return required_tool("addr2line", package="binutils")


def function_starts(elf: Path, count: int) -> list[int]:
    """``count`` global functions' start addresses, spread over the symbol table. (Local ones
    include the copies of a header's static inline functions, whose file binutils 2.40 names
    wrongly: see ``pytest_vela/device/symbols.py``.)"""
    from elftools.elf.elffile import ELFFile
    from elftools.elf.sections import SymbolTableSection

    with elf.open("rb") as fh:
        symtab = ELFFile(fh).get_section_by_name(".symtab")
        assert isinstance(symtab, SymbolTableSection)
        starts = sorted(
            {
                int(s["st_value"])
                for s in symtab.iter_symbols()
                if s["st_info"]["type"] == "STT_FUNC"
                and s["st_info"]["bind"] == "STB_GLOBAL"
                and s["st_value"]
                and s["st_size"]
            }
        )
    step = max(1, len(starts) // count)
    return starts[::step][:count]


@pytest.mark.parametrize("build", ["apache", "vela"])
def test_decoding_agrees_with_addr2line(build: str) -> None:
    elf = nuttx_build(build)
    addresses = function_starts(elf, 40)
    if build == "apache":
        addresses += backtrace_addresses(crash_lines(transcript_output("apache-crash")))
    reference = subprocess.run(
        [_addr2line(), "-f", "-e", str(elf), *(hex(a) for a in addresses)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    frames = Symbols(elf).decode(addresses)
    for frame, function, where in zip(frames, reference[::2], reference[1::2], strict=True):
        path, _, line = where.split(" ")[0].rpartition(":")
        assert frame.function == function, (hex(frame.address), frame, where)
        assert frame.line == int(line), (hex(frame.address), frame, where)
        # addr2line joins a DWARF 5 compilation directory to itself; the rest is the same.
        assert frame.file is not None and path.endswith(frame.file), (frame, where)
