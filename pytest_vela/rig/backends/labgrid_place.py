"""A watch on a labgrid place: the coordinator hands out its console and its power.

A rig file with a ``[labgrid]`` table names a place instead of a port. The place is acquired
through labgrid's client API when the rig starts and released when it ends — on Ctrl-C and
SIGTERM too, and at interpreter exit as a last resort. Its ``NetworkSerialPort`` becomes the
console's ``rfc2217://host:port`` (or ``socket://`` for a raw port), and with
``reset.method = "labgrid"`` a hard reset switches its power resource off for
``reset.pulse_ms`` and on again. BLE stays local to the runner, as for any watch on a desk.

Who holds a place is labgrid's *host/user*, not a process: two runs of one user on one host
would both own it. So a run also takes a file lock for the place on this host (as a hardware
rig's lock), and notes that it holds the place. A later run that finds the place acquired under
its own name, with that note left behind and the lock free, knows the holder died without
releasing it (a SIGKILL: labgrid has no lease) and takes it over: releases and acquires again.
Acquired under its own name without such a note (``labgrid-client acquire`` by hand), it is
refused, as it is when another host/user holds it — unless ``labgrid.wait`` gives it seconds to
wait in a labgrid reservation for the place to be handed over. A place a pool's reservation was
allocated (``labgrid_reservation``) is acquired with that reservation's token.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

from pytest_vela.console.port import Console
from pytest_vela.device.power import PowerControl, power_control
from pytest_vela.errors import LockError, RigConfigError, RigError
from pytest_vela.rig.backends.base import Reach, RigBackend
from pytest_vela.rig.backends.labgrid_reservation import Reservation, handed_over
from pytest_vela.rig.backends.labgrid_session import (
    POWER_DRIVERS,
    Coordinator,
    coordinator_address,
    labgrid_modules,
)
from pytest_vela.rig.lock import RigLock, lock_dir
from pytest_vela.rig.provisioning import preflight
from pytest_vela.rigfile.loader import Rig
from pytest_vela.rigfile.schema import BleSettings

Say = Callable[[str], None]
# --- the place --------------------------------------------------------------------------------


class LabgridPlace:
    """One acquired labgrid place: its resources as labgrid objects, released at the end."""

    def __init__(self, rig: Rig, say: Say) -> None:
        settings = rig.settings.labgrid
        assert settings is not None, "a rig with a [labgrid] table"
        self.rig = rig
        self.name = settings.place
        self.settings = settings
        self.say = say
        self.address = coordinator_address(settings)
        where = self.address.replace(":", "_")
        self._lock = RigLock(f"labgrid-{self.name}@{where}")
        self._note = lock_dir() / f"labgrid-{self.name}@{where}.held"
        self._coordinator: Coordinator | None = None
        self._maybe_held = False
        self._target: Any = None
        self._resources: dict[tuple[str, str], Any] = {}

    @property
    def where(self) -> str:
        return f"labgrid place {self.name!r} on {self.address}"

    # -- acquire ---------------------------------------------------------------------------

    def acquire(self) -> None:
        try:
            self._lock.acquire()
        except LockError:
            holder = self._lock.holder() or "another run"
            raise LockError(
                f"{self.where} is in use by {holder} on this host (rig {self.rig.name!r}); "
                "wait for it or pick another rig"
            ) from None
        try:
            self._coordinator = Coordinator.get(self.address)
            self._acquire(self._coordinator)
            atexit.register(self.release)
            self._resources = self._coordinator.call(
                self._coordinator.session.get_target_resources,
                self._place(self._coordinator),
                doing=f"reading the resources of place {self.name!r}",
            )
        except BaseException:
            self.release()
            raise

    def _place(self, coordinator: Coordinator) -> Any:
        session = coordinator.session
        places = coordinator.call(lambda: dict(session.places), doing="listing places")
        place = places.get(self.name)
        if place is None:
            known = ", ".join(sorted(places)) or "none"
            raise RigConfigError(
                f"{self.where} does not exist (places there: {known}); create it with "
                f"`labgrid-client -p {self.name} create` and `labgrid-client -p {self.name} "
                "add-match EXPORTER/GROUP/*`, or fix labgrid.place in "
                f"{self.rig.path or 'the rig file'}"
            )
        return place

    def _acquire(self, coordinator: Coordinator) -> None:
        place = self._place(coordinator)
        me = coordinator.me
        if place.acquired == me:
            self._take_over(coordinator, place)
        else:
            # Not ours: a note left by a run of ours that died is stale (someone released the
            # place since), and must not hand over a place acquired by hand later on.
            self._note.unlink(missing_ok=True)
        self._maybe_held = True
        token = handed_over(self.address, self.name)
        if token is not None:  # a pool's reservation was allocated this place
            self._acquire_now(coordinator, token)
        elif place.acquired and place.acquired != me:
            self._acquire_waiting(coordinator, f"it is acquired by {place.acquired}")
        else:
            try:
                self._acquire_now(coordinator)
            except RigError as exc:
                if "not reserved for" not in str(exc):
                    raise
                self._acquire_waiting(coordinator, "it is reserved for another user")
        self._note.write_text(f"pid {os.getpid()} as {me} since {time.strftime('%H:%M:%S')}\n")

    def _acquire_now(self, coordinator: Coordinator, token: str | None = None) -> None:
        """Acquire the place by its name, or with the token of the reservation it was allocated
        to (the place that reservation got, not one reserved for another process of ours)."""
        session = coordinator.session
        session.args.place = f"+{token}" if token else self.name

        async def acquire() -> None:
            if token:  # the client's view of the places shows the reservation's allocation
                await session.sync_with_coordinator()
            await session.acquire()

        coordinator.run(acquire(), f"acquiring place {self.name!r}")

    def _take_over(self, coordinator: Coordinator, place: Any) -> None:
        """Acquired under this host/user: a run of ours that died holding it (its note is
        there, and its lock is free, for we hold it), or someone at labgrid's command line."""
        try:
            note = self._note.read_text().strip()
        except OSError:
            raise LockError(
                f"{self.where} is acquired by you ({place.acquired}), but not by a run of "
                f"pytest-vela: release it with `labgrid-client -x {self.address} -p "
                f"{self.name} release` first"
            ) from None
        session = coordinator.session
        session.args.place = self.name
        coordinator.run(session.release(), f"releasing place {self.name!r} left acquired")
        self.say(
            f"{self.rig.name}: {self.where} was left acquired by a run that ended without "
            f"releasing it ({note}); taken over"
        )

    def _acquire_waiting(self, coordinator: Coordinator, why: str) -> None:
        """Queue in a labgrid reservation until the coordinator allocates the place to this
        run, for at most ``labgrid.wait`` seconds, and acquire it with the reservation's token;
        LockError saying who holds it when that is 0 or runs out."""
        wait = self.settings.wait
        if not wait:
            raise LockError(
                f"{self.where} cannot be acquired: {why}. Wait for it (labgrid.wait = SECONDS "
                "in the rig file waits in a reservation) or pick another rig"
            )
        self.say(f"{self.rig.name}: {self.where}: {why}; waiting up to {wait:g} s for it")
        reservation = Reservation(coordinator, {"name": self.name}, self.settings.priority)
        try:
            if reservation.wait(wait) is None:
                holder = self._place(coordinator).acquired or "another user's reservation"
                raise LockError(
                    f"{self.where} is still held by {holder} after waiting {wait:g} s "
                    "(labgrid.wait); try again later or pick another rig"
                )
            self._acquire_now(coordinator, reservation.token)
        finally:
            # Acquired, or given up: the reservation has done its work.
            reservation.cancel()

    # -- what the place holds --------------------------------------------------------------

    def _target_with(self, classes: set[str]) -> Any:
        """A labgrid target holding the place's resources of these classes, as labgrid's
        drivers expect them (the same objects its RemotePlace would make)."""
        assert self._coordinator is not None
        lg = self._coordinator.lg
        if self._target is None:
            self._target = lg["Target"](self.name)
        made = {r.name for r in self._target.resources}
        for (name, cls), entry in self._resources.items():
            if cls in classes and name not in made:
                resource = lg["target_factory"].make_resource(self._target, cls, name, entry.args)
                resource.avail = entry.avail
                resource.extra = entry.extra
        return self._target

    def _only(self, classes: set[str], what: str) -> Any:
        target = self._target_with(classes)
        found = [r for r in target.resources if type(r).__name__ in classes]
        have = sorted({cls for _, cls in self._resources})
        if len(found) != 1:
            count = "no" if not found else f"{len(found)}"
            raise RigConfigError(
                f"{self.where} has {count} {what} ({' or '.join(sorted(classes))}); it holds "
                f"{', '.join(have) or 'no resources'}. Give the place exactly one (add-match its "
                "exporter's resource)"
            )
        if not found[0].avail:
            raise RigError(f"{self.where}: its {type(found[0]).__name__} is not available now")
        return found[0]

    def console_url(self) -> str:
        """The pyserial URL of the place's ``NetworkSerialPort`` (through labgrid's proxy, when
        one is configured)."""
        assert self._coordinator is not None
        port = self._only({"NetworkSerialPort"}, "serial port")
        host, number = self._coordinator.lg["proxymanager"].get_host_and_port(port)
        scheme = "rfc2217" if port.protocol == "rfc2217" else "socket"
        return f"{scheme}://{host}:{number}"

    def power(self, off_ms: int) -> LabgridPower:
        resource = self._only(set(POWER_DRIVERS), "power resource")
        assert self._coordinator is not None
        driver_cls = self._coordinator.lg["target_factory"].drivers[
            POWER_DRIVERS[type(resource).__name__]
        ]
        driver = driver_cls(self._target, name=None, delay=off_ms / 1000)
        self._target.activate(driver)
        return LabgridPower(driver, f"{self.where} ({type(resource).__name__})")

    # -- release ---------------------------------------------------------------------------

    def release(self) -> None:
        """Release the place if this run holds it (idempotent; never raises)."""
        atexit.unregister(self.release)
        coordinator, self._coordinator = self._coordinator, None
        try:
            if coordinator is not None and self._maybe_held:
                self._maybe_held = False
                # Acquired under our name while we hold the lock: ours (even when an interrupt
                # came between the request and its answer).
                with contextlib.suppress(RigError):
                    if self._place(coordinator).acquired == coordinator.me:
                        session = coordinator.session
                        session.args.place = self.name
                        coordinator.run(session.release(), f"releasing place {self.name!r}")
                self._note.unlink(missing_ok=True)
        finally:
            if coordinator is not None:
                coordinator.put()
            self._lock.release()


