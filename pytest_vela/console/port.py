"""The serial console: one reader thread from open to close (``reader``), a timestamped log of
every byte (``log``), pexpect-like ``expect`` woken by arriving data (``window``), and complete
lines for listeners (``lines``). This module routes each read to them.

Everything received is logged. Text (ANSI escapes stripped, even when split across reads) goes
to the expect window and the line listeners, except while a binary transfer owns the line
(``raw()``): then the bytes go to the transfer, and are still logged. What a line means (a
crash, a finished boot) is for the console's users to say, with ``watch_lines``.
"""

from __future__ import annotations

import codecs
import contextlib
import errno
import re
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import serial

from pytest_vela.common.byte_queue import ByteQueue
from pytest_vela.console.ansi import AnsiStripper
from pytest_vela.console.lines import LineListener, LineSplitter
from pytest_vela.console.log import ConsoleLog
from pytest_vela.console.prompt import SETTLE_S, prompt_regex
from pytest_vela.console.reader import PortReader, open_port
from pytest_vela.console.window import ExpectWindow
from pytest_vela.errors import SerialLost, shown_path


class RawChannel(ByteQueue):
    """Bytes diverted from the console while a binary transfer (YMODEM) owns the line."""

    def __init__(self, console: Console) -> None:
        super().__init__(check=console.raise_if_lost)
        self._console = console

    def write(self, data: bytes | bytearray, timeout: float | None = 1.0) -> int:
        self._console.write(bytes(data), log=False)
        return len(data)


