"""YMODEM with its CRC in C, for both ends of a transfer (the harness's sender and the simulated
watch's receiver).

The ``ymodem`` package computes CRC-16/XMODEM in pure Python, about 0.1 ms per 1 KiB block on
each end of every block, all of it on the acknowledgement's critical path. ``binascii.crc_hqx``
is the same CRC (polynomial 0x1021, initial value 0) in C. ``ModemSocket`` is the package's
socket with its two CRC steps doing that; the package itself is left as it is.
"""

from __future__ import annotations

import binascii
from typing import Any

from ymodem.Socket import ModemSocket as _PackageSocket


def crc16(data: bytes | bytearray, crc: int = 0) -> int:
    return binascii.crc_hqx(data, crc)


class ModemSocket(_PackageSocket):  # type: ignore[misc]
    def _make_send_checksum(self, crc: bool, data: bytes | bytearray) -> bytearray:
        if not crc:
            return bytearray(super()._make_send_checksum(crc, data))
        value = crc16(data)
        return bytearray([value >> 8, value & 0xFF])

    def _verify_recv_checksum(self, crc: bool, data: bytes | bytearray) -> tuple[bool, Any]:
        if not crc:
            valid, rest = super()._verify_recv_checksum(crc, data)
            return bool(valid), rest
        remote = (data[-2] << 8) + data[-1]
        body = data[:-2]
        return remote == crc16(body), body
