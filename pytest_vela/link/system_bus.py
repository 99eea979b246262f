"""Which D-Bus system bus bleak talks to, per rig.

bleak's BlueZ backend reaches BlueZ on the system bus, and dbus-fast reads that bus's address
from ``DBUS_SYSTEM_BUS_ADDRESS`` each time a bus connection is made: once per event loop (the
BlueZ manager) and once per BLE connection. A simulated rig's BlueZ lives on a private bus,
a watch on the desk behind the host's own. So the address is set only around the calls that
open bus connections, under one process-wide lock, and put back at once: a rig's loop keeps
the connections it opened, and another rig in the same process never sees the setting.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator

VARIABLE = "DBUS_SYSTEM_BUS_ADDRESS"
_LOCK = threading.Lock()


@contextlib.contextmanager
def system_bus(address: str | None) -> Iterator[None]:
    """Bus connections opened inside go to ``address``; ``None``: the host's system bus (as
    the environment had it). Hold only around calls that open connections: another rig's
    loop waits for the lock meanwhile."""
    with _LOCK:
        saved = os.environ.get(VARIABLE)
        if address is not None:
            os.environ[VARIABLE] = address
        try:
            yield
        finally:
            if saved is None:
                os.environ.pop(VARIABLE, None)
            else:
                os.environ[VARIABLE] = saved
