"""ANSI escape sequences: strip them from console text, even when split across reads."""

from __future__ import annotations

import re

_ESCAPE = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI: colours, cursor moves
    r"|\x1b\][^\x07\x1b\r\n]*(?:\x07|\x1b\\)"  # OSC: titles, never across lines
    r"|\x1b[@-Z\\-_]"  # two-character escapes
)
# An escape that may still be completed by the next read.
_INCOMPLETE = re.compile(r"\x1b(?:\[[0-?]*[ -/]*|\][^\x07\x1b\r\n]*)?$")


class AnsiStripper:
    """Streams text through, holding back a trailing escape until it is complete."""

    def __init__(self) -> None:
        self._held = ""

    def feed(self, text: str) -> str:
        if not self._held and "\x1b" not in text:
            return text  # the usual case, checked at C speed
        text = self._held + text
        self._held = ""
        tail = _INCOMPLETE.search(text, max(0, len(text) - 256))
        if tail:
            self._held = text[tail.start() :]
            text = text[: tail.start()]
        return _ESCAPE.sub("", text)

    def flush(self) -> str:
        """Release a held tail as plain text: the line went idle, so it was line noise, not
        an escape, and what followed it (often the prompt) must not wait for more data."""
        held, self._held = self._held, ""
        return held


def strip_ansi(text: str) -> str:
    return _ESCAPE.sub("", text)
