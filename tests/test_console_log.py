"""The console's log as the evidence of a run: every byte the watch sent, each line stamped
with its host arrival time, whatever the bytes and however the reads fall; and slices of it."""

from __future__ import annotations

import threading

from pytest_vela.console.port import Console
from tests.support.console_logs import STAMP, log_text, wait_for_log
from tests.support.ptys import RawPty


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


def test_mark_and_text_since_slice_the_log(raw_pty: RawPty, pty_console: Console) -> None:
    raw_pty.send(b"before\r\n")
    pty_console.expect("before")
    mark = pty_console.mark()
    raw_pty.send(b"during\r\n")
    pty_console.expect("during")
    since = pty_console.text_since(mark)
    assert "during" in since
    assert "before" not in since


def test_every_line_is_logged_with_a_stamp_however_the_reads_fall(
    raw_pty: RawPty, pty_console: Console
) -> None:
    burst = b"".join(b"burst %03d\r\n" % i for i in range(200))  # one or a few reads
    raw_pty.send(burst + b"unix line\nsplit line end\r")
    assert wait_for_log(pty_console, "split line end")
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
    assert wait_for_log(pty_console, "progress 50%\\x0d")
