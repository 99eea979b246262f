"""labgrid's client session to a coordinator, one per coordinator in a process, on a loop thread
of its own (``labgrid_place`` holds a place through it, ``labgrid_reservation`` reserves one).

labgrid is imported here only, and only when a rig uses it: without the ``labgrid`` extra
nothing else changes, and such a rig fails at start with the extra to install.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import os
import threading
from collections.abc import Callable, Coroutine
from typing import Any, ClassVar, TypeVar

from pytest_vela.common.loop import LoopThread
from pytest_vela.errors import LoopTimeout, RigConfigError, RigError
from pytest_vela.rigfile.labgrid_table import LabgridSettings

T = TypeVar("T")

DEFAULT_COORDINATOR = "127.0.0.1:20408"  # labgrid's own default
EXTRA = "pip install 'pytest-vela[labgrid]'"
CALL_TIMEOUT = 15.0  # seconds one exchange with the coordinator may take
POLL_S = 0.25  # how often a waiting reservation is polled (it lives 60 s after the last poll)
POWER_DRIVERS = {"NetworkPowerPort": "NetworkPowerDriver", "PDUDaemonPort": "PDUDaemonDriver"}


def labgrid_modules() -> dict[str, Any]:
    """labgrid's parts this module uses, imported on first use; a RigConfigError naming the
    extra when labgrid is not installed."""
    try:
        from labgrid import Target
        from labgrid.factory import target_factory
        from labgrid.remote.client import ClientSession
        from labgrid.remote.client import Error as ClientError
        from labgrid.remote.common import Reservation, ReservationState
        from labgrid.remote.generated import labgrid_coordinator_pb2
        from labgrid.util.proxy import proxymanager
    except ImportError as exc:
        raise RigConfigError(
            f"this rig names a labgrid place ([labgrid] in its rig file), but labgrid cannot "
            f"be imported ({exc}): install the extra, {EXTRA}"
        ) from None
    return {
        "Target": Target,
        "target_factory": target_factory,
        "ClientSession": ClientSession,
        "ClientError": ClientError,
        "Reservation": Reservation,
        "ReservationState": ReservationState,
        "pb2": labgrid_coordinator_pb2,
        "proxymanager": proxymanager,
    }


def coordinator_address(settings: LabgridSettings) -> str:
    """The rig file's ``labgrid.coordinator``, else ``$LG_COORDINATOR``, else labgrid's
    default."""
    return settings.coordinator or os.environ.get("LG_COORDINATOR") or DEFAULT_COORDINATOR


# --- one client session per coordinator, on a loop thread of its own -------------------------


class Coordinator:
    """A labgrid ``ClientSession`` to one coordinator, on an event loop thread of its own that
    runs for as long as the session does (its message pump keeps places and resources current;
    pytest's main thread never runs a loop). Shared by the rigs of a process that use the same
    coordinator; every exchange is bounded by ``CALL_TIMEOUT``."""

    _open: ClassVar[dict[str, Coordinator]] = {}
    _guard: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, address: str) -> None:
        self.lg = labgrid_modules()
        self.address = address
        self._users = 0
        self._loop = LoopThread(f"vela-labgrid-{address}")
        try:
            self.session: Any = self.run(self._start(), "connecting")
        except RigError as exc:
            self._loop.stop()
            raise RigError(
                f"{exc}; is labgrid-coordinator running there? (labgrid.coordinator in the rig "
                "file, else LG_COORDINATOR)"
            ) from None
        except BaseException:
            self._loop.stop()
            raise

    @classmethod
    def get(cls, address: str) -> Coordinator:
        with cls._guard:
            coordinator = cls._open.get(address)
            if coordinator is None:
                coordinator = cls._open[address] = Coordinator(address)
            coordinator._users += 1
            return coordinator

    def put(self) -> None:
        """One user is done with it; the last one closes the session."""
        with self._guard:
            self._users -= 1
            if self._users > 0:
                return
            self._open.pop(self.address, None)
        with contextlib.suppress(RigError):
            self.run(self._stop(), "closing the session")
        self._loop.stop()

    async def _start(self) -> Any:
        args = argparse.Namespace(place=None, allow_unmatched=False, kick=False)
        # Made on the loop that will run it: its gRPC channel belongs to the loop it is made on.
        session = self.lg["ClientSession"](self.address, asyncio.get_running_loop(), args=args)
        await session.start()
        return session

    async def _stop(self) -> None:
        await self.session.stop()
        await self.session.close()

    def run(self, coro: Coroutine[Any, Any, T], doing: str) -> T:
        """Run ``coro`` on the session's loop; labgrid's own errors become RigErrors saying
        what was being done, with labgrid's chatter on stdout kept out of the run's output."""
        try:
            return self._loop.run(_quiet(coro), CALL_TIMEOUT, doing)
        except LoopTimeout:
            raise RigError(
                f"labgrid coordinator {self.address} did not answer within {CALL_TIMEOUT:g} s "
                f"({doing})"
            ) from None
        except self.lg["ClientError"] as exc:
            raise RigError(f"labgrid coordinator {self.address}, {doing}: {exc}") from None
        except (ConnectionError, OSError) as exc:
            raise RigError(f"labgrid coordinator {self.address}, {doing}: {exc}") from None

    def call(self, fn: Callable[..., T], *args: Any, doing: str) -> T:
        """A plain call on the session, made on its loop (which updates what it reads)."""

        async def on_loop() -> T:
            return fn(*args)

        return self.run(on_loop(), doing)

    @property
    def me(self) -> str:
        """Who this process is to labgrid: host/user (``LG_HOSTNAME`` / ``LG_USERNAME``)."""
        return f"{self.session.gethostname()}/{self.session.getuser()}"


async def _quiet(coro: Coroutine[Any, Any, T]) -> T:
    """labgrid's client prints what it did ("acquired place …") for its command line."""
    with contextlib.redirect_stdout(io.StringIO()):
        return await coro
