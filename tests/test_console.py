"""The console over real ptys with unmodified pyserial: a pty the test drives byte by byte for
edge cases, and the simulated watch for the real conversation."""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path
from typing import cast

import pytest

import pytest_vela.console.window as window_module
from pytest_vela.console.ansi import AnsiStripper, strip_ansi
from pytest_vela.console.lines import LineListener, MarkerLog
from pytest_vela.console.port import Console
from pytest_vela.console.window import RECENT_CHARS
from pytest_vela.errors import ExpectTimeout, SerialLost, shown_path
from pytest_vela.rig.sim_process import SimulatorProcess
from pytest_vela.wire.control import ControlOp
from tests.support.ptys import RawPty

STAMP = re.compile(r"^\d\d:\d\d:\d\d\.\d{6} ", re.M)


def log_text(console: Console) -> str:
    return console.log_path.read_text()


def test_every_byte_is_logged_with_its_host_arrival_time(
    raw_pty: RawPty, pty_console: Console
) -> None:
    raw_pty.send(b"first line\r\nsecond ")
    pty_console.expect("second")
    raw_pty.send(b"half\r\nthird\r\n")
    pty_console.expect("third")
    lines = log_text(pty_console).splitlines()
    stamped = [STAMP.sub("", line) for line in lines if STAMP.match(line)]
    device = [line for line in stamped if not line.startswith(("# ", "> "))]
    assert device == ["first line", "second half", "third"]
    assert stamped[0].startswith(f"# opened {pty_console.url}")


def test_expect_finds_output_that_arrived_before_the_call_and_consumes_it(
    raw_pty: RawPty, pty_console: Console
) -> None:
    raw_pty.send(b"value=1\nvalue=2\n")
    assert pty_console.expect(r"value=(\d)").group(1) == "1"
    assert pty_console.expect(r"value=(\d)").group(1) == "2"
    with pytest.raises(ExpectTimeout):
        pty_console.expect(r"value=(\d)", timeout=0.3)


def test_expect_is_woken_by_data_that_arrives_while_it_waits(
    raw_pty: RawPty, pty_console: Console
) -> None:
    result: dict[str, object] = {}

    def wait() -> None:
        try:
            result["match"] = pty_console.expect(r"ready (\w+)", timeout=30)
        except Exception as exc:  # reported below
            result["error"] = exc

    waiter = threading.Thread(target=wait)
    waiter.start()
    raw_pty.send(b"noise\r\n")
    raw_pty.send(b"ready now\r\n")
    waiter.join(35)
    assert not waiter.is_alive()
    assert "error" not in result, result.get("error")
    match = result["match"]
    assert isinstance(match, re.Match) and match.group(1) == "now"


def test_matching_sees_text_with_ansi_escapes_stripped_even_when_split(
    raw_pty: RawPty, pty_console: Console
) -> None:
    raw_pty.send(b"\x1b[1;32mOK\x1b[0m: all \x1b[")
    raw_pty.send(b"33mgreen\x1b]0;title\x07 here\r\n")
    assert pty_console.expect(r"OK: all green here").group(0) == "OK: all green here"
    # The log keeps the raw escapes as evidence (ESC written visibly).
    assert "\\x1b[1;32mOK" in log_text(pty_console)


def test_invalid_utf8_and_nul_bytes_do_not_stop_the_reader(
    raw_pty: RawPty, pty_console: Console
) -> None:
    raw_pty.send(b"bad \xff\xfe\xc3 bytes \x00\x00 and NULs\r\n")
    raw_pty.send("after: żółw ✓\r\n".encode())
    assert pty_console.expect(r"after: (\S+) ✓").group(1) == "żółw"
    log = log_text(pty_console)
    assert "bad \\xff\\xfe\\xc3 bytes \\x00\\x00 and NULs" in log
    assert "after: żółw ✓" in log


