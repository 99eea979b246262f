"""What the terminal shows while a run goes on: a rig that cannot start is said on lines of its
own, between progress lines, never inside one (with and without xdist); the port it could not
open is named once; the rig file and the logs are named as the project sees them."""

from __future__ import annotations

import re

import pytest

from tests.support.rigs import FAST_SIM, write_rig

DESK = "kind = 'hardware'\n[serial]\nport = '/dev/serial/by-id/usb-none'\n[ble]\nname = 'x'\n"
TESTS = """
def test_a(watch):
    pass

def test_b(watch):
    pass
"""
LETTERS_ONLY = re.compile(r"^[.EFsxR]+\s*(\[\s*\d+%\])?$")


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["one process", "xdist"])
def test_a_rig_down_is_said_between_progress_lines(
    pytester: pytest.Pytester, workers: list[str]
) -> None:
    write_rig(pytester.path / "rigs", "sim", FAST_SIM)
    write_rig(pytester.path / "rigs", "desk", DESK)
    pytester.makepyfile(test_desk=TESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--rig", "desk,sim", *workers)
    result.assert_outcomes(passed=2, errors=2)
    lines = result.stdout.lines
    said = [n for n, line in enumerate(lines) if "desk down: SerialLost" in line]
    assert said, result.stdout.str()
    first = lines[said[0]]
    assert first.startswith("desk down: SerialLost: cannot open serial port"), first
    assert first.count("/dev/serial/by-id/usb-none") == 1, first  # the port, once
    assert "serial.port in rigs/desk.toml;" in lines[said[0] + 1]
    above = lines[said[0] - 1]
    if workers:
        # The letters so far, the rig's own last, and that line ended.
        assert re.fullmatch(r"[.E]*E", above), lines[said[0] - 2 : said[0] + 4]
    else:
        assert above.startswith("test_desk.py E") and above.endswith("%]"), above
        below = next(line for line in lines[said[0] + 3 :] if line.strip())
        assert below.startswith("test_desk.py "), below  # the progress goes on, named
        assert not any(LETTERS_ONLY.match(line) for line in lines), result.stdout.str()
