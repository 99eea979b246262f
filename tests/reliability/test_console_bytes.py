"""Property: whatever bytes arrive on the console — line noise, half escapes, invalid UTF-8,
NULs, bare carriage returns, lines that look like crashes, app errors or agent mirror lines —
the reader goes on, every byte is in the log, and a marker the device writes after the noise is
found; also when the harness dropped the noise (as it does before each command) and the marker
follows at once, as a command's echo does.

Each example runs on a real pty read by a real ``Console`` with the line listeners a session
registers on it: the watch's crash, boot and app-error markers and the agent client's mirror.
A listener that raises is noted in the log, so the byte-exact check of the log catches it too.
"""

from __future__ import annotations

import contextlib
import itertools
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from pytest_vela.common.loop import LoopThread
from pytest_vela.console.port import Console
from pytest_vela.device.watch import Watch
from pytest_vela.link.trace import LinkTrace
from pytest_vela.peer.bridge import BridgeClient
from pytest_vela.peer.watch_end import AgentEnd
from pytest_vela.rigfile.loader import Rig
from pytest_vela.rigfile.schema import BleSettings
from tests.support.ptys import RawPty
from tests.support.rigs import fast_sim_settings

PROPERTY = settings(max_examples=200, deadline=None)
STAMP = re.compile(r"\d\d:\d\d:\d\d\.\d{6} ")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
WAIT = 10.0  # seconds for bytes already written to be read; they take microseconds

TOKENS = [
    *(b"\x1b", b"\x1b[", b"\x1b]", b"\x1b[0m", b"\x1b[1;3", b"\x1b]0;", b"\x1b\\", b"\x07"),
    *(b"[", b"]", b";", b"0", b"?", b" ", b"m", b"x", b"\t"),
    *(b"\r", b"\n", b"\r\n", b"\x00", b"\x7f", b"\xff", b"\xc3", b"\xe4\xb8", b"\xf0\x9f\x98"),
    *(b"nsh> ", b"\x1b[K", b"\r\r\n", b"dump_assert_info: Assertion failed ", b"PANIC!!! "),
    *(b"NuttShell (NSH)", b"[ERROR] [JS] Uncaught Error: x\n"),
    *(b"[ERROR] [JS]     at f (a.js:1:1)\n", b"VELA-AGENT ", b'{"t":"evt","seq":1,'),
    *(b'"kind":"open","ts":1}', b'"ts":1e400}', b"VELA-AGENT " + b"[" * 8000),
]
noise = st.binary(max_size=600) | st.lists(
    st.sampled_from(TOKENS) | st.binary(max_size=6), max_size=30
).map(b"".join)
# What a half-received escape sequence looks like when the noise stops.
half_escapes = st.sampled_from(
    [b"\x1b", b"\x1b[", b"\x1b[1;3", b"\x1b[?25", b"\x1b[ ", b"\x1b]0;t"]
)
markers = (f"VELA-MARK-{n}" for n in itertools.count())


class NoPower:
    def hard_reset(self) -> None:
        raise AssertionError("nothing here resets the watch")


@pytest.fixture(scope="module")
def loop() -> Iterator[LoopThread]:
    thread = LoopThread("console-bytes")
    yield thread
    thread.stop()


@contextlib.contextmanager
def listened_console(loop: LoopThread) -> Iterator[tuple[RawPty, Console, list[str]]]:
    """A pty, the Console reading it with a session's line listeners, and every complete line
    the console handed on."""
    pty = RawPty()
    with tempfile.TemporaryDirectory() as tmp:
        console = Console(pty.path, 921600, Path(tmp) / "console.log").open()
        try:
            Watch(Rig("noise", fast_sim_settings(), None), console, NoPower())
            bridge = BridgeClient(BleSettings(name="Vela-noise"), loop, LinkTrace())
            AgentEnd(bridge).follow_console(console)
            lines: list[str] = []
            console.on_line(lambda line, _ts: lines.append(line))
            yield pty, console, lines
        finally:
            console.close()
            pty.close()


def logged(data: bytes) -> str:
    """What the log holds of ``data``, stamps aside: UTF-8 with the bytes that are not as
    ``\\xff``, ``\\r\\n`` and ``\\r\\r\\n`` as a line end, other control characters (a lone
    ``\\r`` too) as ``\\x1b``."""
    text = data.decode("utf-8", "backslashreplace").replace("\r\r\n", "\n").replace("\r\n", "\n")
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def device_log(console: Console, mark: int) -> str:
    """The log since ``mark`` without the stamp each line begins with; lines without one are
    kept whole, so that they show in a failed comparison."""
    rows = console.text_since(mark).split("\n")
    return "\n".join(
        row[16:] if STAMP.match(row) else f"<no stamp> {row}" if row else "" for row in rows
    )


@pytest.mark.filterwarnings("error::pytest.PytestUnhandledThreadExceptionWarning")
@PROPERTY
@given(noise)
@example(b"VELA-AGENT " + b"[" * 8000 + b"\n")
@example(b"\x1b[12")
@example(b"\r" * 300 + b"\xe4")
def test_noise_never_stops_the_reader_and_every_byte_is_logged(
    loop: LoopThread, noise: bytes
) -> None:
    with listened_console(loop) as (pty, console, lines):
        mark = console.mark()
        marker = next(markers)
        sent = noise + f"\r\n{marker}\r\n".encode()
        pty.send(sent)
        console.expect(re.escape(marker), timeout=WAIT)
        console.wait_until(lambda: device_log(console, mark) == logged(sent), WAIT)
        assert device_log(console, mark) == logged(sent)
        assert console.bytes_received == len(sent)
        assert marker in lines  # listeners got it as a line of its own
        assert not console.lost


@pytest.mark.filterwarnings("error::pytest.PytestUnhandledThreadExceptionWarning")
@PROPERTY
@given(noise, half_escapes)
@example(b"", b"\x1b[1;3")
@example(b"", b"\x1b")
def test_text_after_dropped_noise_is_found_whole(
    loop: LoopThread, noise: bytes, half_escape: bytes
) -> None:
    """``Watch.shell`` drops what is pending, then sends its command and waits for the echo.
    Noise that ended in a half escape must not eat the start of that echo."""
    with listened_console(loop) as (pty, console, _):
        through, seen, marker, end = (next(markers) for _ in range(4))
        # The noise, and a line that shows it has been read (noise may make no text at all).
        pty.send(noise + f"\r\n{through}\r\n".encode())
        console.expect(re.escape(through), timeout=WAIT)
        # One short write, read at once: when its text is seen, its half escape is held.
        pty.send(f"\r\n{seen}".encode() + half_escape)
        assert console.wait_until(lambda: seen in console.recent, WAIT)
        console.discard_pending()
        pty.send(f"{marker}\r\n{end}\r\n".encode())
        # The marker whole, or else the line after it: a marker cut short is seen at once.
        found = console.expect(f"{re.escape(marker)}|{re.escape(end)}", timeout=WAIT)
        assert found.group(0) == marker, console.recent
