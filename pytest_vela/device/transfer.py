"""Files to the watch over its console: YMODEM to the device's ``rb``, then a hash check.

A transfer owns the line while it runs (the console's raw channel); the device's own report
of size and SHA-256 decides whether it arrived intact, not the protocol's CRCs alone.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ymodem.Protocol import ProtocolType

from pytest_vela.console.port import Console
from pytest_vela.errors import FlashError, VelaError
from pytest_vela.wire.ymodem_crc import ModemSocket

logging.getLogger("ModemSocket").setLevel(logging.CRITICAL)

Progress = Callable[[int, int], None]
_HASH = re.compile(r"\b([0-9a-f]{64})\b")


@dataclass(frozen=True)
class FileDigest:
    sha256: str
    size: int

    @classmethod
    def of(cls, path: Path) -> FileDigest:
        digest = hashlib.sha256()
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
        return cls(digest.hexdigest(), path.stat().st_size)


def parse_digest(output: str) -> FileDigest | None:
    """Read ``<sha256> <size>`` (in either order around other words) from a device's answer."""
    found = _HASH.search(output)
    if not found:
        return None
    rest = output[: found.start()] + " " + output[found.end() :]
    size = re.search(r"(?:size\s+)?\b(\d+)\b", rest)
    return FileDigest(found.group(1), int(size.group(1)) if size else -1)


class _Deadline(BaseException):
    """Past the transfer's deadline, or the port is gone. A BaseException because the ymodem
    package turns every Exception from a read into "no data yet" and would keep waiting on its
    own clock (a minute for the receiver's first answer)."""


CANCEL = b"\x18" * 5  # CAN CAN CAN CAN CAN: the receiver stops and returns to the shell


def ymodem_send(
    console: Console,
    path: Path,
    receive_command: str,
    timeout: float,
    progress: Progress | None = None,
) -> float:
    """Start the device's receiver and send ``path`` within ``timeout`` seconds, all of it
    (waiting for the receiver included); return the seconds the transfer took. A transfer
    given up is cancelled on the device, so its shell is usable afterwards."""
    total = path.stat().st_size
    started = time.monotonic()
    deadline = started + timeout
    sent = 0

    def read(size: int, wait: float | None = 1.0) -> bytes | None:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or console.lost:
            raise _Deadline
        return channel.read(size, min(1.0 if wait is None else wait, remaining))

    def on_block(_index: int, _name: str, _total: int, done: int) -> None:
        nonlocal sent
        sent = min(done, total)
        if time.monotonic() > deadline:
            raise _Deadline
        if progress is not None:
            progress(sent, total)

    with console.raw() as channel:
        console.write_line(receive_command)
        modem = ModemSocket(read, channel.write, ProtocolType.YMODEM)
        try:
            ok = modem.send([str(path)], on_block)
        except _Deadline:
            console.raise_if_lost()
            channel.write(CANCEL)
            raise FlashError(
                f"sending {path.name} with {receive_command!r} did not finish within "
                f"{timeout:g} s ({sent} of {total} bytes acknowledged; cancelled on the device)"
                f"; log: {console.log_shown}"
            ) from None
        except BaseException:
            # Interrupted mid-transfer (Ctrl-C, a test's timeout): leave the device's shell
            # usable for what comes next.
            with contextlib.suppress(VelaError):
                channel.write(CANCEL)
            raise
    console.raise_if_lost()
    if not ok:
        raise FlashError(
            f"YMODEM transfer of {path.name} was not accepted by the device's "
            f"{receive_command!r}; log: {console.log_shown}"
        )
    return time.monotonic() - started
