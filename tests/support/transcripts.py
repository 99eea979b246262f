"""The shared transcripts of real NuttX sessions, read back into what the console received.

A transcript is the session's bytes written as one quoted, escaped string (``\\r``, ``\\n``,
``\\x1b``), broken after each line end for reading, with each typed command on a line of its
own, ``##>> <command>\\n``. The string breaks once more after the prompt that precedes a typed
command; that break is the transcript's, not the shell's (nsh prints nothing after its
prompt's ``\\x1b[K``, as the live builds show), so it is not part of the output.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass

from tests.support.nuttx_pty import shared_file

TYPED = "##>> "
PROMPT_END = "nsh> \x1b[K"


@dataclass(frozen=True)
class Exchange:
    typed: str  # the command, without its line end
    output: str  # everything the shell sent after it, up to the next command


@dataclass(frozen=True)
class Transcript:
    boot: str  # what came before the first command
    exchanges: tuple[Exchange, ...]

    def output_of(self, command: str) -> str:
        return next(e.output for e in self.exchanges if e.typed == command)

    def answer_to(self, command: str) -> list[str]:
        """The lines a command printed: after its echo, before the prompt that follows."""
        output = self.output_of(command)
        lines = output.split("\r\r\n")
        assert lines[0] == command, f"the echo of {command!r} opens its output: {output!r}"
        if lines[-1] == "":
            lines.pop()
        return [line for line in lines[1:] if not line.startswith("nsh> ")]


def read_transcript(name: str) -> Transcript:
    raw = shared_file(name).read_text().strip()
    assert raw[0] == raw[-1] == "'", f"{name}: one quoted string"
    pieces: list[tuple[str | None, str]] = [(None, "")]
    for line in raw[1:-1].split("\n"):
        if line.startswith(TYPED):
            typed = _unescape(line[len(TYPED) :]).rstrip("\r\n")
            pieces.append((typed, ""))
        else:
            last, text = pieces[-1]
            pieces[-1] = (last, text + _unescape(line))
    cleaned = [
        (typed, text[:-1] if text.endswith(PROMPT_END + "\n") else text) for typed, text in pieces
    ]
    boot = cleaned[0][1]
    exchanges = tuple(Exchange(typed or "", text) for typed, text in cleaned[1:])
    return Transcript(boot, exchanges)


def _unescape(text: str) -> str:
    return codecs.decode(text, "unicode_escape")
