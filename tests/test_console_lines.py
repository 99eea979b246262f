"""Watched lines and line listeners on the console: crash and boot markers are seen whole
however the reads split them, listeners get only finished lines, and a failing listener never
stops the reader."""

from __future__ import annotations

from pytest_vela.console.lines import LineListener, MarkerLog
from pytest_vela.console.port import Console
from tests.support.console_logs import log_text, wait_for_log
from tests.support.ptys import RawPty


def test_watched_lines_are_recorded_with_their_whole_line(
    raw_pty: RawPty, pty_console: Console
) -> None:
    crashes = MarkerLog()
    pty_console.watch_lines(r"PANIC!!!", crashes.record)
    raw_pty.send(b"booting\r\n[  1.0] PANIC!!! Assertion failed at sched.c\r\nrebooting\r\n")
    pty_console.expect("rebooting")
    assert [c.line for c in crashes] == ["[  1.0] PANIC!!! Assertion failed at sched.c"]


def test_markers_split_across_reads_are_still_seen(raw_pty: RawPty, pty_console: Console) -> None:
    crashes, boots = MarkerLog(), MarkerLog()
    pty_console.watch_lines(r"PANIC!!!", crashes.record)
    pty_console.watch_lines("booting completed", boots.record)
    for part in (b"[ 0.2] booting comp", b"leted\r\nnsh> PAN", b"IC!!! at sched.c\r\nok\r\n"):
        raw_pty.send(part)
        assert wait_for_log(pty_console, part.decode().splitlines()[-1].strip())
    pty_console.expect("ok")
    assert [b.line for b in boots] == ["[ 0.2] booting completed"]
    assert [c.line for c in crashes] == ["nsh> PANIC!!! at sched.c"]


def test_line_listeners_see_only_complete_lines(raw_pty: RawPty, pty_console: Console) -> None:
    lines: list[tuple[str, float]] = []
    pty_console.on_line(lambda line, ts: lines.append((line, ts)))
    raw_pty.send(b"par")
    assert wait_for_log(pty_console, "par")
    raw_pty.send(b"tial\r")
    assert wait_for_log(pty_console, "partial")
    assert lines == []  # a line still unfinished is nobody's yet
    raw_pty.send(b"\nsecond\r\nthi")
    pty_console.expect("thi")
    raw_pty.send(b"rd\n")
    pty_console.expect("rd\n")
    assert [line for line, _ in lines] == ["partial", "second", "third"]
    assert all(ts > 0 for _, ts in lines)


def _keep_lines_in(seen: list[str]) -> LineListener:
    return lambda line, _ts: seen.append(line)


def test_watched_lines_are_found_through_their_needles_or_without(
    raw_pty: RawPty, pty_console: Console
) -> None:
    found: dict[str, list[str]] = {"alternation": [], "any case": [], "no literal": []}
    for name, pattern in (
        ("alternation", r"PANIC!!!|ASSERTION FAILED"),
        ("any case", r"(?i)watchdog"),
        ("no literal", r"\d+ errors?"),
    ):
        pty_console.watch_lines(pattern, _keep_lines_in(found[name]))
    raw_pty.send(b"ok\r\nASSERTION FAILED: x > 0\r\nWatchDog fired\r\n3 errors\r\nend\r\n")
    pty_console.expect("end")
    assert found == {
        "alternation": ["ASSERTION FAILED: x > 0"],
        "any case": ["WatchDog fired"],
        "no literal": ["3 errors"],
    }


def test_a_failing_line_listener_is_noted_and_the_reader_goes_on(
    raw_pty: RawPty, pty_console: Console
) -> None:
    def broken(_line: str, _ts: float) -> None:
        raise RuntimeError("listener bug")

    pty_console.on_line(broken)
    raw_pty.send(b"one\r\ntwo\r\n")
    pty_console.expect("two")
    assert "line listener failed: RuntimeError('listener bug')" in log_text(pty_console)
    pty_console.unwatch_lines(broken)
