"""The farm under pytest-xdist: every test of one rig runs on one worker.

A watch is one device, and the worker that runs its tests holds its console, its BLE link and
its lock for the whole run, so a rig's tests must never be spread over workers. xdist's own
``loadgroup`` cannot do this on current pytest (it renames node ids through an attribute
pytest no longer reads), so this scheduler groups by the rig named in each test's id; tests
that use no rig are spread one by one.
"""

from __future__ import annotations

import re
from typing import Any

from xdist.scheduler import LoadScopeScheduling

_PARAMS = re.compile(r"\[(?P<ids>[^\[\]]*)\]$")


def rig_of(nodeid: str, rigs: list[str]) -> str | None:
    """The rig in a node id such as ``test_x.py::test_y[watch01-3]``; None without one."""
    found = _PARAMS.search(nodeid)
    if found is None:
        return None
    ids = found["ids"]
    for name in sorted(rigs, key=len, reverse=True):
        if (
            ids == name
            or ids.startswith(f"{name}-")
            or ids.endswith(f"-{name}")
            or (f"-{name}-" in ids)
        ):
            return name
    return None


class RigScheduling(LoadScopeScheduling):  # type: ignore[misc]
    """Load-scope scheduling whose scope is the rig."""

    def __init__(self, config: Any, log: Any, rigs: list[str]) -> None:
        super().__init__(config, log)
        self.rigs = rigs

    def _split_scope(self, nodeid: str) -> str:
        rig = rig_of(nodeid, self.rigs)
        return f"rig:{rig}" if rig is not None else nodeid
