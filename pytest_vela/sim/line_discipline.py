"""The simulated console's line discipline: input as nsh's readline takes it, output as the
line carries it.

Input: ``\\r`` and ``\\n`` are each an Enter (``cmd\\r\\n`` runs ``cmd``, then an empty line),
backspace and DEL erase, Ctrl-C drops the line, NUL and other control bytes are ignored.
What is typed is echoed when the shell reads it (an Enter as a line end): input typed ahead
while a command runs is echoed after that command's prompt, as nsh's readline does.

Output: every ``\\n`` goes out as ``line_end``: ``\\r\\n`` as NuttX sends it over a UART, or
``\\r\\r\\n`` as a NuttX sim build behind a pty that adds a ``\\r`` (``[sim] line_end``), so
the harness meets both.
"""

from __future__ import annotations

ENTER = (0x0D, 0x0A)
ERASE = (0x08, 0x7F)
CTRL_C = 0x03


class LineDiscipline:
    def __init__(self, line_end: str = "\r\n") -> None:
        self.line_end = line_end
        self._line = bytearray()

    def encode(self, text: str) -> bytes:
        """Output text, its line ends as this line carries them."""
        return text.replace("\n", self.line_end).encode()

    def clear(self) -> None:
        self._line.clear()

    def take(self, data: bytes) -> tuple[bytes, str | None, bytes]:
        """Read typed bytes up to the first Enter, as readline reads them: the echo, the
        line when one was completed (else None), and the bytes not read yet."""
        echo = bytearray()
        end = self.line_end.encode()
        for i, byte in enumerate(data):
            if byte in ENTER or byte == CTRL_C:
                echo += b"^C" + end if byte == CTRL_C else end
                line = "" if byte == CTRL_C else self._line.decode("utf-8", "replace")
                self._line.clear()
                return bytes(echo), line, data[i + 1 :]
            if byte in ERASE:
                if self._line:
                    self._line.pop()
                    echo += b"\b \b"
            elif byte >= 0x20:
                self._line.append(byte)
                echo.append(byte)
        return bytes(echo), None, b""
