"""JSON as the bridge and the watch's console carry it: compact, and UTF-8 rather than escapes."""

from __future__ import annotations

import json
from typing import Any


def dumps(obj: Any) -> str:
    """``obj`` serialised once, without spaces, non-ASCII kept as it is."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)
