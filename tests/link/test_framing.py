"""Framing: round trips, interleaving, and every way a fragment sequence can break."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_vela.errors import FramingError, MessageTooLarge, VelaError
from pytest_vela.wire.framing import HEADER_SIZE, Reassembler, encode, parse_header

LIMIT = 4096
mtus = st.integers(min_value=11, max_value=517)
payloads = st.binary(min_size=0, max_size=LIMIT)
ids = st.integers(min_value=0, max_value=0xFFFF)


def feed_all(r: Reassembler, frames: list[bytes]) -> list[bytes]:
    return [m for f in frames if (m := r.feed(f)) is not None]


@given(payloads, ids, mtus)
def test_round_trip_fits_the_mtu(payload: bytes, msg_id: int, mtu: int) -> None:
    frames = encode(payload, msg_id, mtu, LIMIT)
    assert all(len(f) <= mtu - 3 for f in frames)
    assert all(len(f) == mtu - 3 for f in frames[:-1])
    heads = [parse_header(f) for f in frames]
    assert [h.index for h in heads] == list(range(len(frames)))
    assert {(h.version, h.msg_id, h.count) for h in heads} == {(1, msg_id, len(frames))}
    r = Reassembler(LIMIT)
    results = [r.feed(f) for f in frames]
    assert results[-1] == payload
    assert results[:-1] == [None] * (len(frames) - 1)
    assert r.pending() == []


@given(st.lists(payloads, min_size=1, max_size=6), mtus, st.randoms(use_true_random=False))
def test_interleaved_messages_reassemble(
    messages: list[bytes], mtu: int, rnd: random.Random
) -> None:
    queues = [encode(m, i, mtu, LIMIT) for i, m in enumerate(messages)]
    merged: list[bytes] = []
    while any(queues):
        q = rnd.choice([q for q in queues if q])
        merged.append(q.pop(0))
    out = feed_all(Reassembler(LIMIT), merged)
    assert sorted(out) == sorted(messages)


@given(st.binary(min_size=40, max_size=600), st.data())
def test_a_missing_fragment_is_reported_not_merged(payload: bytes, data: st.DataObject) -> None:
    frames = encode(payload, 7, 23, LIMIT)
    lost = data.draw(st.integers(min_value=0, max_value=len(frames) - 1))
    r = Reassembler(LIMIT)
    errors = 0
    delivered = []
    for i, frame in enumerate(frames):
        if i == lost:
            continue
        try:
            if (m := r.feed(frame)) is not None:
                delivered.append(m)
        except FramingError as exc:
            errors += 1
            assert exc.msg_id == 7
    assert delivered == []
    if lost == len(frames) - 1:
        assert r.reset() == [7]  # a lost tail is visible as an unfinished message
    else:
        assert errors >= 1


@given(st.binary(min_size=40, max_size=600), st.data())
def test_swapped_fragments_are_reported(payload: bytes, data: st.DataObject) -> None:
    frames = encode(payload, 3, 23, LIMIT)
    i = data.draw(st.integers(min_value=0, max_value=len(frames) - 2))
    frames[i], frames[i + 1] = frames[i + 1], frames[i]
    r = Reassembler(LIMIT)
    with pytest.raises(FramingError, match="message 3"):
        feed_all(r, frames)


@settings(max_examples=50)
@given(st.integers(min_value=1, max_value=200), mtus)
def test_sender_refuses_above_the_limit(extra: int, mtu: int) -> None:
    with pytest.raises(MessageTooLarge) as info:
        encode(b"x" * (LIMIT + extra), 1, mtu, LIMIT)
    assert isinstance(info.value, VelaError)
    text = str(info.value)
    assert str(LIMIT + extra) in text and str(LIMIT) in text
    assert "ble.max_message_bytes" in text


def test_exactly_the_limit_is_accepted() -> None:
    frames = encode(b"y" * LIMIT, 9, 247, LIMIT)
    assert feed_all(Reassembler(LIMIT), frames) == [b"y" * LIMIT]


def test_receiver_enforces_its_own_limit() -> None:
    frames = encode(b"z" * 1000, 2, 100, 1000)
    r = Reassembler(500)
    with pytest.raises(MessageTooLarge, match="500"):
        feed_all(r, frames)
    assert r.pending() == []


def test_empty_message_is_one_header_only_frame() -> None:
    frames = encode(b"", 0, 23, LIMIT)
    assert frames == [bytes([1, 0, 0, 0, 0, 1, 0])]
    assert Reassembler(LIMIT).feed(frames[0]) == b""


@pytest.mark.parametrize(
    ("frame", "words"),
    [
        (b"\x01\x00", "shorter than the 7-byte header"),
        (bytes([2, 0, 0, 0, 0, 1, 0]) + b"x", "unknown framing version 2"),
        (bytes([1, 0, 0, 0, 0, 0, 0]) + b"x", "impossible"),
        (bytes([1, 0, 0, 3, 0, 3, 0]) + b"x", "impossible"),
        (bytes([1, 5, 0, 1, 0, 3, 0]) + b"x", "fragment 0 did not"),
    ],
)
def test_malformed_frames(frame: bytes, words: str) -> None:
    with pytest.raises(FramingError, match=words):
        Reassembler(LIMIT).feed(frame)


def test_fragment_count_change_is_reported() -> None:
    a = encode(b"a" * 30, 4, 23, LIMIT)  # 3 fragments of 13
    b = encode(b"b" * 60, 4, 23, LIMIT)  # 5 fragments
    r = Reassembler(LIMIT)
    assert r.feed(a[0]) is None
    with pytest.raises(FramingError, match="count changed from 3 to 5"):
        r.feed(b[1])


def test_reused_id_reports_the_cut_message_and_keeps_the_new_one() -> None:
    old = encode(b"o" * 30, 4, 23, LIMIT)
    new = encode(b"n", 4, 23, LIMIT)
    r = Reassembler(LIMIT)
    r.feed(old[0])
    cut = r"new message began before fragments 1\.\.2 of 3"
    with pytest.raises(FramingError, match=cut) as info:
        r.feed(new[0])
    assert info.value.completed == b"n"


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="outside"):
        encode(b"x", 0x10000, 23, LIMIT)
    with pytest.raises(FramingError, match="no room"):
        encode(b"x", 1, 10, LIMIT)
    with pytest.raises(FramingError, match="fragments"):
        encode(b"x" * 70000, 1, 11, 100000)


def test_header_is_seven_bytes_little_endian() -> None:
    (frame,) = encode(b"hi", 0x0102, 23, LIMIT)
    assert HEADER_SIZE == 7
    assert frame == bytes([1, 0x02, 0x01, 0, 0, 1, 0]) + b"hi"
