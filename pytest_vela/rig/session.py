"""What one rig holds for a pytest session: its lock, its simulator, its console and watch.

Started on first use and ended with the session; between tests it brings the watch back to a
usable shell after a rig fault (a replugged port, a hung shell), so one fault fails one test.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from filelock import FileLock, Timeout
from tenacity import Retrying, retry_if_exception_type, stop_after_delay, wait_fixed

from pytest_vela.console.port import Console
from pytest_vela.device.power import PowerControl, power_control
from pytest_vela.device.watch import Watch
from pytest_vela.doctor import require_preflight
from pytest_vela.errors import LockError, RigError, SerialLost
from pytest_vela.link.loop import LoopThread
from pytest_vela.link.trace import LinkTrace
from pytest_vela.peer.agent_client import AgentClient
from pytest_vela.peer.events import EventLog
from pytest_vela.rig.private_bus import PrivateBus
from pytest_vela.rig.sim_process import SimulatorProcess
from pytest_vela.rigfile.loader import Rig
from pytest_vela.rigfile.schema import RigSettings

Say = Callable[[str], None]
_BUS_OWNER: list[str] = []  # the sim rig whose private bus this process is pointed at


class SimPowerCycle:
    """A simulated watch's hard reset: cut and restore its power through the control channel."""

    def __init__(self, sim: SimulatorProcess) -> None:
        self.sim = sim

    def hard_reset(self) -> None:
        self.sim.control("power_cycle")


