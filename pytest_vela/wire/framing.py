"""Bridge framing: cut a message into MTU-sized frames and put it back together.

One ATT value carries ``MTU - 3`` bytes; each frame spends 7 of them on a header
(version, message id, fragment index, fragment count; little-endian), see docs/protocol.md §2.
Fragments of one message arrive in order, fragments of different messages may interleave.
Anything else — a gap, a repeat, a changed count — is reported, never merged, because a
silently spliced message would make a product bug look like a harness bug or vice versa.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from pytest_vela.errors import FramingError, MessageTooLarge

VERSION = 0x01
HEADER = struct.Struct("<BHHH")
HEADER_SIZE = HEADER.size  # 7
ATT_OVERHEAD = 3
MAX_FRAGMENTS = 0xFFFF
MAX_MSG_ID = 0xFFFF
MAX_INTERLEAVED = 64


@dataclass(frozen=True, slots=True)
class Header:
    version: int
    msg_id: int
    index: int
    count: int


def chunk_size(mtu: int) -> int:
    """Payload bytes one frame can carry at this ATT MTU."""
    return mtu - ATT_OVERHEAD - HEADER_SIZE


def parse_header(frame: bytes) -> Header:
    """The frame's header; FramingError if it is too short (the version is not checked)."""
    if len(frame) < HEADER_SIZE:
        raise FramingError(
            f"frame of {len(frame)} bytes is shorter than the {HEADER_SIZE}-byte header"
        )
    version, msg_id, index, count = HEADER.unpack_from(frame)
    return Header(version, msg_id, index, count)


def encode(payload: bytes, msg_id: int, mtu: int, max_message_bytes: int) -> list[bytes]:
    """Frames for one message; refuses before anything is written when it cannot be sent."""
    if not 0 <= msg_id <= MAX_MSG_ID:
        raise ValueError(f"message id {msg_id} is outside 0..{MAX_MSG_ID}")
    if len(payload) > max_message_bytes:
        raise MessageTooLarge(len(payload), max_message_bytes, msg_id=msg_id)
    step = chunk_size(mtu)
    if step < 1:
        raise FramingError(
            f"an MTU of {mtu} leaves no room for payload after the ATT and bridge headers "
            f"({ATT_OVERHEAD + HEADER_SIZE} bytes)"
        )
    count = max(1, -(-len(payload) // step))
    if count > MAX_FRAGMENTS:
        raise FramingError(
            f"a message of {len(payload)} bytes needs {count} fragments at MTU {mtu}, "
            f"more than the header can count ({MAX_FRAGMENTS})",
            msg_id=msg_id,
        )
    view = memoryview(payload)
    return [
        HEADER.pack(VERSION, msg_id, i, count) + view[i * step : (i + 1) * step]
        for i in range(count)
    ]


@dataclass(slots=True)
class _Partial:
    count: int
    next_index: int = 0
    size: int = 0
    parts: list[bytes] = field(default_factory=list)


class Reassembler:
    """Rebuilds messages from frames of one direction of one connection.

    ``feed`` returns the completed message or None, and raises FramingError (dropping the
    broken message) on anything that is not the next fragment of a valid message.
    """

    def __init__(self, max_message_bytes: int) -> None:
        self.max_message_bytes = max_message_bytes
        self._partials: dict[int, _Partial] = {}

    def pending(self) -> list[int]:
        """Ids of messages begun but not finished."""
        return list(self._partials)

    def reset(self) -> list[int]:
        """Forget partial messages (the link was lost); returns the ids that were cut off."""
        cut = self.pending()
        self._partials.clear()
        return cut

    def feed(self, frame: bytes) -> bytes | None:
        head = parse_header(frame)
        if head.version != VERSION:
            raise FramingError(
                f"frame with unknown framing version {head.version} (expected {VERSION})",
                msg_id=head.msg_id,
            )
        if head.count == 0 or head.index >= head.count:
            self._partials.pop(head.msg_id, None)
            raise FramingError(
                f"message {head.msg_id}: fragment index {head.index} with count {head.count} "
                "is impossible",
                msg_id=head.msg_id,
            )
        body = frame[HEADER_SIZE:]
        partial = self._partials.get(head.msg_id)
        if partial is None:
            return self._start(head, body)
        problem = self._check_next(head, partial)
        if problem is not None:
            del self._partials[head.msg_id]
            if head.index != 0:
                raise FramingError(problem, msg_id=head.msg_id)
            # A new message reused the id of one whose tail never came: report the old one,
            # keep the new one.
            err = FramingError(problem, msg_id=head.msg_id)
            err.completed = self._start(head, body)
            raise err
        return self._append(head.msg_id, partial, body)

    def _start(self, head: Header, body: bytes) -> bytes | None:
        if head.index != 0:
            raise FramingError(
                f"message {head.msg_id}: fragment {head.index}/{head.count} arrived but "
                "fragment 0 did not (missing or out of order)",
                msg_id=head.msg_id,
            )
        if len(self._partials) >= MAX_INTERLEAVED:
            raise FramingError(
                f"message {head.msg_id}: more than {MAX_INTERLEAVED} messages interleaved "
                f"(unfinished: {sorted(self._partials)[:8]}…)",
                msg_id=head.msg_id,
            )
        partial = _Partial(head.count)
        self._partials[head.msg_id] = partial
        return self._append(head.msg_id, partial, body)

    @staticmethod
    def _check_next(head: Header, partial: _Partial) -> str | None:
        if head.index == 0:
            return (
                f"message {head.msg_id}: a new message began before fragments "
                f"{partial.next_index}..{partial.count - 1} of {partial.count} arrived (missing)"
            )
        if head.count != partial.count:
            return (
                f"message {head.msg_id}: fragment count changed from {partial.count} to "
                f"{head.count} within the message"
            )
        if head.index != partial.next_index:
            kind = "repeated or out of order" if head.index < partial.next_index else "missing"
            return (
                f"message {head.msg_id}: expected fragment {partial.next_index}/{partial.count}, "
                f"got {head.index} (fragments {kind})"
            )
        return None

    def _append(self, msg_id: int, partial: _Partial, body: bytes) -> bytes | None:
        partial.size += len(body)
        if partial.size > self.max_message_bytes:
            del self._partials[msg_id]
            raise MessageTooLarge(partial.size, self.max_message_bytes, msg_id=msg_id)
        partial.parts.append(body)
        partial.next_index += 1
        if partial.next_index < partial.count:
            return None
        del self._partials[msg_id]
        return b"".join(partial.parts)
