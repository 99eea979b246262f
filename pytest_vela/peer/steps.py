"""Report steps around the phone side's calls, without knowing who reports them.

The plugin hands ``Interconnect``, ``Peer`` and the ``EventLog`` a ``CallStep``: called with a
title and the call's arguments, it returns a context manager around the call that yields a
function taking the call's outcome in words. Without a report every step is a no-op.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from typing import Any

Outcome = Callable[[str], None]
CallStep = Callable[[str, Mapping[str, Any]], AbstractContextManager[Outcome]]
SHOWN = 60  # characters of an argument shown in a step's title


@contextmanager
def no_step(_title: str, _params: Mapping[str, Any]) -> Iterator[Outcome]:
    yield lambda _outcome: None


def shown(value: Any, limit: int = SHOWN) -> str:
    """A short form of an argument or a result for a step's title: JSON where it is JSON."""
    try:
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
