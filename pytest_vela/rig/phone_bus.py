"""A test's own BLE code against the simulated watch: its private bus, for one block.

bleak finds BlueZ on the D-Bus system bus named by ``DBUS_SYSTEM_BUS_ADDRESS``, read when a
bus connection is made. The harness sets it only around its own connections
(``link/system_bus``), so plain bleak in a test would reach the host's bus, where no simulated
watch is. The block sets it through that same module: the harness's connections to this rig
share it, another rig's wait until the block ends.

A watch has one link and does not advertise while connected: the harness lets its own go
first, and the block's end drops one the test's code left up, so the next test finds the
watch free and the harness connects again.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator

from pytest_vela.errors import SimulatorError
from pytest_vela.link.system_bus import system_bus

log = logging.getLogger(__name__)


@contextlib.contextmanager
def phone_bus(
    address: str, release_link: Callable[[], None] | None, drop_link: Callable[[], None]
) -> Iterator[str]:
    """Let the harness's link go (``release_link``), point bus connections at ``address``
    for the block, and drop whatever link is left up at its end (``drop_link``)."""
    if release_link is not None:
        release_link()
    try:
        with system_bus(address):
            yield address
    except BaseException:
        try:
            drop_link()
        except SimulatorError:
            log.warning("dropping the test's BLE link after its block failed", exc_info=True)
        raise
    drop_link()
