"""A rig's watch outside pytest, in one call: a script, a benchmark or a notebook gets the same
watch a test run would — its backend started, the console open, the shell awake, the firmware
and apps provisioned — and everything ended when the block ends.

    with open_watch("watch01") as watch:
        print(watch.shell("uname -a"))
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from pytest_vela.device.watch import Watch
from pytest_vela.rig.session import RigSession
from pytest_vela.rigfile.loader import Rig, load_rig


@contextmanager
def open_rig(
    rig: Rig | str,
    logs: Path | None = None,
    *,
    rig_dir: Path = Path("rigs"),
    flash: str = "never",
    say: Callable[[str], None] | None = None,
) -> Iterator[RigSession]:
    """The rig's session, its watch started (``RigError`` when it cannot be). ``rig`` is a
    ``Rig`` or a rig name looked up in ``rig_dir``; logs go to ``logs`` (default
    ``reports/<rig>/logs``, as in a test run)."""
    found = load_rig(rig, rig_dir) if isinstance(rig, str) else rig
    session = RigSession(found, logs or Path("reports") / found.name / "logs", flash, say)
    try:
        session.watch()
        yield session
    finally:
        session.close()


@contextmanager
def open_watch(
    rig: Rig | str,
    logs: Path | None = None,
    *,
    rig_dir: Path = Path("rigs"),
    flash: str = "never",
    say: Callable[[str], None] | None = None,
) -> Iterator[Watch]:
    """The rig's watch at a ready shell, as the ``watch`` fixture gives it (see ``open_rig``)."""
    with open_rig(rig, logs, rig_dir=rig_dir, flash=flash, say=say) as session:
        yield session.watch()