def with_sim_identity(settings: RigSettings, name: str) -> RigSettings:
    """A simulated watch advertises as ``Vela-<rig>`` at an address derived from the name."""
    digest = hashlib.sha256(name.encode()).digest()
    address = "C0:" + ":".join(f"{b:02X}" for b in digest[:5])
    ble = settings.ble.model_copy(
        update={
            "name": settings.ble.name or f"Vela-{name}",
            "address": settings.ble.address or address,
        }
    )
    return settings.model_copy(update={"ble": ble})


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
        self.sim: SimulatorProcess | None = None
        self.console: Console | None = None
        self._watch: Watch | None = None
        self._start_error: RigError | None = None
        self._lock: FileLock | None = None
        self._run_dir: Path | None = None
        self.needs_recovery = False
        self.faults_dirty = False
        self.bus: PrivateBus | None = None
        self.trace = LinkTrace()
        self._loop: LoopThread | None = None
        self._bridge: AgentClient | None = None
        self._agent_running = False
        self._boots_seen = 0
        self._saved_bus_env: str | None = None

    @property
    def stamp(self) -> str:
        """Log name stamp; an xdist worker adds its id so parallel workers never share a file."""
        worker = os.environ.get("PYTEST_XDIST_WORKER")
        return time.strftime("%Y%m%d-%H%M%S") + (f"-{worker}" if worker else "")

    def watch(self) -> Watch:
        """The started watch. A rig that failed to start fails every test that needs it with
        the same error, without trying again (no repeated flashing of a broken rig)."""
        if self._start_error is not None:
            raise self._start_error
        if self._watch is None:
            try:
                self._watch = self._start()
            except RigError as exc:
                self._start_error = exc
                self.close()
                raise
            except BaseException:
                self.close()
                raise
        return self._watch

    def _start(self) -> Watch:
        settings = self.rig.settings
        self.logs.mkdir(parents=True, exist_ok=True)
        if self.rig.kind == "hardware" and settings.app.dir and settings.app.android_package:
            # Before touching the watch: a package or key mismatch would make every
            # interconnect test fail with an unexplained 1001 or 1000.
            report = require_preflight(settings.app)
            (self.logs / f"preflight-{self.stamp}.txt").write_text(report.render())
        stamp = self.stamp
        if self.rig.kind == "sim":
            # Named after this process, so a stray one could be traced to the run that made it.
            self._run_dir = Path(tempfile.mkdtemp(prefix=f"vela-{self.rig.name}-{os.getpid()}-"))
            settings = with_sim_identity(settings, self.rig.name)
            self._start_private_bus()
            assert self.bus is not None
            self.sim = SimulatorProcess(
                settings, self._run_dir, self.bus.address, log_path=self.logs / f"sim-{stamp}.log"
            )
            port = self.sim.start()
        else:
            self._take_lock()
            assert settings.serial.port
            port = settings.serial.port
        console = Console(
            port,
            settings.serial.baud,
            self.logs / f"console-{stamp}.log",
            newline=settings.serial.newline,
        )
        try:
            self.console = console.open()
        except SerialLost as exc:
            where = f"serial.port in {self.rig.path}" if self.rig.path else "serial.port"
            raise SerialLost(
                f"{exc}\nrig {self.rig.name!r}: is the watch plugged in and powered? The port "
                f"comes from {where}; /dev/serial/by-id/ lists the adapters present."
            ) from None
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

    def _start_private_bus(self) -> None:
        """A private system bus where the simulated watch plays BlueZ; only this process is
        pointed at it, so bleak takes exactly the code path it takes on a real host."""
        if _BUS_OWNER and _BUS_OWNER[0] != self.rig.name:
            raise RigError(
                "two simulated rigs cannot share one pytest process (each plays BlueZ on its own "
                "bus): run them on separate workers, e.g. pytest -n 2 --dist loadgroup"
            )
        self.bus = PrivateBus()
        self.bus.start()
        _BUS_OWNER.append(self.rig.name)
        self._saved_bus_env = os.environ.get("DBUS_SYSTEM_BUS_ADDRESS")
        os.environ.update(self.bus.environ())

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
            self.sim.control("clear_faults")  # answering again, and plugged back in
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

    # --- the bridge link and the agent --------------------------------------------------------

    def bridge(self) -> AgentClient:
        """The BLE bridge to the watch, connected, with the agent running and the app link up."""
        watch = self.watch()
        if self._bridge is None:
            ble = self.rig.settings.ble
            if self.sim is not None:
                ble = self.sim.settings.ble
            self._loop = LoopThread(f"vela-link-{self.rig.name}")
            self._bridge = AgentClient(ble, self._loop, self.trace)
            self._bridge.follow_console(watch.console)
            watch.on_reset(self._after_reset)
        return self._bridge

    def _after_reset(self) -> None:
        """A rebooted watch: restart the agent and reconnect, as a phone would on its own."""
        self._agent_running = False
        if self._watch is not None:
            self._boots_seen = len(self._watch.boots)
        bridge = self._bridge
        if bridge is None:
            return
        self._ensure_agent()
        self._connect(bridge)

    def _connect(self, bridge: AgentClient) -> None:
        if not bridge.connected:
            with self.watch().step(f"connect to {bridge.link.target} over BLE"):
                bridge.connect(self.rig.settings.timeouts.connect)

    def _ensure_agent(self) -> None:
        if not self._agent_running:
            self.watch().launch(self.rig.settings.app.package)
            self._agent_running = True

    def prepare_interconnect(self) -> EventLog:
        """Bring the link to a test's starting state — connected, phone app installed and
        responsive, faults cleared — touching only what is off, and start a new event log."""
        bridge = self.bridge()
        self.recover()
        timeout = self.rig.settings.timeouts.connect
        watch = self.watch()
        if len(watch.boots) != self._boots_seen:
            # The watch rebooted on its own (a panic, a watchdog): the agent is gone.
            self._boots_seen = len(watch.boots)
            self._agent_running = False
        if self.faults_dirty and self.sim is not None:
            self.sim.control("clear_faults")
            self.faults_dirty = False
        self._ensure_agent()
        if bridge.connected:
            # One round trip: events the watch sent before its answer (say, the close of a
            # link the last test dropped on its way out) are in by then, so the link state
            # below is current and they stay out of this test's log; the clock is refreshed.
            bridge.sync_clock()
        else:
            self._connect(bridge)
        if not bridge.installed:
            bridge.post({"t": "peer", "installed": True})
            bridge.installed = True
        bridge.responsive = True
        if not bridge.app_link_up:
            bridge.post({"t": "link", "op": "open"})
            bridge.wait_for(lambda: bridge.app_link_up, timeout, "the app link to open")
        return bridge.new_test()

    def close(self) -> None:
        if self._bridge is not None:
            with contextlib.suppress(Exception):
                self._bridge.close()
            self._bridge = None
        if self._loop is not None:
            self._loop.stop()
            self._loop = None
        if self.console is not None:
            self.console.close()
        if self.sim is not None:
            self.sim.stop()
        if self.bus is not None:
            self.bus.stop()
            self.bus = None
            _BUS_OWNER.clear()
            if self._saved_bus_env is None:
                os.environ.pop("DBUS_SYSTEM_BUS_ADDRESS", None)
            else:
                os.environ["DBUS_SYSTEM_BUS_ADDRESS"] = self._saved_bus_env
        if self._run_dir is not None:
            shutil.rmtree(self._run_dir, ignore_errors=True)
        if self._lock is not None:
            self._lock.release()
            self._lock = None
        self._watch = None
