"""What one rig holds for a pytest session: its lock, its simulator, its console and watch.

Started on first use and ended with the session; between tests it brings the watch back to a
usable shell after a rig fault (a replugged port, a hung shell), so one fault fails one test.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from filelock import FileLock, Timeout
from tenacity import Retrying, retry_if_exception_type, stop_after_delay, wait_fixed

from pytest_vela.console import Console
from pytest_vela.errors import LockError, RigError, SerialLost
from pytest_vela.power import PowerControl, power_control
from pytest_vela.rig import Rig
from pytest_vela.sim.launcher import SimulatedWatch
from pytest_vela.watch import Watch

Say = Callable[[str], None]


class SimPowerCycle:
    """A simulated watch's hard reset: cut and restore its power through the control channel."""

    def __init__(self, sim: SimulatedWatch) -> None:
        self.sim = sim

    def hard_reset(self) -> None:
        self.sim.control("power_cycle")


def lock_dir() -> Path:
    return Path(
        os.environ.get("VELA_LOCK_DIR") or Path(tempfile.gettempdir()) / "pytest-vela-locks"
    )


class RigSession:
    def __init__(self, rig: Rig, reports: Path, flash_mode: str, say: Say | None = None) -> None:
        self.rig = rig
        self.reports = reports
        self.flash_mode = flash_mode
        self.say = say or (lambda _msg: None)
        self.logs = reports / rig.name / "logs"
        self.sim: SimulatedWatch | None = None
        self.console: Console | None = None
        self._watch: Watch | None = None
        self._lock: FileLock | None = None
        self._run_dir: Path | None = None
        self.needs_recovery = False
        self.closers: list[Callable[[], None]] = []

    @property
    def stamp(self) -> str:
        return time.strftime("%Y%m%d-%H%M%S")

    def watch(self) -> Watch:
        if self._watch is None:
            try:
                self._watch = self._start()
            except BaseException:
                self.close()
                raise
        return self._watch

    def _start(self) -> Watch:
        settings = self.rig.settings
        self.logs.mkdir(parents=True, exist_ok=True)
        stamp = self.stamp
        if self.rig.kind == "sim":
            self._run_dir = Path(tempfile.mkdtemp(prefix=f"vela-{self.rig.name}-"))
            self.sim = SimulatedWatch(
                settings, self._run_dir, log_path=self.logs / f"sim-{stamp}.log"
            )
            port = self.sim.start()
        else:
            self._take_lock()
            assert settings.serial.port
            port = settings.serial.port
        self.console = Console(
            port,
            settings.serial.baud,
            self.logs / f"console-{stamp}.log",
            settings.serial.crash_marker,
            settings.serial.newline,
        ).open()
        watch = Watch(self.rig, self.console, self._power(self.console))
        watch.wake(settings.timeouts.boot)
        image = settings.firmware.image
        if image is not None and self.flash_mode != "never":
            watch.progress = self._progress(image.name)
            flashed = watch.flash(image, self.flash_mode)
            self.say(f"{self.rig.name}: {'flashed' if flashed else 'already runs'} {image.name}")
        if settings.app.rpk is not None:
            watch.progress = self._progress(settings.app.rpk.name)
            watch.install(settings.app.rpk)
        watch.progress = None
        return watch

    def _power(self, console: Console) -> PowerControl:
        if self.sim is not None:
            return SimPowerCycle(self.sim)
        return power_control(self.rig.settings.reset, console)

    def _progress(self, name: str) -> Callable[[int, int], None]:
        shown = -1

        def show(sent: int, total: int) -> None:
            nonlocal shown
            step = 100 * sent // max(total, 1) // 25 * 25
            if total >= 256 * 1024 and step > shown:
                shown = step
                self.say(f"{self.rig.name}: sending {name}: {step}% of {total} bytes")

        return show

    def _take_lock(self) -> None:
        path = lock_dir() / f"{self.rig.name}.lock"
        path.parent.mkdir(parents=True, exist_ok=True)
        lock = FileLock(path)
        try:
            lock.acquire(timeout=0)
        except Timeout:
            owner = path.with_suffix(".owner")
            who = owner.read_text().strip() if owner.exists() else "another run"
            raise LockError(
                f"rig {self.rig.name!r} is in use by {who} (lock {path}); wait for it or pick "
                "another rig"
            ) from None
        path.with_suffix(".owner").write_text(
            f"pid {os.getpid()} on {os.uname().nodename} since {time.strftime('%H:%M:%S')}\n"
        )
        self._lock = lock

    def recover(self) -> None:
        """After a rig fault: reopen a replugged port, then hard-reset to a fresh shell."""
        if not self.needs_recovery or self._watch is None or self.console is None:
            return
        self.needs_recovery = False
        if self.sim is not None:
            with contextlib.suppress(RigError):
                self.sim.control("clear_faults")
                if not self.sim.control("ping").get("plugged"):
                    self.sim.control("replug")
        if self.console.lost:
            # A replugged USB port takes a moment to come back under the same name.
            try:
                for attempt in Retrying(
                    stop=stop_after_delay(self.rig.settings.timeouts.connect),
                    wait=wait_fixed(0.2),
                    retry=retry_if_exception_type(SerialLost),
                    reraise=True,
                ):
                    with attempt:
                        self.console.reopen()
            except SerialLost:
                self.needs_recovery = True
                raise
        self._watch.reset(hard=True)

    def close(self) -> None:
        for closer in reversed(self.closers):
            with contextlib.suppress(Exception):
                closer()
        self.closers.clear()
        if self.console is not None:
            self.console.close()
        if self.sim is not None:
            self.sim.stop()
        if self._run_dir is not None:
            shutil.rmtree(self._run_dir, ignore_errors=True)
        if self._lock is not None:
            self._lock.release()
            self._lock = None
        self._watch = None
