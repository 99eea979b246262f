"""What a run came to, counted the same way in the terminal and from the report's results.

A failure is a product failure, a watch crash, a rig fault (its reason the fault's class, or
"down: <class>" for a rig that never started) or an error in the test itself; the closing line
names the first three always and the fourth when there is one.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

PRODUCT, CRASH, RIG, TEST = "product", "crash", "rig", "test"
FAILURES = (PRODUCT, CRASH, RIG, TEST)

_EXCEPTION = re.compile(r"^(?:[\w.]+\.)?(?P<name>\w+):")
_DOWN = re.compile(r"^(?:[\w.]+\.)?RigDown: \S+ down: (?P<cause>\w+):")


@dataclass(frozen=True)
class Outcome:
    """How one test on ``rig`` ended: ``kind`` is ``passed``, ``skipped`` or a failure class;
    ``reason`` names a rig fault."""

    rig: str
    kind: str
    reason: str = ""

    @property
    def failed(self) -> bool:
        return self.kind in FAILURES


def rig_fault_reason(message: str) -> str:
    """A rig fault's reason from its message (``module.Class: text``)."""
    down = _DOWN.match(message)
    if down:
        return f"down: {down['cause']}"
    found = _EXCEPTION.match(message)
    return found["name"] if found else "unknown"


def plural(n: int, word: str, many: str | None = None) -> str:
    return f"{n} {word if n == 1 else (many or word + 's')}"


def closing_line(outcomes: Iterable[Outcome], passed_after_rerun: int = 0) -> str:
    """ "N product failures, M watch crashes, K rig faults (rig: reason)", and how many tests
    passed only when run again after a rig fault."""
    found = list(outcomes)
    counts = Counter(o.kind for o in found)
    parts = [
        plural(counts[PRODUCT], "product failure"),
        plural(counts[CRASH], "watch crash", "watch crashes"),
        plural(counts[RIG], "rig fault"),
    ]
    faults: dict[str, Counter[str]] = {}
    for outcome in found:
        if outcome.kind == RIG:
            faults.setdefault(outcome.rig, Counter())[outcome.reason] += 1
    if faults:
        named = "; ".join(
            f"{rig}: "
            + ", ".join(reason + (f" ×{n}" if n > 1 else "") for reason, n in reasons.items())
            for rig, reasons in sorted(faults.items())
        )
        parts[-1] += f" ({named})"
    line = ", ".join(parts)
    if counts[TEST]:
        line += f", {plural(counts[TEST], 'error')} in the tests themselves"
    if passed_after_rerun:
        line += f"; {plural(passed_after_rerun, 'test')} passed after a rerun"
    return line
