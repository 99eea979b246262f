"""The C CRC that replaces the ymodem package's pure-Python one computes the same values."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from ymodem.CRC import calc_crc16

from pytest_vela.wire.ymodem_crc import crc16


@given(st.binary(max_size=1100), st.integers(min_value=0, max_value=0xFFFF))
def test_crc16_matches_the_packages_own(data: bytes, start: int) -> None:
    assert crc16(data, start) == calc_crc16(data, start)
    assert crc16(data) == calc_crc16(data)
