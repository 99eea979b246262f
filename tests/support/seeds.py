"""The seeds of the randomised fault tests: a fixed one, so that every run (CI's included) meets
the same faults and a regression shows at once, and one new one each run, printed, so that the
faults nobody thought of keep being met. ``VELA_FAULT_SEED`` (comma-separated) replays seeds."""

from __future__ import annotations

import os
import random

FIXED_SEED = 20261204


def fault_seeds() -> list[int]:
    given = os.environ.get("VELA_FAULT_SEED", "").strip()
    if given:
        return [int(part) for part in given.split(",") if part.strip()]
    # Under xdist every worker collects the tests: the run's id, shared by them, makes the
    # new seed one seed for the whole run.
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID")
    new = int(run[:8], 16) if run else random.SystemRandom().randrange(2**32)
    return [FIXED_SEED, new]
