"""``vela_sim``: fault orders for a simulated watch, as tests write them."""

from __future__ import annotations

from typing import Any

from pytest_vela.device.crashes import CrashLog
from pytest_vela.rig.sim_process import SimulatorProcess
from pytest_vela.wire.control import ControlOp

ORDER_TIMEOUT = 10.0  # seconds an order may take beyond the time it spends on the line


class VelaSim:
    """Each order takes effect at once on the simulated watch; faults are cleared after the
    test (the rig is recovered with a hard reset when one was used)."""

    def __init__(self, sim: SimulatorProcess, crashes: CrashLog | None = None) -> None:
        self._sim = sim
        self._crashes = crashes
        self.dirty = False  # faults to clear before the next test
        self.needs_reset = False  # the console itself needs a hard reset (hang, unplug)

    def _order(self, op: ControlOp, *, line_bytes: int = 0, **args: Any) -> dict[str, Any]:
        """Send an order; one that writes ``line_bytes`` to the console is answered once they
        are through, so its timeout grows by the time the line takes to carry them."""
        self.dirty = True
        return self._sim.control(op, timeout=ORDER_TIMEOUT + self.line_seconds(line_bytes), **args)

    def line_seconds(self, nbytes: int) -> float:
        """How long the simulated console takes to carry ``nbytes`` (baud/10 bytes a second
        when it is paced, no time when it is not)."""
        settings = self._sim.settings
        return nbytes / (settings.serial.baud / 10) if settings.sim.pace else 0.0

    def crash(self) -> None:
        """Panic (``PANIC!!!`` on the console) and reboot. Given the watch's crash log,
        returns once the harness has seen the panic: this test's crash, never the next's."""
        if self._crashes is None:
            self._order(ControlOp.CRASH)
            return
        before = len(self._crashes)
        self._order(ControlOp.CRASH)
        self._crashes.wait_for_one_after(before, timeout=10.0)

    def hang(self) -> None:
        """The console stops answering until the next hard reset."""
        self.needs_reset = True
        self._order(ControlOp.HANG)

    def garbage(self, n: int) -> None:
        """Write ``n`` random bytes to the console; returns once they are written, which takes
        ``n / (baud / 10)`` seconds on a paced console."""
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise ValueError(f"garbage(n): n is a number of bytes, 0 or more (got {n!r})")
        self._order(ControlOp.GARBAGE, line_bytes=n, n=n)

    def unplug(self, replug_after_ms: int | None = None) -> None:
        """Pull the serial cable (the port vanishes); optionally plug it back later."""
        self.needs_reset = True
        self._order(ControlOp.UNPLUG, replug_after_ms=replug_after_ms)

    def installer_busy(self, times: int) -> None:
        """The next ``times`` installs answer 'installation is running, please wait'."""
        self._order(ControlOp.INSTALL_BUSY, n=times)

    def set_latency(self, ms: float) -> None:
        """Delay every BLE frame, both ways, by ``ms``."""
        self._order(ControlOp.SET_LATENCY, ms=ms)

    def fail_next_connects(self, n: int) -> None:
        """Refuse the next ``n`` BLE connection attempts."""
        self._order(ControlOp.FAIL_NEXT_CONNECTS, n=n)

    def set_message_limit(self, nbytes: int) -> None:
        """The interconnect's per-message limit for ``send``, in bytes of serialised JSON."""
        self._order(ControlOp.SET_MESSAGE_LIMIT, nbytes=nbytes)

    def drop_link(self) -> None:
        """The watch drops the BLE link (as when it walks out of range)."""
        self._order(ControlOp.DROP_LINK)

    def set_mtu(self, mtu: int) -> None:
        self._order(ControlOp.SET_MTU, mtu=mtu)

    @property
    def boots(self) -> int:
        return int(self._sim.control(ControlOp.PING)["boots"])
