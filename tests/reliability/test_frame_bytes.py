"""Property: whatever frames arrive on the bridge — garbage, headers that lie, fragments of
messages interleaved, repeated, cut short — the reassembler returns messages or raises a
``FramingError``, never anything else, and never hands on more than its limit; and frames that
are valid encodes come back as exactly their messages, however they interleave."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_vela.errors import FramingError
from pytest_vela.wire.framing import HEADER, MAX_INTERLEAVED, VERSION, Reassembler, encode

PROPERTY = settings(max_examples=300, deadline=None)
LIMIT = 256  # small, so that fragments add up past it

# Headers that are plausible more often than chance would make them: few ids, small counts.
lying_frames = st.builds(
    lambda version, msg_id, index, count, body: HEADER.pack(version, msg_id, index, count) + body,
    st.sampled_from([VERSION, VERSION, VERSION, 0, 2, 0xFF]),
    st.integers(min_value=0, max_value=3) | st.integers(min_value=0, max_value=0xFFFF),
    st.integers(min_value=0, max_value=4) | st.integers(min_value=0, max_value=0xFFFF),
    st.integers(min_value=0, max_value=4) | st.integers(min_value=0, max_value=0xFFFF),
    st.binary(max_size=LIMIT // 2),
)
frames = st.lists(st.binary(max_size=24) | lying_frames, max_size=60)


@PROPERTY
@given(frames)
def test_any_frames_give_messages_or_framing_errors_only(sequence: list[bytes]) -> None:
    reassembler = Reassembler(LIMIT)
    for frame in sequence:
        try:
            message = reassembler.feed(frame)
        except FramingError as exc:
            message = exc.completed
        if message is not None:
            assert len(message) <= LIMIT
        assert len(reassembler.pending()) <= MAX_INTERLEAVED


@st.composite
def schedules(draw: st.DrawFn) -> tuple[list[tuple[int, bytes]], list[bytes], list[int]]:
    """Messages with ids from a small pool (an id is used again only once its message is
    complete, as a sender that wraps its counter does), each framed at an MTU of its own
    (the link's MTU changed), and the frames of those in flight interleaved at random."""
    messages = draw(
        st.lists(
            st.tuples(st.integers(min_value=0, max_value=5), st.binary(max_size=LIMIT)),
            min_size=1,
            max_size=12,
        )
    )
    mtus = [draw(st.integers(min_value=11, max_value=120)) for _ in messages]
    rnd: random.Random = draw(st.randoms(use_true_random=False))
    queues = [
        encode(body, msg_id, mtu, LIMIT) for (msg_id, body), mtu in zip(messages, mtus, strict=True)
    ]
    in_flight: dict[int, int] = {}  # id -> the message that uses it now
    waiting = list(range(len(messages)))
    merged: list[bytes] = []
    completion: list[int] = []
    while waiting or in_flight:
        startable = [  # its id is free, and no earlier message waits for it
            i
            for i in waiting
            if messages[i][0] not in in_flight
            and not any(messages[j][0] == messages[i][0] for j in waiting if j < i)
        ]
        choices = [("start", i) for i in startable] + [("next", i) for i in in_flight.values()]
        what, i = rnd.choice(choices)
        if what == "start":
            waiting.remove(i)
            in_flight[messages[i][0]] = i
        merged.append(queues[i].pop(0))
        if not queues[i]:
            del in_flight[messages[i][0]]
            completion.append(i)
    return messages, merged, completion


@PROPERTY
@given(schedules())
def test_valid_encodes_round_trip_however_they_interleave(
    schedule: tuple[list[tuple[int, bytes]], list[bytes], list[int]],
) -> None:
    messages, merged, completion = schedule
    reassembler = Reassembler(LIMIT)
    out = [m for frame in merged if (m := reassembler.feed(frame)) is not None]
    assert out == [messages[i][1] for i in completion]
    assert reassembler.pending() == []
