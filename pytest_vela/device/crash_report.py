"""A crash's evidence, as the firmware team needs it: every line the crash printed, and its
backtrace decoded into function and file:line.

NuttX prints a crash as a burst of lines, each behind the name of the function that printed
it (the assertion, the registers, the tasks, one ``sched_dumpstack: backtrace| <pid>: 0x…``
line per few frames)::

    dump_assert_info: Current Version: NuttX  0.0.0 0 Dec  4 2026 14:24:02 sim
    dump_assert_info: Assertion failed rtcb && rtcb->lockcount > 0: at file: sched/sched_unl…
    sched_dumpstack: backtrace| 4: 0x00000000400747b4 0x0000000040073be4 …

A crash starts at a line the rig's crash marker matches (with the lines just before it that
the same function printed), takes every following line, and ends with the first of: a boot
marker line (the watch rebooted), a line that starts with the prompt (its shell answers
again), or the console going quiet for ``CRASH_QUIET_S``. More marker lines inside one crash
(NuttX's markers match several of its lines) belong to that crash. A crash keeps at most
``CRASH_LINES`` lines.
"""

from __future__ import annotations

import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pytest_vela.device.symbols import Frame, SymbolError, Symbols

CRASH_QUIET_S = 0.3
CRASH_LINES = 400
_BEFORE = 4  # lines kept to find the ones that lead up to a marker line
_BACKTRACE = re.compile(r"backtrace\|\s*(?:\d+:)?((?:\s*0x[0-9A-Fa-f]+)+)")
_PRINTER = re.compile(r"^\s*(\w+):\s")  # "dump_assert_info: …" -> dump_assert_info


def backtrace_addresses(lines: list[str]) -> list[int]:
    """The addresses of a crash's ``backtrace|`` lines, in order."""
    found: list[int] = []
    for line in lines:
        match = _BACKTRACE.search(line)
        if match is not None:
            found.extend(int(word, 16) for word in match.group(1).split())
    return found


@dataclass
class CrashReport:
    """One crash: its marker line, the host time it came, every line it printed."""

    ts: float
    line: str
    lines: list[str] = field(default_factory=list)
    last_ts: float = 0.0
    ended: bool = False  # by a boot line, a prompt, or an external event
    elf: Path | None = None
    _frames: list[Frame] | None = None
    decode_error: str | None = None

    def __post_init__(self) -> None:
        self.last_ts = self.last_ts or self.ts

    def over(self, now: float | None = None) -> bool:
        """Whether its output has ended (or gone quiet)."""
        return self.ended or (now or time.time()) - self.last_ts >= CRASH_QUIET_S

    @property
    def addresses(self) -> list[int]:
        return backtrace_addresses(self.lines)

    @property
    def frames(self) -> list[Frame]:
        """The backtrace, decoded with ``firmware.elf`` (undecoded without one)."""
        return self._frames if self._frames is not None else [Frame(a) for a in self.addresses]

    def decode(self, symbols: Symbols | None) -> None:
        if symbols is None or self._frames is not None or not self.addresses:
            return
        try:
            self._frames = symbols.decode(self.addresses)
        except SymbolError as exc:
            self.decode_error = str(exc)

    def render(self) -> str:
        """The crash's lines, then its backtrace frame by frame."""
        text = [f"crash output ({len(self.lines)} lines):", *(f"  {ln}" for ln in self.lines)]
        frames = self.frames
        if frames:
            if self._frames is not None and self.elf is not None:
                how = f"decoded with firmware.elf {self.elf.name}"
            elif self.decode_error:
                how = f"not decoded: {self.decode_error}"
            else:
                how = "not decoded: set firmware.elf in the rig file to see functions and lines"
            text.append(f"backtrace ({len(frames)} frames, {how}):")
            text += [f"  #{i:<2} {frame.render()}" for i, frame in enumerate(frames)]
        return "\n".join(text)


class CrashCollector:
    """Gathers each crash's lines from the console. ``marker`` is the crash marker's line
    listener, registered before ``follow``, the every-line listener: the marker lines it
    notes are where ``follow``, taking the lines in order, opens a crash (or, while one is
    still open, finds another line of it)."""

    def __init__(
        self,
        boot_marker: str | None,
        prompt: str | None,
        elf: Path | None,
        opened: Callable[[CrashReport], None],
    ) -> None:
        self._boot = re.compile(boot_marker) if boot_marker else None
        self._prompt = prompt.strip() if prompt and prompt.strip() else None
        self._elf = elf
        self._opened = opened
        self._lock = threading.Lock()
        self._open: CrashReport | None = None
        self._markers: deque[str] = deque()  # marker lines that follow has not reached yet
        self._before: deque[str] = deque(maxlen=_BEFORE)

    def marker(self, line: str, ts: float) -> None:
        with self._lock:
            self._markers.append(line.strip())

    def external(self, line: str, ts: float) -> CrashReport:
        """A crash learnt of elsewhere (a process rig's program that ended on its own)."""
        report = CrashReport(ts, line, [line], ended=True, elf=self._elf)
        with self._lock:
            self._close()
        return report

    def follow(self, line: str, ts: float) -> None:
        if self._open is None and not self._markers:
            self._before.append(line)
            return
        with self._lock:
            opened = self._follow(line.strip(), ts)
        if opened is not None:
            self._opened(opened)

    def _follow(self, text: str, ts: float) -> CrashReport | None:
        report = self._open
        is_marker = bool(self._markers) and text == self._markers[0]
        if is_marker:
            self._markers.popleft()
        if report is not None and (report.over(ts) or self._ends(text)):
            self._close()
            report = None
        if report is None and not is_marker:
            self._before.append(text)
        elif report is None:
            report = CrashReport(ts, text, [*self._lead_up(text), text], elf=self._elf)
            self._open = report
            return report
        elif text:  # an empty line inside a crash carries nothing
            if len(report.lines) < CRASH_LINES:
                report.lines.append(text)
            report.last_ts = ts
        return None

    def _ends(self, text: str) -> bool:
        if self._prompt is not None and text.startswith(self._prompt):
            return True
        return self._boot is not None and self._boot.search(text) is not None

    def _close(self) -> None:
        if self._open is not None:
            self._open.ended = True
        self._open = None
        self._before.clear()

    def _lead_up(self, marker: str) -> list[str]:
        """The lines just before a marker line that the same function printed (NuttX's
        ``dump_assert_info: Current Version …`` before its ``… Assertion failed …``), a
        prompt they came after left out."""
        printer = _PRINTER.match(marker)
        if printer is None:
            return []
        lead: list[str] = []
        for earlier in reversed(self._before):
            text = earlier.strip()
            if self._prompt is not None:
                text = text.removeprefix(self._prompt).strip()
            found = _PRINTER.match(text)
            if found is None or found.group(1) != printer.group(1):
                break
            lead.insert(0, text)
        return lead