class Console:
    """A serial console opened with ``serial_for_url``; see the module docstring."""

    def __init__(self, url: str, baud: int, log_path: Path, *, newline: str = "\r") -> None:
        self.url = url
        self.baud = baud
        self.log_path = log_path
        self.newline = newline
        self.bytes_received = 0
        self.last_input = time.time()  # when the last bytes arrived (host clock)
        self.last_output = 0.0  # when the last bytes were written to the device (host clock)
        self._log = ConsoleLog(log_path)
        self._lines = LineSplitter(on_error=self.note)
        self._window = ExpectWindow(log_path, self.raise_if_lost)
        self._serial: serial.SerialBase | None = None
        self._reader: PortReader | None = None
        self._error: SerialLost | None = None
        # Whether text or a transfer gets the bytes is decided under this lock, so no byte
        # goes to a channel nobody reads any more, and text keeps its order around a transfer.
        self._route = threading.RLock()
        self._raw: RawChannel | None = None
        self._tests_begun = 0  # ``begin`` calls: tests that ran on this console
        self._stripper = AnsiStripper()
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")

    # --- life cycle -----------------------------------------------------------------------

    def open(self) -> Console:
        self._log.open()
        try:
            self._serial = open_port(self.url, self.baud)
        except SerialLost:
            self._log.close()
            raise
        self._error = None
        self.note(f"opened {self.url} at {self.baud} baud")
        self._reader = PortReader(
            self._serial,
            f"console:{self.url}",
            on_data=self._ingest,
            on_drained=self._window.publish,
            on_idle=self._idle,
            on_lost=self._lose,
        )
        self._reader.start()
        return self

    def close(self) -> None:
        self._stop_reading()
        self._log.close()

    def reopen(self) -> None:
        """Open the same port again after it vanished (a replugged cable)."""
        self._stop_reading()
        self.open()

    def _stop_reading(self) -> None:
        port, self._serial = self._serial, None
        reader, self._reader = self._reader, None
        if reader is not None:
            reader.stop()
        if port is not None:
            with contextlib.suppress(Exception):
                port.close()

    @property
    def log_shown(self) -> str:
        """The log's path as messages name it (relative to the project)."""
        return shown_path(self.log_path)

    @property
    def recent(self) -> str:
        """The last characters received, matched or not, for error messages."""
        return self._window.recent

    @property
    def lost(self) -> bool:
        return self._error is not None

    def raise_if_lost(self) -> None:
        if self._error is not None:
            raise self._error

    def _lose(self, exc: BaseException) -> None:
        self.note(f"port lost: {exc}")
        self._error = SerialLost(
            f"serial port {self.url} vanished or failed ({exc}); "
            f"the console log up to that moment is kept at {self.log_shown}"
        )
        self._window.wake()
        if self._raw is not None:
            self._raw.feed(b"")

    # --- what the reader hands on ------------------------------------------------------------

    def _ingest(self, data: bytes, ts: float) -> None:
        self.bytes_received += len(data)
        self.last_input = ts
        with self._route:  # logged and routed together: ``begin`` cuts between two reads
            self._log.received(data, ts)
            if self._raw is not None:
                self._raw.feed(data)
            else:
                self._to_text(data, ts)

    def _to_text(self, data: bytes, ts: float) -> None:
        text = self._stripper.feed(self._decoder.decode(data))
        if text:
            self._lines.feed(text, ts)
            self._window.feed(text, self._stripper.erased)

    def _idle(self) -> None:
        """The line is idle: what was held back for a next read (a half escape that line
        noise left, a ``\\r`` that was no line end) is handed on."""
        self._log.release_held()
        with self._route:
            if self._raw is None:
                held = self._stripper.flush()
                if held:
                    self._lines.feed(held, time.time())
                    self._window.feed(held)
                    self._window.publish()

    # --- lines -------------------------------------------------------------------------------

    def watch_lines(self, pattern: str | re.Pattern[str], listener: LineListener) -> None:
        """Call ``listener(line, ts)`` on the reader thread for each complete line that
        ``pattern`` matches, with the host time it arrived (a ``MarkerLog``'s ``record``
        keeps them). Lines that do not match cost no Python call."""
        self._lines.add(listener, pattern)

    def on_line(self, listener: LineListener) -> None:
        """Call ``listener(line, ts)`` on the reader thread for every complete line."""
        self._lines.add(listener)

    def unwatch_lines(self, listener: LineListener) -> None:
        """Stop calling ``listener`` (given to ``watch_lines`` or ``on_line``)."""
        self._lines.remove(listener)

    # --- log -----------------------------------------------------------------------------------

    def note(self, message: str, direction: str = "#") -> None:
        """A line of the harness's own in the log (a command sent, a port lost, a reset)."""
        self._log.note(message, direction)

    def mark(self) -> int:
        """A position in the log; ``text_since`` returns everything logged after it."""
        return self._log.mark()

    def text_since(self, mark: int) -> str:
        return self._log.text_since(mark)

    def begin(self, title: str) -> int:
        """A test begins: note ``title`` in the log and return the log position where the
        test's console starts (for ``text_since``). From the second test on, ``expect`` sees
        only what arrives after this: the unmatched text earlier tests left is dropped,
        between two reads, so no line an earlier test caused can satisfy this test's
        ``expect``. The first test keeps what the session's start-up printed (an app launched
        then leaves its start-up lines for it)."""
        with self._route:
            if self._tests_begun:
                self._stripper.flush()
                self._window.discard()
            self._tests_begun += 1
            mark = self._log.mark()
            self._log.note(title)
            return mark

    # --- writing -------------------------------------------------------------------------------

    def write(self, data: bytes, log: bool = True) -> None:
        self.raise_if_lost()
        port = self._serial
        if port is None:
            raise SerialLost(f"serial port {self.url} is closed; log: {self.log_shown}")
        if log:
            self.note(data.decode(errors="backslashreplace").rstrip("\r\n"), ">")
        try:
            port.write(data)
            self.last_output = time.time()
        except (serial.SerialException, OSError) as exc:
            self._lose(exc)
            self.raise_if_lost()

    def set_dtr(self, active: bool) -> None:
        """Drive the DTR line (wired to reset on many boards); a pty raises ENOTTY."""
        port = self._serial
        if port is None:
            raise OSError(errno.ENOTTY, f"{self.url} is not open")
        port.dtr = active

    def write_line(self, text: str) -> None:
        """Send ``text`` and the rig's newline, as if typed at the prompt."""
        self.write((text + self.newline).encode())

    # --- matching ------------------------------------------------------------------------------

    def expect(self, pattern: str | re.Pattern[str], timeout: float = 10.0) -> re.Match[str]:
        """Wait for ``pattern`` in the text that arrived after the previous match (output that
        came before the call included); ``ExpectTimeout`` names the pattern, the last
        characters seen and the log. One match spans at most 64 KiB of the text that arrives
        while it waits."""
        regex = re.compile(pattern) if isinstance(pattern, str) else pattern
        return self._window.expect(regex, timeout)

    def expect_prompt(self, prompt: str, timeout: float = 10.0) -> re.Match[str]:
        """Wait for the shell's own ``prompt``: at a line start, and followed by an erase to the
        end of the line or by nothing while the line stays quiet (``console/prompt.py``).
        Prompt-like text in a command's output is passed over; the match's ``string`` up to
        its start is that output."""
        return self._window.expect(prompt_regex(prompt), timeout, at_rest=SETTLE_S)

    def wait_until(self, ready: Callable[[], bool], timeout: float) -> bool:
        """Wait, woken by arriving data, until ``ready()`` holds (say, a marker line seen);
        returns whether it did within ``timeout`` seconds."""
        return self._window.wait_until(ready, timeout)

    def wait_quiet(self, quiet: float, limit: float) -> bool:
        """Wait at least ``quiet`` seconds, until nothing has arrived for that long (at most
        ``limit``): output the device had on its way is in by then. Whether the line went
        quiet in time."""
        deadline = time.monotonic() + limit
        since = time.time()
        while (idle := time.time() - max(self.last_input, since)) < quiet:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            time.sleep(min(quiet - idle, left))
        return True

    def discard_pending(self) -> str:
        """Drop unmatched text (before sending a command); return what was dropped. A half
        escape sequence held back for the next read goes too: what comes next (the command's
        echo) cannot complete it, and would lose its first character to it."""
        with self._route:
            held = self._stripper.flush()
            return self._window.discard() + held

    @contextlib.contextmanager
    def raw(self) -> Iterator[RawChannel]:
        """Divert incoming bytes to a binary channel (still logged) for a file transfer."""
        channel = RawChannel(self)
        with self._route:
            self._raw = channel
        try:
            yield channel
        finally:
            with self._route:
                self._raw = None
                self._decoder.reset()
                # What the device printed right after the transfer belongs to the text stream.
                rest = channel.take_rest()
                if rest:
                    self._to_text(rest, time.time())
                self._window.publish()
