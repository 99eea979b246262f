"""The expect window: the console text not yet consumed by a match, searched pexpect-like.

``expect`` searches everything after the previous match, so output that came before the call
is found. Text that arrives while it waits is searched as it comes: only the new text and
the 64 KiB before it, so one match spans at most that much of what arrives while it waits,
and a wake costs the same however much unmatched text lies before it. The text is kept as
the chunks it arrived in, never copied as a whole to add to it; it is joined only for the
first search of a call and for the match returned (whose ``string`` is the text from the
previous match up to the end of what was searched). No lock is held during a search: a slow
pattern never stalls the reader. Beyond ``WINDOW_LIMIT`` the oldest unmatched text is dropped.

The reader publishes text to waiters when the port has nothing more waiting, or every
``PUBLISH_BATCH`` characters during a flood, so a flood wakes a waiter per batch, not per
read, while a line on a quiet port is searched as soon as it is read.

A search may ask for a match *at rest* (``console/prompt.py`` says why): one that an erase to
the end of the line followed (the window keeps where the console stripped one), or that
nothing followed while the line stayed quiet for a given time. Other matches are passed over,
not consumed.
"""

from __future__ import annotations

import re
import threading
import time
from bisect import bisect_right
from collections import deque
from collections.abc import Callable, Iterable
from pathlib import Path

from pytest_vela.errors import ExpectTimeout

SEARCH_OVERLAP = 64 * 1024
WINDOW_LIMIT = 8 * 1024 * 1024
PUBLISH_BATCH = SEARCH_OVERLAP
RECENT_CHARS = 200
_MERGE_BELOW = 4096  # small reads are appended to the last chunk, so chunks stay few
_LEAD = 256  # text before a search start, so ^, \b and lookbehinds see what precedes it
_ERASES_KEPT = 256  # erase-to-end-of-line positions remembered (a few per prompt)

Accept = Callable[[int, int], bool]
"""Whether a match from ``start`` to ``end`` (offsets in the console's text) counts."""


