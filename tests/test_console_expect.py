"""The console's expect over real ptys with unmodified pyserial, a pty the test drives byte by
byte: it finds what arrived before the call or while it waits, sees through ANSI escapes and line
noise, never stalls the reader, and gives up naming what it saw; then the real conversation with
the simulated watch."""

from __future__ import annotations

import re
import threading
from typing import cast

import pytest

from pytest_vela.console.ansi import AnsiStripper, strip_ansi
from pytest_vela.console.port import Console
from pytest_vela.console.window import RECENT_CHARS
from pytest_vela.errors import ExpectTimeout
from tests.support.console_logs import log_text, wait_for_log
from tests.support.ptys import RawPty


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
        assert wait_for_log(pty_console, "one")
        raw_pty.send(b"two\r\n")
        assert wait_for_log(pty_console, "two"), "the reader stopped while expect searched"
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


def test_write_line_sends_the_rig_newline_and_logs_the_command(
    raw_pty: RawPty, pty_console: Console
) -> None:
    pty_console.write_line("ls /data")
    received = b""
    while not received.endswith(b"\r"):
        received += raw_pty.read_host_output()
    assert received == b"ls /data\r"
    assert re.search(r"^\S+ > ls /data$", log_text(pty_console), re.M)


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
