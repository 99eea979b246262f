"""The console log: every byte received, stamped with its host arrival time, and the harness's
own notes (commands sent, a port lost), in one file in arrival order.

A read is stamped as a whole: every line it completes or starts shares the time that read
returned, so stamping costs a few C-speed string operations per read, not a loop per line.
``\\r\\n`` is written as a line end, and so is ``\\r\\r\\n`` (NuttX behind a pty that adds a
``\\r`` to each ``\\n``); other control characters are written visibly (``\\x1b``), and bytes
that are not UTF-8 as ``\\xff``.
"""

from __future__ import annotations

import codecs
import contextlib
import re
import threading
import time
from pathlib import Path
from typing import IO

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_CONTROL_BYTES = bytes([*range(0x00, 0x09), *range(0x0B, 0x20), 0x7F])


def _visible(match: re.Match[str]) -> str:
    return f"\\x{ord(match.group()):02x}"


class ConsoleLog:
    """Append-only, flushed after every read, so the file holds everything up to the moment."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: IO[bytes] | None = None
        self._lock = threading.Lock()
        self._at_line_start = True
        # The "\r"s a read ends in may be followed by the "\n" of the same line end.
        self._held_cr = ""
        self._decoder = codecs.getincrementaldecoder("utf-8")("backslashreplace")
        self._second = -1  # the second whose "HH:MM:SS" is in _clock
        self._clock = ""

    def open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock:
            if self._file is None:
                self._file = self.path.open("ab")

    def close(self) -> None:
        with self._lock:
            self._release_cr()
            if self._file is not None:
                self._file.close()
                self._file = None

    def received(self, data: bytes, ts: float) -> None:
        """Bytes from the port, as one read returned them at host time ``ts``."""
        text = self._decoder.decode(data)
        with self._lock:
            if self._held_cr:
                text = self._held_cr + text
                self._held_cr = ""
            if text.endswith("\r"):
                kept = text.rstrip("\r")
                self._held_cr = text[len(kept) :]
                text = kept
            if text:
                self._write_stamped(text, ts)

    def release_held(self) -> None:
        """The port went quiet: a held ``\\r`` was no line end after all; write it."""
        with self._lock:
            self._release_cr()

    def _release_cr(self) -> None:
        if self._held_cr:
            held, self._held_cr = self._held_cr, ""
            self._write_stamped(held, time.time())

    def _write_stamped(self, text: str, ts: float) -> None:
        if "\r\r\n" in text:
            text = text.replace("\r\r\n", "\n")
        crs = text.count("\r")
        if crs:
            # Every "\r" ending a line (the usual case) is dropped faster than the pair replaced.
            pairs = text.count("\r\n")
            text = text.replace("\r", "") if pairs == crs else text.replace("\r\n", "\n")
        raw = text.encode()
        if len(raw.translate(None, _CONTROL_BYTES)) != len(raw):  # rare: a C-speed check
            raw = _CONTROL.sub(_visible, text).encode()
        mark = self._stamp(ts).encode()
        head = mark if self._at_line_start else b""
        if raw.endswith(b"\n"):
            # The next line's stamp is the time of the read that brings it, not this one.
            body = raw[:-1].replace(b"\n", b"\n" + mark) + b"\n"
            self._at_line_start = True
        else:
            body = raw.replace(b"\n", b"\n" + mark)
            self._at_line_start = False
        self._append(head + body)

    def note(self, message: str, direction: str = "#") -> None:
        """A line of the harness's own (a command sent, a port lost, a reset)."""
        with self._lock:
            self._release_cr()  # it arrived before the note
            prefix = b"" if self._at_line_start else b"\n"
            self._at_line_start = True
            self._append(prefix + f"{self._stamp(time.time())}{direction} {message}\n".encode())

    def _stamp(self, ts: float) -> str:
        """Host wall-clock time to the microsecond (the lock is held); the local time of day
        is worked out once a second."""
        second = int(ts)
        if second != self._second:
            self._second, self._clock = second, time.strftime("%H:%M:%S", time.localtime(second))
        return f"{self._clock}.{int((ts - second) * 1_000_000):06d} "

    def _append(self, data: bytes) -> None:
        if self._file is not None:
            self._file.write(data)
            self._file.flush()

    def mark(self) -> int:
        """A position in the log; ``text_since`` returns everything logged after it."""
        with self._lock:
            return self._file.tell() if self._file is not None else 0

    def text_since(self, mark: int) -> str:
        with contextlib.suppress(OSError), self.path.open("rb") as fh:
            fh.seek(mark)
            return fh.read().decode(errors="replace")
        return ""
