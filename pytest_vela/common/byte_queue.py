"""A byte FIFO between threads with the read contract the YMODEM engines expect."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class QueueClosed(Exception):
    """The other end is gone (the power went off): no byte will ever come."""


class ByteQueue:
    """``read(n, timeout)`` returns exactly n bytes, or None once ``timeout`` passes. Readers
    wake on every ``feed``; ``check`` runs on each wake, so a lost port can raise at once;
    after ``close()`` a read raises ``QueueClosed`` at once."""

    def __init__(self, check: Callable[[], None] | None = None) -> None:
        self._buf = bytearray()
        self._cond = threading.Condition()
        self._check = check
        self._closed = False

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def feed(self, data: bytes) -> None:
        with self._cond:
            self._buf += data
            self._cond.notify_all()

    def read(self, size: int, timeout: float | None = 1.0) -> bytes | None:
        deadline = time.monotonic() + (1.0 if timeout is None else timeout)
        with self._cond:
            while len(self._buf) < size:
                if self._closed:
                    raise QueueClosed("the byte queue was closed")
                if self._check is not None:
                    self._check()
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self._cond.wait(remaining)
            out = bytes(self._buf[:size])
            del self._buf[:size]
            return out

    def take_rest(self) -> bytes:
        """Everything not read yet, emptying the queue."""
        with self._cond:
            rest, self._buf = bytes(self._buf), bytearray()
            return rest
