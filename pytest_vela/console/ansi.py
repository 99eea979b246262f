"""ANSI escape sequences: strip them from console text, even when split across reads.

One escape carries meaning for the harness: erase to the end of the line (``ESC [ K``), which
NuttX's readline prints when it starts reading a line, right after the prompt. The stripper
notes where it removed one (``erased``), so the console can tell the shell's own prompt from
prompt-like text in a command's output.
"""

from __future__ import annotations

import re

_ESCAPE = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI: colours, cursor moves
    r"|\x1b\][^\x07\x1b\r\n]*(?:\x07|\x1b\\)"  # OSC: titles, never across lines
    r"|\x1b[@-Z\\-_]"  # two-character escapes
)
# An escape that may still be completed by the next read.
_INCOMPLETE = re.compile(r"\x1b(?:\[[0-?]*[ -/]*|\][^\x07\x1b\r\n]*)?$")
_ERASE_TO_EOL = ("\x1b[K", "\x1b[0K")


class AnsiStripper:
    """Streams text through, holding back a trailing escape until it is complete."""

    def __init__(self) -> None:
        self._held = ""
        self.erased: list[int] = []  # where, in the text the last call returned, an erase was

    def feed(self, text: str) -> str:
        if not self._held and "\x1b" not in text:
            if self.erased:
                self.erased = []
            return text  # the usual case, checked at C speed
        text = self._held + text
        self._held = ""
        tail = _INCOMPLETE.search(text, max(0, len(text) - 256))
        if tail:
            self._held = text[tail.start() :]
            text = text[: tail.start()]
        if "K" not in text:
            self.erased = []
            return _ESCAPE.sub("", text)
        return self._strip_noting_erases(text)

    def _strip_noting_erases(self, text: str) -> str:
        kept: list[str] = []
        erased: list[int] = []
        pos = length = 0
        for escape in _ESCAPE.finditer(text):
            kept.append(text[pos : escape.start()])
            length += escape.start() - pos
            if escape.group() in _ERASE_TO_EOL:
                erased.append(length)
            pos = escape.end()
        kept.append(text[pos:])
        self.erased = erased
        return "".join(kept)

    def flush(self) -> str:
        """Release a held tail as plain text: the line went idle, so it was line noise, not
        an escape, and what followed it (often the prompt) must not wait for more data."""
        held, self._held = self._held, ""
        self.erased = []
        return held


def strip_ansi(text: str) -> str:
    return _ESCAPE.sub("", text)
