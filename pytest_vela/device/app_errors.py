"""Uncaught JavaScript errors of the watch's apps, read from the console.

A watch's JS engine prints an uncaught error as one marker line (``serial.app_error_marker``,
by default ``[JS] Uncaught …``) followed by its stack, one ``at …`` line per frame, each behind
the log's own prefix::

    [   12.345678] [ERROR] [JS] Uncaught Error: poison message
    [   12.345678] [ERROR] [JS]     at Object.onmessage (pages/index/index.js:42:13)

``AppErrors`` is a console line listener that keeps each error with its stack, in order.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field

# A stack line: the log's bracketed prefix (time, level, tag), then "at …".
_STACK_LINE = re.compile(r"^(?:\s*\[[^\]]*\])*\s+at\s")


@dataclass
class AppError:
    """One uncaught error: its marker line, the stack lines after it, the host time it came."""

    ts: float
    line: str
    stack: list[str] = field(default_factory=list)

    def render(self) -> str:
        return "\n".join([self.line, *self.stack])


class AppErrors:
    """Fed with console lines (``console.on_line``); ``errors`` in arrival order."""

    def __init__(self, marker: str) -> None:
        self._marker = re.compile(marker)
        self._lock = threading.Lock()
        self._open: AppError | None = None
        self.errors: list[AppError] = []

    def __call__(self, line: str, ts: float) -> None:
        text = line.rstrip("\r")
        with self._lock:
            if self._marker.search(text):
                self._open = AppError(ts, text.strip())
                self.errors.append(self._open)
            elif self._open is not None and _STACK_LINE.match(text):
                self._open.stack.append(text.strip())
            else:
                self._open = None

    def since(self, count: int) -> list[AppError]:
        with self._lock:
            return list(self.errors[count:])
