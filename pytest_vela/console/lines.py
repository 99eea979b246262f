"""Complete console lines for whoever wants them: every line, or only lines matching a pattern.

A read can end anywhere, even in the middle of ``PANIC!!!``, so listeners see whole lines
only. Each read's complete lines are handed on together, with the host time of the read that
completed them. A pattern is searched over all of those lines at once (C speed), after a
check for the literal text any match must contain, and only the lines it matches cost a
Python call, so watching for a rare marker costs next to nothing per byte.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import overload

from pytest_vela.console.needles import needles

LineListener = Callable[[str, float], None]
"""Called on the reader thread with a line (no line end: ``\\r\\n``, ``\\r\\r\\n`` or ``\\n``) and
the host time it arrived."""

LINE_LIMIT = 8192  # a longer line is handed on in pieces of at least this much


@dataclass(frozen=True)
class LineEvent:
    """A line seen on the console, with the host time it arrived."""

    ts: float
    line: str


class MarkerLog(Sequence[LineEvent]):
    """The lines a marker pattern matched, in arrival order; ``record`` is the listener."""

    def __init__(self) -> None:
        self._events: list[LineEvent] = []

    def record(self, line: str, ts: float) -> None:
        self._events.append(LineEvent(ts, line.strip()))

    def __len__(self) -> int:
        return len(self._events)

    @overload
    def __getitem__(self, index: int) -> LineEvent: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[LineEvent]: ...

    def __getitem__(self, index: int | slice) -> LineEvent | Sequence[LineEvent]:
        return self._events[index]

    def __repr__(self) -> str:
        return f"MarkerLog({self._events!r})"


@dataclass(frozen=True)
class _Listener:
    listener: LineListener
    regex: re.Pattern[str] | None  # None: every line
    needles: tuple[str, ...] | None  # one of them is in any text the regex matches


class LineSplitter:
    """Cuts the text stream into lines and calls the listeners; fed by the reader thread."""

    def __init__(self, on_error: Callable[[str], None]) -> None:
        self._on_error = on_error
        self._partial = ""  # the unfinished last line
        # Replaced, never changed in place: the reader iterates it while tests add to it.
        self._listeners: tuple[_Listener, ...] = ()
        self._lock = threading.Lock()

    def add(self, listener: LineListener, pattern: str | re.Pattern[str] | None = None) -> None:
        """Call ``listener`` with each complete line, or with each line ``pattern`` matches."""
        regex = re.compile(pattern) if isinstance(pattern, str) else pattern
        entry = _Listener(listener, regex, needles(regex) if regex is not None else None)
        with self._lock:
            self._listeners = (*self._listeners, entry)

    def remove(self, listener: LineListener) -> None:
        with self._lock:
            self._listeners = tuple(e for e in self._listeners if e.listener != listener)

    def feed(self, text: str, ts: float) -> None:
        pending = self._partial + text if self._partial else text
        cut = pending.rfind("\n") + 1
        if len(pending) - cut >= LINE_LIMIT:
            cut = len(pending)  # a very long line: hand on what there is
        self._partial = pending[cut:]
        if cut == 0:
            return
        block = pending[:cut] if cut < len(pending) else pending
        for entry in self._listeners:
            if entry.regex is None:
                self._each_line(block, ts, entry.listener)
            elif _may_match(block, entry.needles):
                self._matching_lines(block, ts, entry.regex, entry.listener)

    def _each_line(self, block: str, ts: float, listener: LineListener) -> None:
        lines = block.split("\n")
        if block.endswith("\n"):
            lines.pop()
        for line in lines:
            self._call(listener, line.rstrip("\r"), ts)

    def _matching_lines(
        self, block: str, ts: float, regex: re.Pattern[str], listener: LineListener
    ) -> None:
        pos = 0
        while pos < len(block):
            match = regex.search(block, pos)
            if match is None:
                return
            start = block.rfind("\n", 0, match.start()) + 1
            end = block.find("\n", max(match.start(), match.end() - 1))
            if end < 0:
                end = len(block)
            self._call(listener, block[start:end].rstrip("\r"), ts)
            pos = end + 1  # one call per line, however many matches it holds

    def _call(self, listener: LineListener, line: str, ts: float) -> None:
        try:
            listener(line, ts)
        except Exception as exc:  # a listener's bug must not stop the reader
            self._on_error(f"line listener failed: {exc!r}")


def _may_match(block: str, found: tuple[str, ...] | None) -> bool:
    if found is None:
        return True
    return any(needle in block for needle in found)
