"""Per-test link trace: every frame in each direction and every link event, with host times.

The plugin marks the trace when a test starts and attaches ``render(since(mark))`` when it
ends, so a failed exchange can be read frame by frame next to the console log. Each record
keeps its frame's whole payload: the attachment shows every byte, the terminal a short preview.
"""

from __future__ import annotations

import bisect
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from pytest_vela.wire.framing import HEADER, HEADER_SIZE

Direction = Literal["tx", "rx", "event"]
PREVIEW = 32


@dataclass(frozen=True, slots=True)
class TraceRecord:
    """One frame or event. ``mono`` orders records; ``wall`` is for people."""

    seq: int
    mono: float
    wall: float
    direction: Direction
    length: int
    msg_id: int | None
    index: int | None
    count: int | None
    preview: str  # the first PREVIEW bytes, readable
    payload: bytes = b""  # the frame's whole payload (after the header)


def preview(data: bytes, limit: int | None = PREVIEW) -> str:
    """Short readable form: UTF-8 text when it decodes cleanly, hex otherwise; ``limit=None``
    keeps every byte."""
    cut = data if limit is None else data[:limit]
    more = "…" if len(cut) < len(data) else ""
    try:
        text = cut.decode("utf-8")
    except UnicodeDecodeError:
        return cut.hex(" ") + more
    if text.isprintable():
        return repr(text)[1:-1] + more
    return cut.hex(" ") + more


class LinkTrace:
    """Thread-safe, append-only record list (frames arrive on the loop thread)."""

    def __init__(self, limit: int = 200_000) -> None:
        self._records: list[TraceRecord] = []
        self._lock = threading.Lock()
        self._seq = 0
        self.limit = limit

    def frame(self, direction: Literal["tx", "rx"], frame: bytes) -> None:
        """Record a bridge frame; the header fields are parsed when present."""
        if len(frame) >= HEADER_SIZE:
            _, msg_id, index, count = HEADER.unpack_from(frame)
            payload = bytes(frame[HEADER_SIZE:])
            self._add(direction, len(frame), msg_id, index, count, preview(payload), payload)
        else:
            self._add(direction, len(frame), None, None, None, preview(frame), bytes(frame))

    def event(self, text: str) -> None:
        """Record a link event (connect, disconnect, framing error, …)."""
        self._add("event", 0, None, None, None, text)

    def _add(
        self,
        direction: Direction,
        length: int,
        msg_id: int | None,
        index: int | None,
        count: int | None,
        text: str,
        payload: bytes = b"",
    ) -> None:
        mono, wall = time.monotonic(), time.time()
        with self._lock:
            self._seq += 1
            if len(self._records) >= self.limit:
                # Keep memory bounded in very long sessions; marks stay valid by sequence.
                del self._records[: len(self._records) // 2]
            self._records.append(
                TraceRecord(
                    self._seq, mono, wall, direction, length, msg_id, index, count, text, payload
                )
            )

    def mark(self) -> int:
        """A position; ``since(mark)`` returns what was recorded after it."""
        with self._lock:
            return self._seq

    def last_wall(self) -> float:
        """When the last record was made (host clock; 0 for none)."""
        with self._lock:
            return self._records[-1].wall if self._records else 0.0

    def since(self, mark: int) -> list[TraceRecord]:
        with self._lock:
            start = bisect.bisect_right(self._records, mark, key=lambda r: r.seq)
            return self._records[start:]

    def __len__(self) -> int:
        with self._lock:
            return len(self._records)

    @staticmethod
    def render(records: list[TraceRecord], limit: int | None = None) -> str:
        """A text table: wall time, +ms since the first record, direction, sizes, and each
        frame's payload (whole, or its first ``limit`` bytes)."""
        if not records:
            return "(no link traffic)\n"
        first = records[0].mono
        lines = [f"{'time':<15} {'+ms':>10}  dir    len  msg    frag  data"]
        for r in records:
            clock = datetime.fromtimestamp(r.wall).strftime("%H:%M:%S.%f")
            frag = f"{r.index}/{r.count}" if r.index is not None else ""
            msg = "" if r.msg_id is None else str(r.msg_id)
            size = "" if r.direction == "event" else str(r.length)
            arrow = {"tx": "tx →", "rx": "rx ←", "event": "event"}[r.direction]
            lines.append(
                f"{clock:<15} {(r.mono - first) * 1000:>10.3f}  {arrow:<5} {size:>4}  "
                f"{msg:<5} {frag:>6}  {_data(r, limit)}"
            )
        return "\n".join(lines) + "\n"


def _data(record: TraceRecord, limit: int | None) -> str:
    if record.direction == "event" or not record.payload:
        return record.preview
    return preview(record.payload, limit)
