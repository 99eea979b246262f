"""The timeline of interconnect events a test asserts on.

Events are kept for the whole test, in arrival order, and never removed: ``wait_for`` hands
out each event at most once (so two waits for "open" see two opens) without hiding it from
``assert_order`` or iteration. Failures print the whole timeline.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, fields
from datetime import datetime

from pytest_vela.errors import EventTimeout
from pytest_vela.peer.steps import CallStep, no_step

KINDS = ("open", "message", "close", "error")


@dataclass(frozen=True)
class Event:
    """One callback the watch app received: ``onopen``, ``onmessage``, ``onclose``, ``onerror``.

    ``ts`` is on the host clock (``time.time()``), mapped from the watch's own timestamp
    ``watch_ts`` (ms) when the watch sent one; ``received`` is when the harness got it.
    """

    kind: str
    ts: float
    data: str | None = None
    code: int | None = None
    is_reconnected: bool | None = None
    seq: int = 0
    watch_ts: float | None = None
    received: float = 0.0


_FIELDS = {f.name for f in fields(Event)}


class EventLog:
    def __init__(self, started: float | None = None) -> None:
        self.started = time.time() if started is None else started
        self._events: list[Event] = []
        self._handed_out: set[int] = set()
        self._cond = threading.Condition()
        self._step: CallStep = no_step
        # The last assert_order that failed: (the expected kinds, how many of them matched).
        self.order_failure: tuple[list[str], int] | None = None

    def report_steps(self, step: CallStep) -> None:
        """Wrap each ``wait_for`` and ``assert_order`` in a step of the report."""
        self._step = step

    def append(self, event: Event) -> None:
        with self._cond:
            self._events.append(event)
            self._cond.notify_all()

    def wait_for(self, kind: str, timeout: float = 10.0, **match: object) -> Event:
        """The earliest event of ``kind`` (with these field values) that no earlier
        ``wait_for`` returned, already here or arriving within ``timeout`` seconds."""
        __tracebackhide__ = True
        _check_kind(kind)
        unknown = set(match) - _FIELDS
        if unknown:
            raise TypeError(f"Event has no field(s) {sorted(unknown)}; fields: {sorted(_FIELDS)}")
        wanted = kind + "".join(f", {k}={v!r}" for k, v in match.items())
        params = {
            "kind": kind,
            "timeout": f"{timeout:g} s",
            **{k: repr(v) for k, v in match.items()},
        }
        with self._step(f"events.wait_for({wanted}, timeout={timeout:g} s)", params) as outcome:
            event = self._wait_for(kind, timeout, match)
            outcome(f"#{event.seq} {event.kind} at {(event.ts - self.started) * 1000:+.1f} ms")
            return event

    def _wait_for(self, kind: str, timeout: float, match: dict[str, object]) -> Event:
        __tracebackhide__ = True
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for index, event in enumerate(self._events):
                    if index in self._handed_out or event.kind != kind:
                        continue
                    if all(getattr(event, k) == v for k, v in match.items()):
                        self._handed_out.add(index)
                        return event
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    wanted = kind + "".join(f", {k}={v!r}" for k, v in match.items())
                    raise EventTimeout(
                        f"no {wanted} event within {timeout:g} s\n{self._timeline()}"
                    )
                self._cond.wait(remaining)

    def assert_order(self, kinds: list[str]) -> None:
        """The kinds occur in this order (other events may come between them)."""
        __tracebackhide__ = True
        for kind in kinds:
            _check_kind(kind)
        with self._step(f"events.assert_order({kinds})", {"kinds": kinds}) as outcome:
            self._assert_order(kinds)
            outcome("in order")

    def _assert_order(self, kinds: list[str]) -> None:
        __tracebackhide__ = True
        with self._cond:
            seen = [e.kind for e in self._events]
            position = 0
            for kind in seen:
                if position < len(kinds) and kind == kinds[position]:
                    position += 1
            if position < len(kinds):
                self.order_failure = (list(kinds), position)
                raise AssertionError(
                    f"expected events in order {kinds}; matched {kinds[:position]} and "
                    f"then no {kinds[position]!r}\n{self._timeline()}"
                )

    def kinds(self) -> list[str]:
        with self._cond:
            return [e.kind for e in self._events]

    def __iter__(self) -> Iterator[Event]:
        with self._cond:
            return iter(list(self._events))

    def __len__(self) -> int:
        with self._cond:
            return len(self._events)

    def timeline(self) -> str:
        with self._cond:
            return self._timeline()

    def _timeline(self) -> str:
        if not self._events:
            return "timeline: (no events since the test began)"
        rows = ["timeline (host clock; +ms since the test began; watch clock in ms):"]
        for e in self._events:
            detail = []
            if e.is_reconnected is not None:
                detail.append(f"isReconnected={str(e.is_reconnected).lower()}")
            if e.code is not None:
                detail.append(f"code={e.code}")
            if e.data is not None:
                detail.append(f"data={_shown(e.data)}")
            watch = f"{e.watch_ts:>10.1f}" if e.watch_ts is not None else " " * 10
            rows.append(
                f"  {time_of_day(e.ts)} "
                f"{(e.ts - self.started) * 1000:+9.1f} ms  watch {watch}  "
                f"#{e.seq:<3} {e.kind:<7} {' '.join(detail)}"
            )
        return "\n".join(rows)


def _shown(data: object) -> str:
    """An event's data for the timeline, cut short: a string as it is quoted, anything else
    (a watch app may be handed any JSON value) as its repr."""
    text = data if isinstance(data, str) else repr(data)
    short = text if len(text) <= 60 else text[:57] + "..."
    return repr(short) if isinstance(data, str) else short


def time_of_day(ts: float) -> str:
    """The host time of day of ``ts``; the number itself when no date holds it (a watch
    timestamp far out of range maps to one)."""
    try:
        return datetime.fromtimestamp(ts).strftime("%H:%M:%S.%f")[:-3]
    except (OverflowError, ValueError, OSError):
        return f"{ts:>12.6g}"


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"unknown event kind {kind!r}; kinds are {', '.join(KINDS)}")