class LabgridPower:
    """A hard reset through the place's power resource: off, ``pulse_ms``, on."""

    def __init__(self, driver: Any, where: str) -> None:
        self.driver = driver
        self.where = where

    def hard_reset(self) -> None:
        try:
            self.driver.cycle()
        except Exception as exc:
            raise RigError(f"power cycle through {self.where} failed: {exc}") from None


def place_holder(rig: Rig) -> str | None:
    """Who holds the rig's place now (labgrid's host/user), None when it is free."""
    place = LabgridPlace(rig, lambda _line: None)
    coordinator = Coordinator.get(place.address)
    try:
        return place._place(coordinator).acquired or None
    finally:
        coordinator.put()


# --- the backend ------------------------------------------------------------------------------


class LabgridBackend(RigBackend):
    """A watch on a labgrid place: preflight, the place acquired, its console and power; BLE
    stays local to the runner."""

    kind: ClassVar[str] = "hardware"
    spreads_over_workers: ClassVar[bool] = False
    simulator = None
    bus_address = None

    def __init__(self, rig: Rig, say: Say | None = None) -> None:
        labgrid_modules()  # at start-up: a run without labgrid says so before any test
        self.rig = rig
        self.say = say or (lambda _line: None)
        self._place: LabgridPlace | None = None

    @property
    def ble(self) -> BleSettings:
        return self.rig.settings.ble

    def reach(self) -> Reach:
        labgrid = self.rig.settings.labgrid
        assert labgrid is not None, "a rig with a [labgrid] table"
        address = coordinator_address(labgrid)
        ble = self.ble.address or self.ble.name
        where = f"labgrid place {labgrid.place} on {address}"
        return Reach(f"{where}, BLE {ble}", where, {"place": labgrid.place, "coordinator": address})

    def holder(self) -> str | None:
        return place_holder(self.rig)

    def start(self, logs: Path, stamp: str) -> str:
        preflight(self.rig, logs, stamp)
        place = LabgridPlace(self.rig, self.say)
        place.acquire()
        self._place = place
        return place.console_url()

    def power(self, console: Console) -> PowerControl:
        reset = self.rig.settings.reset
        if reset.method == "labgrid":
            assert self._place is not None, "started"
            return self._place.power(reset.pulse_ms)
        return power_control(reset, console)

    def agent_rpk(self) -> Path | None:
        return self.rig.settings.app.rpk

    def stop(self) -> None:
        place, self._place = self._place, None
        if place is not None:
            place.release()