class ExpectWindow:
    def __init__(self, log_path: Path, check: Callable[[], None]) -> None:
        self._log_path = log_path
        self._check = check  # raises when the port is lost
        self._cond = threading.Condition(threading.Lock())
        # Offsets count characters since the console opened; chunk i starts at _starts[i].
        self._texts: list[str] = []
        self._starts: list[int] = []
        self._first = 0  # chunks before this index are gone
        self._begin = 0  # where the unmatched text begins
        self._end = 0  # where the text received ends
        self._published = 0  # what waiters may search ends here
        self._epoch = 0  # counts matches and discards: a search of older text is stale
        self._recent = ""  # the last characters received, matched or not, for error messages
        self._erased: deque[int] = deque(maxlen=_ERASES_KEPT)  # offsets an erase was cut at
        self._fed_at = time.monotonic()  # when text last arrived

    # --- the reader's side --------------------------------------------------------------

    def feed(self, text: str, erased: Iterable[int] = ()) -> None:
        """Append ``text``; ``erased`` are the offsets in it where an erase to the end of the
        line was stripped."""
        with self._cond:
            self._fed_at = time.monotonic()
            self._erased.extend(self._end + offset for offset in erased)
            texts = self._texts
            if len(texts) > self._first and len(texts[-1]) < _MERGE_BELOW:
                texts[-1] += text
            else:
                texts.append(text)
                self._starts.append(self._end)
            self._end += len(text)
            self._recent = (self._recent + text[-RECENT_CHARS:])[-RECENT_CHARS:]
            if self._end - self._begin > WINDOW_LIMIT:
                self._drop_before(self._end - WINDOW_LIMIT)
            if self._end - self._published >= PUBLISH_BATCH:
                self._publish()

    def publish(self) -> None:
        """Let waiters search everything received (the port has nothing more waiting)."""
        with self._cond:
            self._publish()

    def _publish(self) -> None:
        if self._published != self._end:
            self._published = self._end
            self._cond.notify_all()

    def wake(self) -> None:
        """Wake waiters to look at the port's state (it was lost)."""
        with self._cond:
            self._publish()
            self._cond.notify_all()

    # --- the tests' side ------------------------------------------------------------------

    @property
    def recent(self) -> str:
        return self._recent

    def wait_until(self, ready: Callable[[], bool], timeout: float) -> bool:
        """Wait, woken as text is published, until ``ready()`` holds (say, a marker line was
        seen: line listeners run before the text is published); whether it did in time."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not ready():
                self._check()
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(remaining)
            return True

    def expect(
        self, regex: re.Pattern[str], timeout: float, at_rest: float | None = None
    ) -> re.Match[str]:
        """The first match of ``regex`` after the previous match; ExpectTimeout otherwise.
        With ``at_rest`` (seconds), only a match at rest counts (see the module docstring)."""
        deadline = time.monotonic() + timeout
        searched: int | None = None  # this call searched the text before this offset
        recheck: float | None = None  # a match at the end may come to rest at this time
        epoch = -1
        while True:
            with self._cond:
                if self._epoch != epoch:  # a match or discard elsewhere: start afresh
                    epoch, searched = self._epoch, None
                stop = self._published
                now = time.monotonic()
                if searched is not None and stop <= searched and (recheck is None or now < recheck):
                    self._check()
                    remaining = deadline - now
                    if remaining <= 0:
                        raise ExpectTimeout(regex.pattern, timeout, self._recent, self._log_path)
                    self._cond.wait(remaining if recheck is None else min(remaining, recheck - now))
                    continue
                begin = self._begin
                start = begin if searched is None else max(begin, searched - SEARCH_OVERLAP)
                lead = max(begin, start - _LEAD)
                pieces = self._pieces(lead, stop)
                accept, recheck = self._rest_rule(at_rest, stop, now)
            # Searched without the lock: a slow pattern must never stall the reader, or the
            # port's buffer overflows and bytes are lost.
            match = _search(regex, _join(pieces, lead, stop), start - lead, lead, accept)
            if match is not None and lead != begin:
                match, lead = self._whole_match(regex, start, stop, accept)
            with self._cond:
                if self._epoch != epoch:
                    continue
                if match is not None:
                    self._consume(lead + match.end())
                    return match
                searched = stop
                # Past the deadline even while a flood keeps bringing text that never matches.
                if time.monotonic() >= deadline:
                    self._check()
                    raise ExpectTimeout(regex.pattern, timeout, self._recent, self._log_path)

    def _rest_rule(
        self, at_rest: float | None, stop: int, now: float
    ) -> tuple[Accept | None, float | None]:
        """Which matches count (None: all), and when a match at the end of the text may have
        come to rest; the lock is held."""
        if at_rest is None:
            return None, None
        erased = frozenset(self._erased)
        quiet_at = self._fed_at + at_rest
        quiet = now >= quiet_at

        def at_rest_now(_start: int, end: int) -> bool:
            return end in erased or (end == stop and quiet)

        return at_rest_now, (None if quiet else quiet_at)

    def _whole_match(
        self, regex: re.Pattern[str], start: int, stop: int, accept: Accept | None
    ) -> tuple[re.Match[str] | None, int]:
        """Found in the tail: search again in all the unmatched text, so the match's
        ``string`` holds everything since the previous match (callers slice it)."""
        with self._cond:
            begin = self._begin
            pieces = self._pieces(begin, stop)
        text = _join(pieces, begin, stop)
        return _search(regex, text, max(0, start - begin), begin, accept), begin

    def discard(self) -> str:
        """Drop the unmatched text, published or not; return it."""
        with self._cond:
            begin = self._begin
            pieces = self._pieces(begin, self._end)
            self._texts, self._starts, self._first = [], [], 0
            self._begin = self._published = self._end
            self._erased.clear()
            self._epoch += 1
            end = self._end
        return _join(pieces, begin, end)

    # --- chunks -----------------------------------------------------------------------------

    def _pieces(self, start: int, stop: int) -> list[tuple[int, str]]:
        """The chunks holding [start, stop), with their offsets (the lock is held)."""
        starts, texts = self._starts, self._texts
        i = max(self._first, bisect_right(starts, start, self._first) - 1)
        pieces = []
        while i < len(texts) and starts[i] < stop:
            pieces.append((starts[i], texts[i]))
            i += 1
        return pieces

    def _consume(self, end: int) -> None:
        self._epoch += 1
        self._drop_before(max(self._begin, end))

    def _drop_before(self, offset: int) -> None:
        self._begin = offset
        self._published = max(self._published, offset)
        erased = self._erased
        while erased and erased[0] < offset:
            erased.popleft()
        texts, starts = self._texts, self._starts
        while self._first < len(texts) and starts[self._first] + len(texts[self._first]) <= offset:
            texts[self._first] = ""
            self._first += 1
        if self._first > 64 and self._first * 2 > len(texts):
            del texts[: self._first], starts[: self._first]
            self._first = 0


def _search(
    regex: re.Pattern[str], text: str, pos: int, base: int, accept: Accept | None
) -> re.Match[str] | None:
    """The first match in ``text`` from ``pos`` that ``accept`` takes (offsets are
    ``base`` + index); the others are passed over."""
    match = regex.search(text, pos)
    if accept is None:
        return match
    while match is not None and not accept(base + match.start(), base + match.end()):
        match = regex.search(text, match.start() + 1)
    return match


def _join(pieces: list[tuple[int, str]], start: int, stop: int) -> str:
    """The text [start, stop) out of chunks that cover it (and may reach beyond it)."""
    if not pieces:
        return ""
    base = pieces[0][0]
    text = pieces[0][1] if len(pieces) == 1 else "".join(piece for _, piece in pieces)
    return text[start - base : stop - base]
