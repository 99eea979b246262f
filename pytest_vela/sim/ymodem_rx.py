"""``rb`` on the simulated watch: a YMODEM receiver fed from the paced console input.

The ``ymodem`` package's receiver is blocking, so it runs in a worker thread; bytes cross
between the event loop and that thread through a queue, never by polling.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from ymodem.Protocol import ProtocolType
from ymodem.Socket import ModemSocket

from pytest_vela.byte_queue import ByteQueue

logging.getLogger("ModemSocket").setLevel(logging.CRITICAL)


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
