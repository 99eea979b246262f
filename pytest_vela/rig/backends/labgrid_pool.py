"""A pool of watches on labgrid places reserved by tags: the coordinator chooses the place.

Each time the process needs a rig of the pool it makes one reservation with the pool's tags
and waits, at most ``labgrid.wait`` seconds, for the coordinator to allocate a place; the rig
is the member whose rig file names that place, and the place is acquired with the
reservation's token. A held place is never allocated, so it is skipped for a free one, and
farms that share the places are served in the coordinator's order.

A place allocated to this process that it cannot use (its rig is out of the run, or did not
come up) is kept reserved while the next reservation waits, so that the coordinator does not
allocate it again; every reservation is cancelled once a rig is up or none is to be had — a
place given up is free for others from then on.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator

from pytest_vela.errors import RigConfigError
from pytest_vela.rig.backends.labgrid_reservation import Reservation, shown_tags
from pytest_vela.rig.backends.labgrid_session import Coordinator, coordinator_address
from pytest_vela.rigfile.loader import Rig

Say = Callable[[str], None]


class TaggedPlaces:
    """How a pool whose rig files give ``[labgrid] tags`` finds its next rig (the loader has
    seen that they agree on tags, coordinator, wait and priority)."""

    def __init__(self, pool: str, members: list[Rig], say: Say) -> None:
        labgrid = members[0].settings.labgrid
        assert labgrid is not None and labgrid.tags, "a pool reserved by tags"
        self.pool = pool
        self.tags = dict(labgrid.tags)
        self.wait = labgrid.wait
        self.priority = labgrid.priority
        self.address = coordinator_address(labgrid)
        self.say = say
        #: Which member's rig file names each place.
        self.by_place = {
            rig.settings.labgrid.place: rig.name for rig in members if rig.settings.labgrid
        }
        self._why: str | None = None

    def offer(self, order: list[str], usable: Callable[[str], bool]) -> Generator[str]:
        """The members whose places the coordinator allocates, one reservation each, until the
        caller has one up (it closes this then) or none is allocated within ``labgrid.wait``.
        ``order`` is not used: the coordinator chooses."""
        self._why = None
        coordinator = Coordinator.get(self.address)
        held: list[Reservation] = []
        deadline = time.monotonic() + self.wait
        try:
            while True:
                reservation = Reservation(coordinator, self.tags, self.priority)
                held.append(reservation)
                place = reservation.allocated()
                if place is None and self.wait:
                    left = max(0.0, deadline - time.monotonic())
                    self.say(
                        f"pool {self.pool}: no place tagged {shown_tags(self.tags)} is free on "
                        f"{self.address}; waiting up to {left:.0f} s for one"
                    )
                    place = reservation.wait(left, keep=held[:-1])
                if place is None:
                    self._why = self._none_free(coordinator)
                    return
                member = self.by_place.get(place)
                if member is None:
                    raise self._unnamed(place)
                if not usable(member):
                    continue  # kept reserved: the next reservation gets another place
                with reservation.handed_over(place):
                    yield member
                # It did not come up: kept reserved too, while the next one waits.
        finally:
            for reservation in held:
                reservation.cancel()
            coordinator.put()

    def why_none(self) -> str | None:
        """Why the last ``offer`` found no rig (None: it was not for want of a place)."""
        return self._why

    def _none_free(self, coordinator: Coordinator) -> str:
        session = coordinator.session
        places = coordinator.call(lambda: dict(session.places), doing="listing places")
        tagged = sorted(
            (name, place)
            for name, place in places.items()
            if self.tags.items() <= {**place.tags, "name": name}.items()
        )
        holders = ", ".join(
            f"{name} {'acquired by ' + place.acquired if place.acquired else 'reserved'}"
            for name, place in tagged
        )
        return (
            f"no labgrid place tagged {shown_tags(self.tags)} on {self.address} was free "
            f"within {self.wait:g} s (labgrid.wait){': ' + holders if holders else ''}"
        )

    def _unnamed(self, place: str) -> RigConfigError:
        named = ", ".join(f"{p} ({m})" for p, m in sorted(self.by_place.items()))
        return RigConfigError(
            f"pool {self.pool!r}: the labgrid coordinator {self.address} allocated place "
            f"{place!r}, tagged {shown_tags(self.tags)}, but no rig file of the pool names it "
            f"(they name {named}): add a rig file with pool = {self.pool!r} and [labgrid] "
            f'place = "{place}" (and the same tags), or take the tags off the place '
            f"(labgrid-client -p {place} set-tags "
            + " ".join(f"{key}=" for key in sorted(self.tags))
            + ")"
        )
