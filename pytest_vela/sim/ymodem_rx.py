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

from pytest_vela.common.byte_queue import ByteQueue, QueueClosed
from pytest_vela.wire.ymodem_crc import ModemSocket

logging.getLogger("ModemSocket").setLevel(logging.CRITICAL)


async def receive(
    dest: Path,
    inbox: ByteQueue,
    write: Callable[[bytes], Coroutine[Any, Any, None]],
    write_now: Callable[[bytes], bool],
) -> bool:
    """Receive one YMODEM batch into ``dest``; True when the sender finished cleanly.
    Acknowledgements go out with ``write_now`` from the receiving thread (the sender waits on
    each), through the event loop's ``write`` only when that cannot take them."""
    loop = asyncio.get_running_loop()

    def write_from_thread(data: bytes | bytearray, timeout: float | None = 1.0) -> int:
        if not write_now(bytes(data)):
            asyncio.run_coroutine_threadsafe(write(bytes(data)), loop).result(timeout or 5.0)
        return len(data)

    def read(size: int, timeout: float | None = 1.0) -> bytes | None:
        try:
            return inbox.read(size, timeout)
        except QueueClosed:
            raise _PoweredOff from None

    modem = ModemSocket(read, write_from_thread, ProtocolType.YMODEM)
    try:
        return bool(await asyncio.to_thread(modem.recv, str(dest)))
    except _PoweredOff:
        raise QueueClosed("the watch lost power mid-transfer") from None


class _PoweredOff(BaseException):
    """The inbox closed under the receiver. A BaseException because the ymodem engine turns
    every Exception of a read into a timeout and would go on retrying."""
