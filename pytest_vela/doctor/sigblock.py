"""The signing block that APK Signature Scheme v2/v3 and the rpk format both use.

Both formats insert a block between a zip's last local entry and its central directory:
``u64 size, (u64 length, u32 id, value)*, u64 size, 16-byte magic``. Both sign a digest of the
zip *as it was before the block was inserted*: the local entries, the central directory, and the
end-of-central-directory record with its directory offset pointing at where the block now sits.
Everything in the block is little-endian and length-prefixed, read here by :class:`Reader`.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from pytest_vela.doctor.binary import Cursor

EOCD_MAGIC = b"PK\x05\x06"
EOCD_SIZE = 22
CD_MAGIC = b"PK\x01\x02"
MAX_COMMENT = 0xFFFF


class FormatError(ValueError):
    """The bytes do not have the structure the format promises; the message says where."""


class Reader(Cursor):
    """Reads little-endian integers and u32-length-prefixed fields, never past its end."""

    ORDER = "<"

    def __init__(self, data: bytes, what: str) -> None:
        super().__init__(data)
        self.what = what

    def overrun(self, n: int) -> FormatError:
        return FormatError(f"{self.what}: {super().overrun(n)}")

    def prefixed(self) -> bytes:
        """A field preceded by its u32 length."""
        return self.take(self.u32())

    def sub(self, what: str) -> Reader:
        """A reader over the next length-prefixed field."""
        return Reader(self.prefixed(), f"{self.what}/{what}")

    def items(self, what: str) -> Iterator[Reader]:
        """Readers over a length-prefixed sequence of length-prefixed items."""
        seq = self.sub(what)
        while seq.remaining:
            yield seq.sub(what)


@dataclass(frozen=True)
class SignedZip:
    """Where the parts of a signed zip are, and the id-value pairs of its signing block."""

    data: bytes
    block_offset: int
    cd_offset: int
    eocd_offset: int
    pairs: dict[int, bytes]

    def sections(self) -> list[bytes]:
        """The three signed sections: local entries, central directory, EOCD as before signing."""
        eocd = bytearray(self.data[self.eocd_offset :])
        struct.pack_into("<I", eocd, 16, self.block_offset)
        return [
            self.data[: self.block_offset],
            self.data[self.cd_offset : self.eocd_offset],
            bytes(eocd),
        ]


def find_eocd(data: bytes) -> int:
    """Offset of the end-of-central-directory record, searching back over a possible comment."""
    lowest = max(0, len(data) - EOCD_SIZE - MAX_COMMENT)
    pos = len(data) - EOCD_SIZE
    while pos >= lowest:
        if data[pos : pos + 4] == EOCD_MAGIC:
            (comment_len,) = struct.unpack_from("<H", data, pos + 20)
            if pos + EOCD_SIZE + comment_len == len(data):
                return pos
        pos -= 1
    raise FormatError("not a zip file: no end-of-central-directory record")


def read_signed_zip(data: bytes, magic: bytes) -> SignedZip | None:
    """The signing block with ``magic`` in front of the central directory, or None if absent."""
    eocd = find_eocd(data)
    (cd_offset,) = struct.unpack_from("<I", data, eocd + 16)
    if cd_offset > eocd or data[cd_offset : cd_offset + 4] not in (CD_MAGIC, EOCD_MAGIC):
        raise FormatError(f"zip central directory offset {cd_offset} does not point at one")
    footer_start = cd_offset - 24
    if footer_start < 0 or data[cd_offset - 16 : cd_offset] != magic:
        return None
    (size,) = struct.unpack_from("<Q", data, footer_start)
    block_offset = cd_offset - size - 8
    if block_offset < 0 or size < 24:
        raise FormatError(f"signing block size {size} does not fit in the file")
    (head_size,) = struct.unpack_from("<Q", data, block_offset)
    if head_size != size:
        raise FormatError(f"signing block sizes disagree ({head_size} at start, {size} at end)")
    pairs: dict[int, bytes] = {}
    body = Reader(data[block_offset + 8 : footer_start], "signing block")
    while body.remaining:
        length = body.u64()
        pair = Reader(body.take(length), "signing block pair")
        pair_id = pair.u32()
        pairs[pair_id] = pair.take(pair.remaining)
    return SignedZip(data, block_offset, cd_offset, eocd, pairs)


Hasher = Callable[[bytes], bytes]


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def sha512(data: bytes) -> bytes:
    return hashlib.sha512(data).digest()


def content_digest(sections: list[bytes], digest: Hasher, chunk_size: int | None) -> bytes:
    """Digest of the signed sections, cut in chunks (``None``: one chunk per section).

    Each chunk is hashed as ``0xA5, u32 length, bytes``; the chunk digests as
    ``0x5A, u32 count, digests``. APKs use 1 MiB chunks, rpks one chunk per section.
    """
    chunks: list[bytes] = []
    for section in sections:
        if chunk_size is None:
            chunks.append(section)
        else:
            chunks.extend(section[i : i + chunk_size] for i in range(0, len(section), chunk_size))
    digests = [digest(b"\xa5" + struct.pack("<I", len(c)) + c) for c in chunks]
    return digest(b"\x5a" + struct.pack("<I", len(digests)) + b"".join(digests))