def test_a_very_long_line_is_received_whole(raw_pty: RawPty, pty_console: Console) -> None:
    body = b"0123456789abcdef" * (3 * 1024 * 1024 // 16)  # 3 MiB, no newline
    writer = threading.Thread(target=raw_pty.send, args=(body + b"<END>\r\n",))
    writer.start()
    match = pty_console.expect(r"(f0123456789abcdef)<END>", timeout=60)
    writer.join(60)
    assert match.group(1) == "f0123456789abcdef"
    assert pty_console.bytes_received == len(body) + 7
    log = log_text(pty_console)
    assert log.count("0123456789abcdef") == len(body) // 16


class _BlockedSearch:
    """A pattern whose search stalls until released, like a catastrophic regex on a big window."""

    pattern = "blocked"

    def __init__(self) -> None:
        self.searching = threading.Event()
        self.release = threading.Event()

    def search(self, text: str, pos: int = 0) -> re.Match[str] | None:
        self.searching.set()
        self.release.wait(30)
        return re.compile("two").search(text, pos)


def _wait_for_log(console: Console, text: str, bound: float = 10.0) -> bool:
    deadline = time.monotonic() + bound
    while time.monotonic() < deadline:
        if text in console.log_path.read_text():
            return True
        time.sleep(0.01)
    return False


def test_a_slow_expect_never_stalls_the_reader(raw_pty: RawPty, pty_console: Console) -> None:
    pattern = _BlockedSearch()
    # Duck-typed: expect uses only a pattern's ``search`` and ``pattern``, which it has.
    regex = cast(re.Pattern[str], pattern)
    result: list[object] = []
    waiter = threading.Thread(target=lambda: result.append(pty_console.expect(regex, 30)))
    waiter.start()
    try:
        assert pattern.searching.wait(10)
        raw_pty.send(b"one\r\n")
        assert _wait_for_log(pty_console, "one")
        raw_pty.send(b"two\r\n")
        assert _wait_for_log(pty_console, "two"), "the reader stopped while expect searched"
    finally:
        pattern.release.set()
        waiter.join(35)
    assert isinstance(result[0], re.Match) and result[0].group(0) == "two"


def test_expect_timeout_names_pattern_recent_text_and_log(
    raw_pty: RawPty, pty_console: Console
) -> None:
    tail = "".join(f"line {i}\r\n" for i in range(100))
    raw_pty.send(tail.encode())
    pty_console.expect("line 99")
    with pytest.raises(ExpectTimeout) as err:
        pty_console.expect(r"never (here)", timeout=0.3)
    exc = err.value
    assert exc.pattern == r"never (here)"
    assert exc.log_path == pty_console.log_path
    assert len(exc.seen) == RECENT_CHARS
    assert exc.seen.endswith("line 98\r\nline 99\r\n")
    assert "never (here)" in str(exc)
    assert pty_console.log_shown in str(exc)
    assert "line 99" in str(exc)
    assert isinstance(exc, AssertionError)


def test_a_port_that_vanishes_raises_serial_lost_at_the_next_use_and_keeps_the_log(
    raw_pty: RawPty, pty_console: Console
) -> None:
    raw_pty.send(b"last words\r\n")
    pty_console.expect("last words")
    raw_pty.vanish()
    # A long timeout: the loss must end the wait, not the clock.
    with pytest.raises(SerialLost) as err:
        pty_console.expect("anything", timeout=60)
    assert pty_console.url in str(err.value)
    assert pty_console.log_shown in str(err.value)
    with pytest.raises(SerialLost):
        pty_console.write_line("help")
    log = log_text(pty_console)
    assert "last words" in log
    assert "port lost" in log


def test_opening_a_missing_port_is_a_serial_lost(tmp_path: Path) -> None:
    console = Console(str(tmp_path / "ttyNOPE"), 921600, tmp_path / "c.log")
    with pytest.raises(SerialLost, match="cannot open serial port"):
        console.open()
    console.close()


def test_write_line_sends_the_rig_newline_and_logs_the_command(
    raw_pty: RawPty, pty_console: Console
) -> None:
    pty_console.write_line("ls /data")
    received = b""
    while not received.endswith(b"\r"):
        received += raw_pty.read_host_output()
    assert received == b"ls /data\r"
    assert re.search(r"^\S+ > ls /data$", log_text(pty_console), re.M)


def test_watched_lines_are_recorded_with_their_whole_line(
    raw_pty: RawPty, pty_console: Console
) -> None:
    crashes = MarkerLog()
    pty_console.watch_lines(r"PANIC!!!", crashes.record)
    raw_pty.send(b"booting\r\n[  1.0] PANIC!!! Assertion failed at sched.c\r\nrebooting\r\n")
    pty_console.expect("rebooting")
    assert [c.line for c in crashes] == ["[  1.0] PANIC!!! Assertion failed at sched.c"]


def test_mark_and_text_since_slice_the_log(raw_pty: RawPty, pty_console: Console) -> None:
    raw_pty.send(b"before\r\n")
    pty_console.expect("before")
    mark = pty_console.mark()
    raw_pty.send(b"during\r\n")
    pty_console.expect("during")
    since = pty_console.text_since(mark)
    assert "during" in since
    assert "before" not in since


def test_raw_channel_takes_bytes_and_hands_the_rest_back_to_text(
    raw_pty: RawPty, pty_console: Console
) -> None:
    with pty_console.raw() as channel:
        raw_pty.send(b"\x06\x15C")
        assert channel.read(3, timeout=10) == b"\x06\x15C"
        raw_pty.send(b"transfer complete\r\n")
        assert channel.read(1, timeout=10) == b"t"
    assert pty_console.expect("ransfer complete")


def test_discard_pending_drops_unmatched_text(raw_pty: RawPty, pty_console: Console) -> None:
    raw_pty.send(b"stale prompt nsh> \r\n")
    pty_console.expect("stale")
    assert "nsh> " in pty_console.discard_pending()
    with pytest.raises(ExpectTimeout):
        pty_console.expect("nsh> ", timeout=0.2)


def test_dropped_noise_that_ended_in_a_half_escape_leaves_the_next_text_whole(
    raw_pty: RawPty, pty_console: Console
) -> None:
    # Line noise stopped inside "ESC [ 1 2": the shell's next echo must not complete it.
    raw_pty.send(b"noise\x1b[12")
    assert pty_console.wait_until(lambda: "noise" in pty_console.recent, timeout=10)
    assert pty_console.discard_pending() == "noise\x1b[12"
    raw_pty.send(b"echo hi\r\nhi\r\n")
    assert pty_console.expect(r"\S* hi\r\n").group(0) == "echo hi\r\n"


# --- against the simulated watch --------------------------------------------------------


def test_console_talks_to_the_simulated_shell(sim_console: Console) -> None:
    sim_console.discard_pending()
    sim_console.write_line("echo ping-42")
    assert sim_console.expect(r"\r\nping-(\d+)\r\n").group(1) == "42"
    sim_console.expect("nsh> ")


def test_sim_flood_arrives_complete_and_in_order(sim_console: Console) -> None:
    sim_console.discard_pending()
    sim_console.write_line("flood 3000 64")
    sim_console.expect(r"flood 3000 64\r\n")
    prompt = sim_console.expect("nsh> ", timeout=60)
    lines = prompt.string[: prompt.start()].split("\r\n")[:-1]
    assert [int(line[:10]) for line in lines] == list(range(3000))
    assert {len(line) for line in lines} == {63}  # WIDTH counts the newline


def test_sim_unplug_then_reopen_on_the_stable_path(
    simulated_watch: SimulatorProcess, sim_console: Console
) -> None:
    simulated_watch.control(ControlOp.UNPLUG)
    with pytest.raises(SerialLost):
        sim_console.expect("never", timeout=30)
    simulated_watch.control(ControlOp.REPLUG)
    sim_console.reopen()
    sim_console.write_line("echo back")
    sim_console.expect(r"\r\nback\r\n", timeout=10)


def test_line_noise_that_opens_an_escape_does_not_hide_the_prompt(
    raw_pty: RawPty, pty_console: Console
) -> None:
    # Random bytes often end inside an unterminated "ESC ]": the prompt after it must appear.
    raw_pty.send(b"\x9c\x01garbage\x1b]0;x\xfe")
    raw_pty.send(b"echo hi\r\nhi\r\nnsh> ")
    match = pty_console.expect(r"\r\nhi\r\nnsh> $", timeout=30)
    assert match.group(0) == "\r\nhi\r\nnsh> "


def test_ansi_stripper_holds_only_real_escape_starts() -> None:
    stripper = AnsiStripper()
    assert stripper.feed("a\x1b[3") == "a"
    assert stripper.feed("1mred\x1b[0m") == "red"
    assert stripper.feed("x\x1b]0;title") == "x"
    assert stripper.feed("\x07y") == "y"
    # An OSC never spans lines: what follows a line end is not swallowed.
    assert stripper.feed("z\x1b]junk\r\nnsh> ").endswith("junk\r\nnsh> ")
    assert stripper.feed("tail\x1b]0;never ended") == "tail"
    assert stripper.flush() == "\x1b]0;never ended"
    assert stripper.flush() == ""
    assert strip_ansi("\x1b[1;32mOK\x1b[0m \x1bMup") == "OK up"


def test_markers_split_across_reads_are_still_seen(raw_pty: RawPty, pty_console: Console) -> None:
    crashes, boots = MarkerLog(), MarkerLog()
    pty_console.watch_lines(r"PANIC!!!", crashes.record)
    pty_console.watch_lines("booting completed", boots.record)
    for part in (b"[ 0.2] booting comp", b"leted\r\nnsh> PAN", b"IC!!! at sched.c\r\nok\r\n"):
        raw_pty.send(part)
        assert _wait_for_log(pty_console, part.decode().splitlines()[-1].strip())
    pty_console.expect("ok")
    assert [b.line for b in boots] == ["[ 0.2] booting completed"]
    assert [c.line for c in crashes] == ["nsh> PANIC!!! at sched.c"]


# --- the guarantees of flat-cost ingest ---------------------------------------------------------


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
    assert _wait_for_log(pty_console, "state: \\x1b[1")
    raw_pty.send(b";3")
    assert _wait_for_log(pty_console, "\\x1b[1;3")
    raw_pty.send(b"2mgreen\x1b[0")
    assert pattern.wait_searched("state: green")  # the half escape held back, not searched
    raw_pty.send(b"m done\r\n")
    waiter.join(35)
    match = result[0]
    assert isinstance(match, re.Match) and match.group(0) == "state: green done"


def test_every_line_is_logged_with_a_stamp_however_the_reads_fall(
    raw_pty: RawPty, pty_console: Console
) -> None:
    burst = b"".join(b"burst %03d\r\n" % i for i in range(200))  # one or a few reads
    raw_pty.send(burst + b"unix line\nsplit line end\r")
    assert _wait_for_log(pty_console, "split line end")
    raw_pty.send(b"\nbell \x07 and tab\there\r\n")
    pty_console.expect("here")
    device = [
        STAMP.sub("", line)
        for line in log_text(pty_console).splitlines()
        if not STAMP.sub("", line).startswith("# ")
    ]
    assert all(STAMP.match(line) for line in log_text(pty_console).splitlines())
    assert device == [
        *(f"burst {i:03d}" for i in range(200)),
        "unix line",
        "split line end",  # its "\r\n" came in two reads: still one line end
        "bell \\x07 and tab\there",
    ]


def test_a_lone_carriage_return_is_logged_visibly_once_the_line_goes_quiet(
    raw_pty: RawPty, pty_console: Console
) -> None:
    raw_pty.send(b"progress 50%\r")
    assert _wait_for_log(pty_console, "progress 50%\\x0d")


def test_expect_finds_text_that_arrived_long_before_the_call(
    raw_pty: RawPty, pty_console: Console
) -> None:
    body = b"".join(b"line %07d of the backlog\r\n" % i for i in range(40_000))  # ~1 MB
    writer = threading.Thread(target=raw_pty.send, args=(b"FIRST marker\r\n" + body,))
    writer.start()
    writer.join(60)
    assert _wait_for_log(pty_console, "line 0039999 of the backlog")
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


def test_line_listeners_see_only_complete_lines(raw_pty: RawPty, pty_console: Console) -> None:
    lines: list[tuple[str, float]] = []
    pty_console.on_line(lambda line, ts: lines.append((line, ts)))
    raw_pty.send(b"par")
    assert _wait_for_log(pty_console, "par")
    raw_pty.send(b"tial\r")
    assert _wait_for_log(pty_console, "partial")
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


def test_messages_name_a_path_as_the_project_sees_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert shown_path(tmp_path / "reports" / "sim" / "console.log") == "reports/sim/console.log"
    assert shown_path(Path("reports/sim/console.log")) == "reports/sim/console.log"
    assert shown_path(Path("/var/log/watch.log")) == "/var/log/watch.log"  # outside: whole
