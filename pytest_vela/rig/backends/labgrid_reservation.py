"""A labgrid reservation of this process: made with a tag filter, waited in until the
coordinator allocates a place, and handed to the acquisition of exactly that place.

The coordinator allocates only free places, in its own order (higher priority first, then the
older reservation), so a run that reserves never takes a place someone holds, and runs of
several farms that share places are served by the coordinator rather than by any order of ours.
The place is acquired with the reservation's token (``labgrid-client -p +TOKEN acquire``): the
coordinator lets any client of the reservation's owner (host/user) acquire a reserved place,
and two xdist workers of one run are one owner; the token names the place this process's own
reservation got.

A waiting or allocated reservation lives 60 s after its last poll, so one left by a process
killed outright expires by itself; a process cancels its own once it is done with them (the
place acquired, given up, or interrupted).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator, Sequence
from typing import Any

from pytest_vela.errors import RigError
from pytest_vela.rig.backends.labgrid_session import POLL_S, Coordinator

KEEP_ALIVE_S = 10.0  # how often a held reservation is polled while another waits (< its 60 s)

# (coordinator, place) → the token of this process's reservation that was allocated the place,
# while the place is being acquired (Reservation.handed_over).
_handed: dict[tuple[str, str], str] = {}


def handed_over(address: str, place: str) -> str | None:
    """The token to acquire ``place`` with: that of a reservation of this process which the
    coordinator allocated it to; None when there is none (the place is acquired by its name)."""
    return _handed.get((address, place))


def shown_tags(tags: dict[str, str]) -> str:
    """Tags as labgrid-client writes them: ``board=s4 rack=b``."""
    return " ".join(f"{key}={value}" for key, value in sorted(tags.items()))


class Reservation:
    """One reservation on the coordinator, made when constructed, for a place whose tags
    include ``tags`` (labgrid gives each place its name as the tag ``name`` too)."""

    def __init__(self, coordinator: Coordinator, tags: dict[str, str], priority: float) -> None:
        self.coordinator = coordinator
        self.tags = dict(tags)
        lg = coordinator.lg
        self._lg = lg
        pb2 = lg["pb2"]
        request = pb2.CreateReservationRequest(
            filters={"main": pb2.Reservation.Filter(filter=self.tags)}, prio=priority
        )
        created = coordinator.run(
            coordinator.session.stub.CreateReservation(request),
            f"reserving a place tagged {shown_tags(self.tags)}",
        )
        self._state: Any = lg["Reservation"].from_pb2(created.reservation)
        self.token: str = self._state.token
        self._open = True

    def allocated(self) -> str | None:
        """The place the coordinator allocated, as last heard; None while the reservation
        waits; a RigError once it cannot be allocated any more (expired, or its place
        deleted)."""
        state = self._lg["ReservationState"]
        if self._state.state in (state.allocated, state.acquired):
            places: list[str] = list(self._state.allocations.get("main", []))
            if places:
                return places[0]
        if self._state.state is not state.waiting:
            raise RigError(
                f"labgrid reservation {self.token} for places tagged {shown_tags(self.tags)} on "
                f"{self.coordinator.address} is {self._state.state.name}"
            )
        return None

    def poll(self) -> str | None:
        """Ask the coordinator (which also keeps the reservation alive); see ``allocated``."""
        pb2 = self._lg["pb2"]
        polled = self.coordinator.run(
            self.coordinator.session.stub.PollReservation(
                pb2.PollReservationRequest(token=self.token)
            ),
            "polling the reservation",
        )
        self._state = self._lg["Reservation"].from_pb2(polled.reservation)
        return self.allocated()

    def wait(self, seconds: float, keep: Sequence[Reservation] = ()) -> str | None:
        """The place allocated within ``seconds`` (0: as the coordinator answered when the
        reservation was made), or None. ``keep``: reservations this process still holds,
        polled now and then meanwhile so that they do not expire."""
        deadline = time.monotonic() + seconds
        kept = time.monotonic()
        place = self.allocated()
        while place is None and time.monotonic() < deadline:
            time.sleep(min(POLL_S, max(0.0, deadline - time.monotonic())))
            if keep and time.monotonic() - kept >= KEEP_ALIVE_S:
                kept = time.monotonic()
                for other in keep:
                    with contextlib.suppress(RigError):
                        other.poll()
            place = self.poll()
        return place

    @contextlib.contextmanager
    def handed_over(self, place: str) -> Iterator[None]:
        """While open, acquiring ``place`` in this process uses this reservation's token."""
        key = (self.coordinator.address, place)
        _handed[key] = self.token
        try:
            yield
        finally:
            _handed.pop(key, None)

    def cancel(self) -> None:
        """Done with it: the place acquired (which stays acquired), or given up. Idempotent;
        never raises a RigError (a coordinator gone takes its reservations with it)."""
        if not self._open:
            return
        self._open = False
        pb2 = self._lg["pb2"]
        with contextlib.suppress(RigError):
            self.coordinator.run(
                self.coordinator.session.stub.CancelReservation(
                    pb2.CancelReservationRequest(token=self.token)
                ),
                "cancelling the reservation",
            )
