"""Crashes of the watch: which ones a test asked for, and which ones fail it.

A crash that arrives while an ``expecting()`` block is open (``with watch.expect_crash():``) is
the test's own doing; any other is unexpected, and ``failure`` makes it the ``WatchCrashed``
that fails what was running — the one rule the watch's shell and the plugin's judge both apply.
After either kind, the watch is brought back to a ready shell before anything else is sent.

Each crash keeps its evidence (``reports``, ``device.crash_report``): every line it printed and
its backtrace, decoded with the rig's ``firmware.elf``; a ``WatchCrashed`` carries it in its
message and as ``.report``. A crash can also be learnt of elsewhere than on the console
(``record_external``: a process rig's program that ended on its own).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import overload

from pytest_vela.console.lines import LineEvent, MarkerLog
from pytest_vela.console.port import Console
from pytest_vela.device.crash_report import CRASH_QUIET_S, CrashCollector, CrashReport
from pytest_vela.device.symbols import Symbols
from pytest_vela.errors import ExpectTimeout, WatchCrashed, as_consequence

CRASH_OUTPUT_WAIT = 5.0  # seconds a failure waits at most for a crash's output to end


@dataclass
class ExpectedCrash:
    """What ``expect_crash`` saw: the crash marker's line, its host arrival time, and its
    evidence (``report.lines``, ``report.frames``)."""

    line: str = ""
    ts: float = 0.0
    report: CrashReport | None = None


class CrashLog(Sequence[LineEvent]):
    """The crash markers seen on one console, in arrival order, and which were expected."""

    def __init__(
        self,
        console: Console,
        pattern: str,
        *,
        boot_marker: str | None = None,
        prompt: str | None = None,
        elf: Path | None = None,
    ) -> None:
        self.console = console
        self.pattern = pattern
        self._seen = MarkerLog()
        self._expecting = 0  # expect_crash blocks open
        self._expected: set[int] = set()
        self._lock = threading.Lock()
        #: Each crash's evidence, in the order of the crashes.
        self.reports: list[CrashReport] = []
        self._symbols = Symbols(elf) if elf is not None else None
        self._collector = CrashCollector(boot_marker, prompt, elf, self._opened)
        # The marker's listener first: the every-line one then knows where a crash starts.
        console.watch_lines(pattern, self._collector.marker)
        console.on_line(self._collector.follow)

    def _opened(self, report: CrashReport) -> None:
        with self._lock:
            self.reports.append(report)
            self._seen.record(report.line, report.ts)
            if self._expecting:
                self._expected.add(len(self._seen) - 1)

    def record_external(self, line: str, ts: float | None = None) -> CrashReport:
        """A crash learnt of elsewhere than on the console (``line`` says what happened,
        e.g. that the watch's program ended on its own): it counts as any crash does."""
        report = self._collector.external(line, time.time() if ts is None else ts)
        self._opened(report)
        return report

    def evidence(self, index: int, wait: float = CRASH_OUTPUT_WAIT) -> CrashReport:
        """Crash ``index``'s evidence once its output has ended (at most ``wait`` seconds
        on), its backtrace decoded."""
        report = self.reports[index]
        deadline = time.monotonic() + wait
        while not report.over() and (left := deadline - time.monotonic()) > 0:
            self.console.wait_until(report.over, min(left, CRASH_QUIET_S))
        report.decode(self._symbols)
        return report

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

    def unexpected_since(self, start: int) -> list[int]:
        """The crashes since ``start`` that nobody expected, by their index."""
        with self._lock:
            return [i for i in range(start, len(self._seen)) if i not in self._expected]

    def failure(
        self,
        start: int,
        consequence: BaseException | None = None,
        during: str = "during this test",
    ) -> WatchCrashed | None:
        """The ``WatchCrashed`` of the first crash since ``start`` that nobody expected, with
        its evidence and what then failed as its consequence; None without one."""
        found = self.unexpected_since(start)
        if not found:
            return None
        crash = self._seen[found[0]]
        report = self.evidence(found[0])
        text = f"the watch crashed {during}: {crash.line!r}{as_consequence(consequence)}"
        more = f" ({len(found)} crashes)" if len(found) > 1 else ""
        error = WatchCrashed(
            f"{text}{more}\n{report.render()}\nfull console log: {self.console.log_shown}"
        )
        error.line = crash.line
        error.report = report
        return error
