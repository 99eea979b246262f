"""The shell's own prompt, told from prompt-like text in a command's output.

``echo "nsh> x"`` prints a line that starts with the prompt's text, and output must come back
whole, not cut there. The shell's own prompt is the prompt's text at the start of a line where
the shell then rests, waiting for input:

- followed by an erase to the end of the line (``ESC [ K``): NuttX's readline prints one each
  time it starts reading a line (``system/readline``, with ``CONFIG_READLINE_ECHO``, as serial
  consoles have), right after nsh printed the prompt. Output that merely contains the prompt's
  text is not followed by one. This decides at once, and holds while log lines keep arriving
  after the prompt;
- or, on a shell that prints no such escape, last in the text received with the line quiet for
  ``SETTLE_S`` seconds (output rarely stops for that long right after a prompt-like line start).

A line starts after a ``\\n`` (NuttX ends lines ``\\r\\n``, or ``\\r\\r\\n`` behind a pty that
adds a ``\\r``), or where the unmatched text begins.
"""

from __future__ import annotations

import functools
import re

SETTLE_S = 0.05


@functools.lru_cache(maxsize=16)
def prompt_regex(prompt: str) -> re.Pattern[str]:
    """The prompt's text at the start of a line."""
    return re.compile(r"(?m)^" + re.escape(prompt))
