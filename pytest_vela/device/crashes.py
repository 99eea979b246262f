"""Crashes of the watch: which ones a test asked for, and which ones fail it.

A crash that arrives while an ``expecting()`` block is open (``with watch.expect_crash():``) is
the test's own doing; any other is unexpected, and ``failure`` makes it the ``WatchCrashed``
that fails what was running — the one rule the watch's shell and the plugin's judge both apply.
After either kind, the watch is brought back to a ready shell before anything else is sent.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import overload

from pytest_vela.console.lines import LineEvent, MarkerLog
from pytest_vela.console.port import Console
from pytest_vela.errors import ExpectTimeout, WatchCrashed, as_consequence


@dataclass
class ExpectedCrash:
    """What ``expect_crash`` saw: the crash marker's line and its host arrival time."""

    line: str = ""
    ts: float = 0.0


class CrashLog(Sequence[LineEvent]):
    """The crash markers seen on one console, in arrival order, and which were expected."""

    def __init__(self, console: Console, pattern: str) -> None:
        self.console = console
        self.pattern = pattern
        self._seen = MarkerLog()
        self._expecting = 0  # expect_crash blocks open
        self._expected: set[int] = set()
        self._lock = threading.Lock()
        console.watch_lines(pattern, self._record)

    def _record(self, line: str, ts: float) -> None:
        with self._lock:
            self._seen.record(line, ts)
            if self._expecting:
                self._expected.add(len(self._seen) - 1)

    def __len__(self) -> int:
        return len(self._seen)

    @overload
    def __getitem__(self, index: int) -> LineEvent: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[LineEvent]: ...

    def __getitem__(self, index: int | slice) -> LineEvent | Sequence[LineEvent]:
        return self._seen[index]

    @property
    def last(self) -> LineEvent | None:
        return self._seen[-1] if self._seen else None

    def wait_for_one_after(self, before: int, timeout: float) -> LineEvent:
        """The first crash after the first ``before`` ones, arriving within ``timeout``;
        ``ExpectTimeout`` (a product failure: the watch did not crash) otherwise."""
        console = self.console
        if not console.wait_until(lambda: len(self._seen) > before, timeout):
            raise ExpectTimeout(self.pattern, timeout, console.recent, console.log_path)
        return self._seen[before]

    @contextlib.contextmanager
    def expecting(self) -> Iterator[int]:
        """A block that provokes a crash: every crash seen until it ends is expected. Yields
        the number of crashes seen before it."""
        with self._lock:
            before = len(self._seen)
            self._expecting += 1
        try:
            yield before
        finally:
            with self._lock:
                self._expecting -= 1
                self._expected.update(range(before, len(self._seen)))

    def unexpected_since(self, start: int) -> list[LineEvent]:
        with self._lock:
            return [c for i, c in enumerate(self._seen[start:], start) if i not in self._expected]

    def failure(
        self,
        start: int,
        consequence: BaseException | None = None,
        during: str = "during this test",
    ) -> WatchCrashed | None:
        """The ``WatchCrashed`` of the first crash since ``start`` that nobody expected, with
        what then failed as its consequence; None without one."""
        found = self.unexpected_since(start)
        if not found:
            return None
        crash = found[0]
        text = f"the watch crashed {during}: {crash.line!r}{as_consequence(consequence)}"
        more = f" ({len(found)} crashes)" if len(found) > 1 else ""
        error = WatchCrashed(f"{text}{more}\nfull console log: {self.console.log_path}")
        error.line = crash.line
        return error
