"""The one bounds-checked cursor behind the signing block's and the keystore's readers."""

from __future__ import annotations

import pytest

from pytest_vela.doctor.binary import Cursor
from pytest_vela.doctor.jks import JksError, _In
from pytest_vela.doctor.sigblock import FormatError, Reader

DATA = bytes.fromhex("0102 03040506 0708090a0b0c0d0e ff")


def test_the_signing_block_reader_is_little_endian() -> None:
    reader = Reader(DATA, "block")
    assert (reader.u16(), reader.u32(), reader.u64()) == (
        0x0201,
        0x06050403,
        0x0E0D0C0B0A090807,
    )
    assert reader.remaining == 1


def test_the_keystore_reader_is_big_endian() -> None:
    reader = _In(DATA)
    assert (reader.u16(), reader.u32(), reader.u64()) == (
        0x0102,
        0x03040506,
        0x0708090A0B0C0D0E,
    )
    assert reader.take(1) == b"\xff"
    assert reader.remaining == 0


def test_each_format_names_an_overrun_its_own_way() -> None:
    reader = Reader(DATA, "signing block")
    reader.take(12)
    with pytest.raises(FormatError) as err:
        reader.u64()
    assert (
        str(err.value) == "signing block: field of 8 bytes at offset 12 overruns the 15 available"
    )
    keystore = _In(b"\x00\x05ab")
    with pytest.raises(
        JksError, match=r"^the file ends in the middle of an entry \(truncated\?\)$"
    ):
        keystore.utf()


def test_a_cursor_never_reads_past_its_end_nor_backwards() -> None:
    cursor = Cursor(b"abc")
    for n in (4, -1):
        with pytest.raises(ValueError, match="overruns the 3 available"):
            cursor.take(n)
    assert cursor.pos == 0
    assert cursor.take(3) == b"abc"
    with pytest.raises(ValueError, match="field of 2 bytes at offset 3"):
        cursor.u16()


def test_nested_readers_carry_where_they_are() -> None:
    inner = Reader(b"\x02\x00\x00\x00ab", "pair").sub("signer")
    with pytest.raises(FormatError) as err:
        inner.take(3)
    assert str(err.value) == "pair/signer: field of 3 bytes at offset 0 overruns the 2 available"
