"""``vela_sim``: fault orders for a simulated watch, as tests write them."""

from __future__ import annotations

from typing import Any

from pytest_vela.sim.launcher import SimulatedWatch


class VelaSim:
    """Each order takes effect at once on the simulated watch; faults are cleared after the
    test (the rig is recovered with a hard reset when one was used)."""

    def __init__(self, sim: SimulatedWatch) -> None:
        self._sim = sim
        self.dirty = False

    def _order(self, op: str, **args: Any) -> dict[str, Any]:
        self.dirty = True
        return self._sim.control(op, **args)

    def crash(self) -> None:
        """Panic (``PANIC!!!`` on the console) and reboot."""
        self._order("crash")

    def hang(self) -> None:
        """The console stops answering until the next hard reset."""
        self._order("hang")

    def garbage(self, n: int) -> None:
        """Write ``n`` random bytes to the console."""
        self._order("garbage", n=n)

    def unplug(self, replug_after_ms: int | None = None) -> None:
        """Pull the serial cable (the port vanishes); optionally plug it back later."""
        self._order("unplug", replug_after_ms=replug_after_ms)

    def installer_busy(self, times: int) -> None:
        """The next ``times`` installs answer 'installation is running, please wait'."""
        self._order("install_busy", n=times)

    @property
    def boots(self) -> int:
        return int(self._sim.control("ping")["boots"])
