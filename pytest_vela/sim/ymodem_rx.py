"""``rb`` on the simulated watch: a YMODEM receiver fed from the paced console input.

The ``ymodem`` package's receiver is blocking, so it runs in a worker thread; bytes cross
between the event loop and that thread through a queue, never by polling.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from ymodem.Protocol import ProtocolType
from ymodem.Socket import ModemSocket

logging.getLogger("ModemSocket").setLevel(logging.CRITICAL)


class ByteQueue:
    """Thread-safe byte FIFO with a blocking ``read(n, timeout)`` that returns exactly n bytes."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self._cond = threading.Condition()

    def feed(self, data: bytes) -> None:
        with self._cond:
            self._buf += data
            self._cond.notify_all()

    def read(self, size: int, timeout: float | None = 1.0) -> bytes | None:
        deadline = time.monotonic() + (timeout if timeout is not None else 1.0)
        with self._cond:
            while len(self._buf) < size:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self._cond.wait(remaining)
            out = bytes(self._buf[:size])
            del self._buf[:size]
            return out


async def receive(
    dest: Path, inbox: ByteQueue, write: Callable[[bytes], Coroutine[Any, Any, None]]
) -> bool:
    """Receive one YMODEM batch into ``dest``; True when the sender finished cleanly."""
    loop = asyncio.get_running_loop()

    def write_from_thread(data: bytes | bytearray, timeout: float | None = 1.0) -> int:
        asyncio.run_coroutine_threadsafe(write(bytes(data)), loop).result(timeout or 5.0)
        return len(data)

    modem = ModemSocket(inbox.read, write_from_thread, ProtocolType.YMODEM)
    return bool(await asyncio.to_thread(modem.recv, str(dest)))
