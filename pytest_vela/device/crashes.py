"""Crashes of the watch: which ones a test asked for, and which ones fail it.

A panic a test did not ask for fails it as ``WatchCrashed``; a panic inside
``with watch.expect_crash():`` is the test's own doing and does not. After either, the watch is
brought back to a ready shell before anything else is sent to it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import overload

from pytest_vela.console.lines import LineEvent, MarkerLog
from pytest_vela.console.port import Console
from pytest_vela.errors import ExpectTimeout, WatchCrashed


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
        self._expected: set[int] = set()
        console.watch_lines(pattern, self._seen.record)

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

    def expect(self, before: int) -> None:
        """Every crash after the first ``before`` is the test's own doing."""
        self._expected.update(range(before, len(self._seen)))

    def unexpected_since(self, start: int) -> list[LineEvent]:
        return [c for i, c in enumerate(self._seen[start:], start) if i not in self._expected]

    def failure(self, start: int, consequence: BaseException | None = None) -> WatchCrashed | None:
        """The ``WatchCrashed`` of the first crash since ``start`` that no test expected, with
        what the test then raised as its consequence; None without one."""
        found = self.unexpected_since(start)
        if not found:
            return None
        crash = found[0]
        text = f"the watch crashed during this test: {crash.line!r}"
        if consequence is not None:
            text += (
                f"\nthen, as a consequence: {type(consequence).__name__}: "
                f"{str(consequence).splitlines()[0] if str(consequence) else ''}"
            )
        more = f" ({len(found)} crashes)" if len(found) > 1 else ""
        error = WatchCrashed(f"{text}{more}\nfull console log: {self.console.log_path}")
        error.line = crash.line
        return error
