"""The values a rig file holds, checked where they are read: each type here refuses what a
test run cannot use, with a message that says what to write instead."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from pathlib import Path, PurePath
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, Strict

DAY_S = 86_400
DAY_MS = DAY_S * 1000
MAX_MESSAGE_BYTES = 16 * 1024 * 1024
MAX_CODE = 65_535


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("contains a NUL byte (\\u0000), which no path, command or text may hold")
    return value


def _not_empty(value: str) -> str:
    if not value:
        raise ValueError("must not be empty")
    return _no_nul(value)


def _path_text(value: Any) -> Any:
    """Checks on a path as written; pydantic then makes it a ``Path`` (``Path("")`` would be
    the rig file's own folder, so an empty path is refused here, not resolved)."""
    if isinstance(value, PurePath):
        value = str(value)
    if not isinstance(value, str):
        raise ValueError('a path is a string, as in "dist/app.rpk"')
    if not value.strip():
        raise ValueError("empty path: give the file's path, or leave the field out")
    return _no_nul(value)


def _visible(value: str) -> str:
    """A text the console looks for in what it received: no control characters, since the
    console strips ANSI escapes (such as the erase to the end of the line nsh prints after its
    prompt) before it matches."""
    found = next((ch for ch in value if ord(ch) < 0x20 or ord(ch) == 0x7F), None)
    if found is not None:
        raise ValueError(
            f"holds the control character {found!r}: the console strips escapes (such as the "
            "\\x1b[K nsh prints after its prompt) before matching, so write only the text "
            'the prompt shows, as in "nsh> "'
        )
    return value


def _pattern(value: str) -> str:
    try:
        compiled = re.compile(value)
    except re.error as exc:
        raise ValueError(f"not a valid regular expression ({exc}): {value!r}") from None
    if compiled.search("") is not None:
        raise ValueError(
            f"the regular expression {value!r} matches the empty string, so it would match "
            "any console output; make it match only the line it stands for"
        )
    return value


def _host_port(value: str) -> str:
    host, _, port = value.rpartition(":")
    if not host or any(c.isspace() or c == "/" for c in host) or not port.isdigit():
        raise ValueError(f'not HOST:PORT (got {value!r}): write it as "127.0.0.1:20408", no scheme')
    if not 0 < int(port) < 65536:
        raise ValueError(f"port {port} is out of range (1 … 65535)")
    return value


def _duration(unit: str, day: int, *, zero: bool) -> Callable[[float], float]:
    """A duration's check: finite, above 0 (or 0 itself when ``zero``), and at most ``day``."""
    low = "at least 0" if zero else "more than 0"

    def check(value: float) -> float:
        if not (math.isfinite(value) and (value >= 0 if zero else value > 0) and value <= day):
            raise ValueError(f"must be a finite number of {unit}, {low} and at most {day} (a day)")
        return value

    return check


# Texts: no NUL byte; those that are looked for or sent must not be empty either.
Text = Annotated[str, AfterValidator(_no_nul)]
Word = Annotated[str, AfterValidator(_not_empty)]
VisibleWord = Annotated[str, AfterValidator(_not_empty), AfterValidator(_visible)]
Pattern = Annotated[str, AfterValidator(_not_empty), AfterValidator(_pattern)]
HostPort = Annotated[str, AfterValidator(_not_empty), AfterValidator(_host_port)]
FilePath = Annotated[Path, Strict(False), BeforeValidator(_path_text)]
# Numbers: finite, and bounded by what a test run can use.
Seconds = Annotated[float, AfterValidator(_duration("seconds", DAY_S, zero=False))]
PauseSeconds = Annotated[float, AfterValidator(_duration("seconds", DAY_S, zero=True))]
Millis = Annotated[int, AfterValidator(_duration("ms", DAY_MS, zero=False))]
DelayMillis = Annotated[int, AfterValidator(_duration("ms", DAY_MS, zero=True))]
Code = Annotated[int, Field(ge=0, le=MAX_CODE)]


class Section(BaseModel):
    # strict: a value must have the type the field declares (TOML gives each value its type);
    # where seconds are expected, an integer is accepted as well as a float.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)
