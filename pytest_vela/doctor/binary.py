"""A bounds-checked cursor over bytes, for the binary formats the doctor reads.

The signing block (APK and rpk) is little-endian, the Java KeyStore big-endian; both are read
field by field with a cursor that never reads past its end. What an overrun is called belongs to
the format, so each format's cursor says it in :meth:`Cursor.overrun`.
"""

from __future__ import annotations

import struct
from typing import ClassVar


class Cursor:
    """Reads fixed-width unsigned integers and byte fields in ``ORDER`` (``"<"`` little-endian,
    ``">"`` big-endian), never past the end of ``data``."""

    ORDER: ClassVar[str] = "<"

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    @property
    def remaining(self) -> int:
        return len(self.data) - self.pos

    def overrun(self, n: int) -> Exception:
        """The error raised when a field of ``n`` bytes does not fit in what remains."""
        return ValueError(
            f"field of {n} bytes at offset {self.pos} overruns the {len(self.data)} available"
        )

    def take(self, n: int) -> bytes:
        if n < 0 or n > self.remaining:
            raise self.overrun(n)
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def _unsigned(self, code: str, size: int) -> int:
        value: int = struct.unpack(self.ORDER + code, self.take(size))[0]
        return value

    def u16(self) -> int:
        return self._unsigned("H", 2)

    def u32(self) -> int:
        return self._unsigned("I", 4)

    def u64(self) -> int:
        return self._unsigned("Q", 8)
