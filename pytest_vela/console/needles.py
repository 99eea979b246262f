"""Literal text every match of a pattern must contain, to skip text cheaply before a search.

A marker such as ``Assertion failed|PANIC!!!`` has no common first character, so a regular
expression search tries it at every position; ``"PANIC!!!" in text`` scans many times faster.
``needles`` finds such strings — one of them is in any text the pattern matches — or gives
None when it cannot tell (then the text is searched as it is).
"""

from __future__ import annotations

import importlib
import re
from typing import Any

_sre_parse: Any
try:  # the parser is internal to ``re``: without it, every text is searched
    _sre_parse = importlib.import_module("re._parser")
    BRANCH, LITERAL, SUBPATTERN = _sre_parse.BRANCH, _sre_parse.LITERAL, _sre_parse.SUBPATTERN
except (ImportError, AttributeError):  # pragma: no cover - a Python without it
    _sre_parse = None

_SHORTEST_USEFUL = 3


def needles(regex: re.Pattern[str]) -> tuple[str, ...] | None:
    if _sre_parse is None or regex.flags & re.IGNORECASE:
        return None
    try:
        found = _in_sequence(_sre_parse.parse(regex.pattern, regex.flags))
    except Exception:  # an unfamiliar parse tree: search every text
        return None
    if not found or min(len(n) for n in found) < _SHORTEST_USEFUL:
        return None
    return found


def _in_sequence(items: Any) -> tuple[str, ...] | None:
    """The best needle set among a sequence's parts: a literal run, a group, a branch."""
    candidates: list[tuple[str, ...]] = []
    run: list[str] = []
    for op, arg in items:
        if op is LITERAL:
            run.append(chr(arg))
            continue
        if run:
            candidates.append(("".join(run),))
            run = []
        if op is SUBPATTERN:
            _group, add_flags, _del_flags, sub = arg
            found = None if add_flags & re.IGNORECASE else _in_sequence(sub)
        elif op is BRANCH:
            found = _in_branches(arg[1])
        else:
            continue
        if found:
            candidates.append(found)
    if run:
        candidates.append(("".join(run),))
    if not candidates:
        return None
    return max(candidates, key=lambda found: (min(len(n) for n in found), -len(found)))


def _in_branches(branches: Any) -> tuple[str, ...] | None:
    found: list[str] = []
    for branch in branches:
        sub = _in_sequence(branch)
        if sub is None:
            return None  # a branch that needs no literal: any text may match
        found.extend(sub)
    return tuple(dict.fromkeys(found))
