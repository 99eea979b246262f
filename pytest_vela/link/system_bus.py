"""Which D-Bus system bus bleak talks to, per rig.

bleak's BlueZ backend reaches BlueZ on the system bus, and dbus-fast reads that bus's address
from ``DBUS_SYSTEM_BUS_ADDRESS`` each time a bus connection is made: once per event loop (the
BlueZ manager) and once per BLE connection. A simulated rig's BlueZ lives on a private bus,
a watch on the desk behind the host's own. So the address is set only around the calls that
open bus connections, and put back at once: a rig's loop keeps the connections it opened, and
another rig in the same process never sees the setting.

Holders of the same address share the setting (it is the same either way); a holder of
another address waits until the last of them has left. So a test's own block on its rig's
bus (``vela_sim.system_bus()``) does not shut out the harness's connections to that same
bus, while another rig's wait for it.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator

VARIABLE = "DBUS_SYSTEM_BUS_ADDRESS"


class _Setting:
    """The address in force and how many hold it (guarded by ``changed``)."""

    def __init__(self) -> None:
        self.changed = threading.Condition()
        self.address: str | None = None
        self.holders = 0
        self.saved: str | None = None


_SETTING = _Setting()


@contextlib.contextmanager
def system_bus(address: str | None) -> Iterator[None]:
    """Bus connections opened inside go to ``address``; ``None``: the host's system bus (as
    the environment had it). Hold only around calls that open connections: a rig on another
    bus waits meanwhile."""
    state = _SETTING
    with state.changed:
        state.changed.wait_for(lambda: state.holders == 0 or state.address == address)
        if state.holders == 0:
            state.saved = os.environ.get(VARIABLE)
            state.address = address
            if address is not None:
                os.environ[VARIABLE] = address
        state.holders += 1
    try:
        yield
    finally:
        with state.changed:
            state.holders -= 1
            if state.holders == 0:
                if state.saved is None:
                    os.environ.pop(VARIABLE, None)
                else:
                    os.environ[VARIABLE] = state.saved
                state.changed.notify_all()
