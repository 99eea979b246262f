"""Figures a rig measures while it works (how long a boot took, a connection, a send's round
trip) and those a test records itself, each with its unit; the plugin hands every test the ones
taken while it ran."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

#: Records one figure: its name, its value, its unit ("s", "ms", "bytes", … or "").
MetricSink = Callable[[str, float, str], None]


@dataclass(frozen=True)
class Metric:
    name: str
    value: float
    unit: str
    ts: float  # when it was taken (host clock)


class Metrics:
    """The figures of one rig, in the order they were taken."""

    def __init__(self) -> None:
        self._taken: list[Metric] = []
        self._lock = threading.Lock()

    def record(self, name: str, value: float, unit: str = "") -> None:
        """Keep one figure; a name is a word (``send_round_trip``), a value a finite number."""
        if not name or not name.replace("_", "").replace(".", "").isalnum():
            raise ValueError(f"a metric's name is a word such as 'boot_time' (got {name!r})")
        number = float(value)
        if not math.isfinite(number):
            raise ValueError(f"metric {name!r}: {value!r} is not a finite number")
        with self._lock:
            self._taken.append(Metric(name, number, unit, time.time()))

    def mark(self) -> int:
        with self._lock:
            return len(self._taken)

    def since(self, mark: int) -> list[Metric]:
        with self._lock:
            return self._taken[mark:]
