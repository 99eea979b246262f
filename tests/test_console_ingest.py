"""The guarantees of the console's flat-cost ingest: a waiting expect searches each read as it
comes and still finds patterns and escapes split across reads, looks back a bounded 64 KiB, keeps
memory bounded under a stream nothing matches, and gives up on time during a flood."""

from __future__ import annotations

import re
import threading
import time

import pytest

import pytest_vela.console.window as window_module
from pytest_vela.console.port import Console
from pytest_vela.errors import ExpectTimeout
from tests.support.console_logs import log_text, wait_for_log
from tests.support.ptys import RawPty


class _RecordingPattern:
    """A real pattern that reports the end of the text each search covered, so a test knows
    what the waiting ``expect`` has already searched."""

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self._regex = re.compile(pattern, flags)
        self.pattern = pattern
        self._cond = threading.Condition()
        self._ends: list[str] = []

    def search(self, text: str, pos: int = 0) -> re.Match[str] | None:
        with self._cond:
            self._ends.append(text[-16:])
            self._cond.notify_all()
        return self._regex.search(text, pos)

    def wait_searched(self, tail: str, bound: float = 10.0) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: any(e.endswith(tail) for e in self._ends), bound)


def _expect_in_thread(
    console: Console, pattern: object, timeout: float
) -> tuple[threading.Thread, list[object]]:
    result: list[object] = []

    def wait() -> None:
        try:
            result.append(console.expect(pattern, timeout))  # type: ignore[arg-type]
        except Exception as exc:  # reported by the test
            result.append(exc)

    waiter = threading.Thread(target=wait)
    waiter.start()
    return waiter, result


def test_a_pattern_split_across_reads_is_found(raw_pty: RawPty, pty_console: Console) -> None:
    pattern = _RecordingPattern(r"READY-(\d+)\r\n")
    waiter, result = _expect_in_thread(pty_console, pattern, 30)
    raw_pty.send(b"boot... REA")
    assert pattern.wait_searched("boot... REA")  # searched on its own, without the rest
    raw_pty.send(b"DY-4")
    assert pattern.wait_searched("REA" + "DY-4")
    raw_pty.send(b"2\r\n")
    waiter.join(35)
    match = result[0]
    assert isinstance(match, re.Match) and match.group(1) == "42"


def test_ansi_escapes_split_across_reads_are_stripped_for_a_waiting_expect(
    raw_pty: RawPty, pty_console: Console
) -> None:
    pattern = _RecordingPattern(r"state: (\w+) done")
    waiter, result = _expect_in_thread(pty_console, pattern, 30)
    raw_pty.send(b"state: \x1b[1")
    assert wait_for_log(pty_console, "state: \\x1b[1")
    raw_pty.send(b";3")
    assert wait_for_log(pty_console, "\\x1b[1;3")
    raw_pty.send(b"2mgreen\x1b[0")
    assert pattern.wait_searched("state: green")  # the half escape held back, not searched
    raw_pty.send(b"m done\r\n")
    waiter.join(35)
    match = result[0]
    assert isinstance(match, re.Match) and match.group(0) == "state: green done"


def test_expect_finds_text_that_arrived_long_before_the_call(
    raw_pty: RawPty, pty_console: Console
) -> None:
    body = b"".join(b"line %07d of the backlog\r\n" % i for i in range(40_000))  # ~1 MB
    writer = threading.Thread(target=raw_pty.send, args=(b"FIRST marker\r\n" + body,))
    writer.start()
    writer.join(60)
    assert wait_for_log(pty_console, "line 0039999 of the backlog")
    # A call for something else searches it all and fails; the next call still finds the
    # first line: each call searches everything after the previous match.
    with pytest.raises(ExpectTimeout):
        pty_console.expect("never printed", timeout=0.2)
    assert pty_console.expect(r"(\w+) marker").group(1) == "FIRST"
    assert pty_console.expect(r"line (\d+) of the backlog\r\n$").group(1) == "0039999"


def _send_seen(raw_pty: RawPty, pattern: _RecordingPattern, pieces: int, size: int) -> None:
    """Send ``pieces`` tagged pieces, each searched by the waiting expect before the next."""
    for n in range(pieces):
        tag = f"<{n:06d}>"
        raw_pty.send(("." * (size - len(tag)) + tag).encode())
        assert pattern.wait_searched(tag)


def test_a_match_spanning_up_to_64_kib_of_arriving_text_is_found(
    raw_pty: RawPty, pty_console: Console
) -> None:
    pattern = _RecordingPattern(r"BEGIN(.*?)END", re.S)
    waiter, result = _expect_in_thread(pty_console, pattern, 60)
    raw_pty.send(b"BEGIN")
    assert pattern.wait_searched("BEGIN")
    _send_seen(raw_pty, pattern, pieces=15, size=4000)  # 60 kB after BEGIN, searched piecewise
    raw_pty.send(b"END\r\n")
    waiter.join(65)
    match = result[0]
    assert isinstance(match, re.Match) and len(match.group(1)) == 60_000


def test_a_match_spanning_far_more_than_64_kib_of_arriving_text_is_not_looked_for(
    raw_pty: RawPty, pty_console: Console
) -> None:
    # The cost of a wake must not grow with the unmatched text, so a waiting expect looks
    # back only 64 KiB: BEGIN, a megabyte later, is out of its sight.
    pattern = _RecordingPattern(r"BEGIN(.*?)END|STOP", re.S)
    waiter, result = _expect_in_thread(pty_console, pattern, 120)
    raw_pty.send(b"BEGIN")
    assert pattern.wait_searched("BEGIN")
    _send_seen(raw_pty, pattern, pieces=64, size=16 * 1024)
    raw_pty.send(b"END\r\n")
    assert pattern.wait_searched("END\r\n")
    raw_pty.send(b"STOP\r\n")
    waiter.join(125)
    match = result[0]
    assert isinstance(match, re.Match) and match.group(0) == "STOP"


def test_memory_is_bounded_under_a_large_unmatched_stream(
    raw_pty: RawPty, pty_console: Console, monkeypatch: pytest.MonkeyPatch
) -> None:
    limit = 256 * 1024
    monkeypatch.setattr(window_module, "WINDOW_LIMIT", limit)
    last = threading.Event()
    pty_console.watch_lines("the last line", lambda _line, _ts: last.set())
    stream = b"".join(b"unmatched %08d ...........................\r\n" % i for i in range(80_000))
    writer = threading.Thread(target=raw_pty.send, args=(stream + b"the last line\r\n",))
    writer.start()
    writer.join(120)
    assert last.wait(60)
    held = pty_console._window._texts  # what memory holds, which no public call shows
    assert sum(len(text) for text in held) <= limit + 2 * 4096
    kept = pty_console.discard_pending()
    assert len(kept) <= limit
    assert kept.endswith("unmatched 00079999 ...........................\r\nthe last line\r\n")
    assert log_text(pty_console).count("unmatched ") == 80_000  # the log keeps everything


def test_expect_gives_up_at_its_timeout_during_a_flood_that_never_matches(
    raw_pty: RawPty, pty_console: Console
) -> None:
    stop = threading.Event()

    def flood() -> None:
        line = b"noise noise noise noise noise noise noise noise\r\n" * 100
        deadline = time.monotonic() + 60
        while not stop.is_set() and time.monotonic() < deadline:
            raw_pty.send(line)

    writer = threading.Thread(target=flood)
    writer.start()
    try:
        with pytest.raises(ExpectTimeout):
            pty_console.expect("never printed", timeout=0.5)
        assert writer.is_alive(), "expect returned only once the flood ended"
    finally:
        stop.set()
        writer.join(65)
