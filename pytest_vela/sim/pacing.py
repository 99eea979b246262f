"""Line-rate pacing: a pty never throttles, a UART does.

A persistent schedule (not a sleep per write) so that many small writes add up to the same
rate as one large one: 8N1 framing moves ``baud / 10`` bytes per second.
"""

from __future__ import annotations

import time


class LineRate:
    """When each byte written to a serial line would have left the wire."""

    def __init__(self, baud: int, enabled: bool = True) -> None:
        self.bytes_per_second = baud / 10
        self.enabled = enabled
        self._free_at = 0.0

    def reserve(self, nbytes: int, now: float | None = None) -> float:
        """Book ``nbytes`` on the line; return the monotonic time the last one is through."""
        now = time.monotonic() if now is None else now
        if not self.enabled:
            return now
        start = max(now, self._free_at)
        self._free_at = start + nbytes / self.bytes_per_second
        return self._free_at

    def chunk_size(self) -> int:
        """Bytes per write so that the line is fed about every 2 ms."""
        if not self.enabled:
            return 65536
        return max(16, int(self.bytes_per_second * 0.002))
