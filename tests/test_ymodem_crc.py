"""The C CRC the transfers use in place of the ymodem package's pure-Python one computes the
same values, and leaves the package itself as it was."""

from __future__ import annotations

import ymodem.Socket
from hypothesis import given
from hypothesis import strategies as st
from ymodem.CRC import calc_crc16
from ymodem.Socket import ModemSocket as PackageSocket

from pytest_vela.wire.ymodem_crc import ModemSocket, crc16


@given(st.binary(max_size=1100), st.integers(min_value=0, max_value=0xFFFF))
def test_crc16_matches_the_packages_own(data: bytes, start: int) -> None:
    assert crc16(data, start) == calc_crc16(data, start)
    assert crc16(data) == calc_crc16(data)


@given(st.binary(min_size=1, max_size=1100))
def test_the_sockets_checksums_agree_with_the_packages_and_leave_it_alone(data: bytes) -> None:
    ours = ModemSocket(lambda size, timeout=1: b"", lambda data, timeout=1: len(data))
    theirs = PackageSocket(lambda size, timeout=1: b"", lambda data, timeout=1: len(data))
    for crc in (True, False):
        sent = ours._make_send_checksum(crc, data)
        assert sent == theirs._make_send_checksum(crc, data)
        assert ours._verify_recv_checksum(crc, data + sent) == (True, data)
        damaged = bytes([data[0] ^ 0x01]) + data[1:] + sent
        assert ours._verify_recv_checksum(crc, damaged)[0] is False
    assert ymodem.Socket.calc_crc16 is calc_crc16  # the package keeps its own
