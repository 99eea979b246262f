"""The serial console: one reader thread from open to close, a timestamped log of every byte,
and pexpect-like ``expect`` woken by arriving data.

The reader never uses ``readline()`` and never sleeps between reads: it blocks in
``read(in_waiting or 1)``, which returns as soon as bytes arrive, so nothing is lost or truncated
when no test is reading. Its read gives up after 0.25 s of silence only to notice a close and to
release a half escape sequence that line noise left pending. Everything received is logged;
``expect`` searches what arrived after its previous match (ANSI escapes stripped), so output
that came before the call is found; as text keeps arriving it searches only the new text and the
64 KiB before it, so one match spans at most that much of what arrives while it waits.
"""

from __future__ import annotations

import codecs
import contextlib
import errno
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO

import serial

from pytest_vela.common.byte_queue import ByteQueue
from pytest_vela.console.ansi import AnsiStripper
from pytest_vela.errors import ExpectTimeout, SerialLost

SEARCH_OVERLAP = 64 * 1024
WINDOW_LIMIT = 8 * 1024 * 1024
RECENT_CHARS = 200
MARKER_LINE_LIMIT = 8192
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


@dataclass(frozen=True)
class CrashEvent:
    """A crash marker seen on the console, with the host time it arrived."""

    ts: float
    line: str


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

    def __init__(
        self,
        url: str,
        baud: int,
        log_path: Path,
        crash_pattern: str | None = None,
        newline: str = "\r",
        boot_pattern: str | None = None,
    ) -> None:
        self.url = url
        self.baud = baud
        self.log_path = log_path
        self.newline = newline
        self.crashes: list[CrashEvent] = []
        self._crash_re = re.compile(crash_pattern) if crash_pattern else None
        self.boots: list[float] = []  # host times the boot-done marker arrived
        self._marker_line = ""  # the unfinished line, for marker scanning
        # Called on the reader thread with each complete line and its arrival time.
        self.line_listeners: list[Callable[[str, float], None]] = []
        self._boot_re = re.compile(boot_pattern) if boot_pattern else None
        self._serial: serial.SerialBase | None = None
        self._thread: threading.Thread | None = None
        self._cond = threading.Condition()
        self._window = ""  # text not yet consumed by a match
        self._chunks: list[str] = []  # arrived since the window was last joined
        self._searched = 0  # window offset searched up to, for incremental search
        self._error: SerialLost | None = None
        self._stop = threading.Event()
        self._raw: RawChannel | None = None
        self._log: IO[bytes] | None = None
        self._log_lock = threading.RLock()
        self._at_line_start = True
        self._stripper = AnsiStripper()
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self._log_decoder = codecs.getincrementaldecoder("utf-8")("backslashreplace")
        self.bytes_received = 0
        self._recent = ""  # the last characters received, matched or not, for error messages

    # --- life cycle -----------------------------------------------------------------------

    def open(self) -> Console:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        if self._log is None:
            self._log = self.log_path.open("ab")
        try:
            # A stuck USB adapter can block a write forever: bound it where the transport allows
            # (RFC 2217 ports refuse a write timeout).
            options = {} if "://" in self.url else {"write_timeout": 10}
            self._serial = serial.serial_for_url(
                self.url, baudrate=self.baud, timeout=0.25, **options
            )
        except (serial.SerialException, OSError, ValueError) as exc:
            with self._log_lock:
                self._log.close()
                self._log = None
            raise SerialLost(f"cannot open serial port {self.url}: {exc}") from None
        self._error = None
        self._stop.clear()
        self.note(f"opened {self.url} at {self.baud} baud")
        self._thread = threading.Thread(
            target=self._read_loop, name=f"console:{self.url}", daemon=True
        )
        self._thread.start()
        return self

    def close(self) -> None:
        self._stop.set()
        port, self._serial = self._serial, None
        if port is not None:
            with contextlib.suppress(Exception):
                port.cancel_read()
        if self._thread is not None:
            self._thread.join(2)
            self._thread = None
        if port is not None:
            with contextlib.suppress(Exception):
                port.close()
        with self._log_lock:
            if self._log is not None:
                self._log.close()
                self._log = None

    def reopen(self) -> None:
        """Open the same port again after it vanished (a replugged cable)."""
        port, self._serial = self._serial, None
        if self._thread is not None:
            self._stop.set()
            self._thread.join(2)
        if port is not None:
            with contextlib.suppress(Exception):
                port.close()
        self.open()

    @property
    def recent(self) -> str:
        """The last characters received, matched or not, for error messages."""
        return self._recent

    @property
    def lost(self) -> bool:
        return self._error is not None

    def raise_if_lost(self) -> None:
        if self._error is not None:
            raise self._error

    # --- reader ------------------------------------------------------------------------------

    def _read_loop(self) -> None:
        port = self._serial
        assert port is not None
        while not self._stop.is_set():
            try:
                data = port.read(port.in_waiting or 1)
            except (serial.SerialException, OSError, TypeError, AttributeError) as exc:
                if not self._stop.is_set():
                    self._lose(exc)
                return
            if data:
                self._ingest(data, time.time())
            elif self._raw is None:
                self._release_held()

    def _release_held(self) -> None:
        """The line is idle: a half escape held back by the stripper was noise; hand it on."""
        held = self._stripper.flush()
        if held:
            with self._cond:
                self._chunks.append(held)
                self._recent = (self._recent + held)[-RECENT_CHARS:]
                self._cond.notify_all()

    def _lose(self, exc: BaseException) -> None:
        self.note(f"port lost: {exc}")
        with self._cond:
            self._error = SerialLost(
                f"serial port {self.url} vanished or failed ({exc}); "
                f"the console log up to that moment is kept at {self.log_path}"
            )
            self._cond.notify_all()
        if self._raw is not None:
            self._raw.feed(b"")

    def _ingest(self, data: bytes, ts: float) -> None:
        self.bytes_received += len(data)
        self._write_log(data, ts)
        # Decided under the lock that raw() swaps the channel under, so no byte goes to a
        # channel nobody reads any more, and text keeps its order around a transfer.
        with self._cond:
            if self._raw is not None:
                self._raw.feed(data)
            else:
                self._to_text(data, ts)

    def _to_text(self, data: bytes, ts: float) -> None:
        text = self._stripper.feed(self._decoder.decode(data))
        self._scan_lines(text, ts)
        with self._cond:
            self._chunks.append(text)
            self._recent = (self._recent + text)[-RECENT_CHARS:]
            self._cond.notify_all()

    def _scan_lines(self, text: str, ts: float) -> None:
        """Crash and boot markers and line listeners see whole lines: a read can end anywhere,
        even in the middle of ``PANIC!!!``."""
        if self._crash_re is None and self._boot_re is None and not self.line_listeners:
            return
        pending = self._marker_line + text
        cut = pending.rfind("\n") + 1
        if cut == 0 and len(pending) < MARKER_LINE_LIMIT:
            self._marker_line = pending
            return
        if cut == 0:
            cut = len(pending)  # a very long line: scan what there is
        lines, self._marker_line = pending[:cut], pending[cut:]
        if self._crash_re is not None:
            for match in self._crash_re.finditer(lines):
                start = lines.rfind("\n", 0, match.start()) + 1
                end = lines.find("\n", match.end())
                self.crashes.append(
                    CrashEvent(ts, lines[start : end if end >= 0 else None].strip())
                )
        if self._boot_re is not None:
            self.boots.extend(ts for _ in self._boot_re.finditer(lines))
        for listener in self.line_listeners:
            for line in lines.splitlines():
                try:
                    listener(line, ts)
                except Exception as exc:  # a listener's bug must not stop the reader
                    self.note(f"line listener failed: {exc!r}")

    # --- log -----------------------------------------------------------------------------------

    def _write_log(self, data: bytes, ts: float) -> None:
        text = self._log_decoder.decode(data).replace("\r\n", "\n")
        text = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)
        stamp = _stamp(ts)
        with self._log_lock:  # the test thread's notes share the line-start state
            out: list[str] = []
            for piece in text.splitlines(keepends=True):
                if self._at_line_start:
                    out.append(stamp)
                out.append(piece)
                self._at_line_start = piece.endswith("\n")
            self._log_append("".join(out))

    def note(self, message: str, direction: str = "#") -> None:
        """A line of the harness's own in the log (a command sent, a port lost, a reset)."""
        with self._log_lock:
            prefix = "" if self._at_line_start else "\n"
            self._at_line_start = True
            self._log_append(f"{prefix}{_stamp(time.time())}{direction} {message}\n")

    def _log_append(self, text: str) -> None:
        with self._log_lock:
            if self._log is not None:
                self._log.write(text.encode())
                self._log.flush()

    def mark(self) -> int:
        """A position in the log; ``text_since`` returns everything logged after it."""
        with self._log_lock:
            return self._log.tell() if self._log is not None else 0

    def text_since(self, mark: int) -> str:
        with contextlib.suppress(OSError), self.log_path.open("rb") as fh:
            fh.seek(mark)
            return fh.read().decode(errors="replace")
        return ""

    # --- writing -------------------------------------------------------------------------------

    def write(self, data: bytes, log: bool = True) -> None:
        self.raise_if_lost()
        port = self._serial
        if port is None:
            raise SerialLost(f"serial port {self.url} is closed; log: {self.log_path}")
        if log:
            self.note(data.decode(errors="backslashreplace").rstrip("\r\n"), ">")
        try:
            port.write(data)
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

    def _join(self) -> None:
        if self._chunks:
            self._window += "".join(self._chunks)
            self._chunks.clear()
            if len(self._window) > WINDOW_LIMIT:
                cut = len(self._window) - WINDOW_LIMIT
                self._window = self._window[cut:]
                self._searched = max(0, self._searched - cut)

    def expect(self, pattern: str | re.Pattern[str], timeout: float = 10.0) -> re.Match[str]:
        """Wait for ``pattern`` in the text that arrived after the previous match."""
        regex = re.compile(pattern) if isinstance(pattern, str) else pattern
        deadline = time.monotonic() + timeout
        while True:
            with self._cond:
                self._join()
                window = self._window
                start = max(0, self._searched - SEARCH_OVERLAP)
            # Search without the lock: a slow pattern must never stall the reader, or the
            # port's buffer overflows and bytes are lost.
            match = regex.search(window, start)
            with self._cond:
                if match:
                    self._window = self._window[match.end() :]
                    self._searched = 0
                    return match
                self._searched = len(window)
                self.raise_if_lost()
                if self._chunks:
                    continue  # arrived while searching
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise ExpectTimeout(regex.pattern, timeout, self._recent, self.log_path)
                self._cond.wait(remaining)

    def wait_until(self, ready: Callable[[], bool], timeout: float) -> bool:
        """Wait, woken by arriving data, until ``ready()`` holds (say, a marker line seen);
        returns whether it did within ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not ready():
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._error is not None:
                    return ready()
                self._cond.wait(remaining)
            return True

    def discard_pending(self) -> str:
        """Drop unmatched text (before sending a command); return what was dropped."""
        with self._cond:
            self._join()
            dropped, self._window, self._searched = self._window, "", 0
            return dropped

    @contextlib.contextmanager
    def raw(self) -> Iterator[RawChannel]:
        """Divert incoming bytes to a binary channel (still logged) for a file transfer."""
        channel = RawChannel(self)
        with self._cond:
            self._raw = channel
        try:
            yield channel
        finally:
            with self._cond:
                self._raw = None
                self._decoder.reset()
                # What the device printed right after the transfer belongs to the text stream.
                rest = channel.take_rest()
                if rest:
                    self._to_text(rest, time.time())


def _stamp(ts: float) -> str:
    return datetime.fromtimestamp(ts).strftime("%H:%M:%S.%f ")
