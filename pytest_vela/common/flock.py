"""An exclusive lock between the processes of one run (a controller and its xdist workers) on a
lock file beside what it guards.

``fcntl.flock`` is all that takes: the lock goes with the open file, so a process that dies
holding it never leaves it held, and the file stays for the next holder. The ``filelock``
package would do the same at about 35 ms of import in every process of a run, each worker of
a farm included, for one short section per rig.
"""

from __future__ import annotations

import contextlib
import fcntl
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def exclusive(path: Path) -> Iterator[None]:
    """Hold ``path`` (created when missing) exclusively for the block; waits for a holder."""
    with path.open("a") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
