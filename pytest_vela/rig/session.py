"""One rig for one pytest session: its life cycle, and the starting state of each test.

It composes the rig's backend (hardware or simulated, chosen once), the console and watch on
the port the backend gives, provisioning at start, and the phone side on the BLE link.
Started on first use, ended with the session; between tests it brings the rig back to what a
test starts with after a rig fault (a replugged port, a hung shell), so one fault fails one test.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable
from pathlib import Path

from tenacity import Retrying, retry_if_exception_type, stop_after_delay, wait_fixed

from pytest_vela.common.loop import LoopThread
from pytest_vela.common.metrics import Metrics
from pytest_vela.console.port import Console
from pytest_vela.device.apps import rpk_package
from pytest_vela.device.identity import read_identity
from pytest_vela.device.watch import Step, Watch
from pytest_vela.errors import (
    InstallError,
    RigConfigError,
    RigError,
    SerialLost,
    WatchHung,
    shown_path,
)
from pytest_vela.link.trace import LinkTrace
from pytest_vela.peer.bridge import BridgeClient
from pytest_vela.peer.events import EventLog
from pytest_vela.peer.phone_side import PhoneSide
from pytest_vela.peer.watch_end import AgentEnd, AppEnd
from pytest_vela.rig.backends import RigBackend, make_backend
from pytest_vela.rig.provisioning import Provisioning
from pytest_vela.rig.sim_process import SimulatorProcess
from pytest_vela.rig.watch_app import WatchApp
from pytest_vela.rigfile.loader import Rig

Say = Callable[[str], None]
# Once the watch said the app settled: quiet on the console this long (s) means what it printed
# before saying so has come through the port.
CONSOLE_DRAIN = 0.005


class RigSession:
    def __init__(
        self,
        rig: Rig,
        logs: Path,
        flash_mode: str = "never",
        say: Say | None = None,
        step: Step | None = None,
    ) -> None:
        self.rig = rig
        self.logs = logs
        self.say = say or (lambda _msg: None)
        self.trace = LinkTrace()
        self._step = step
        self._provisioning = Provisioning(rig, flash_mode, self.say)
        self._backend: RigBackend = make_backend(rig, self.say)
        self._console: Console | None = None
        self._watch: Watch | None = None
        self._start_error: RigError | None = None
        self._loop: LoopThread | None = None
        self._side: PhoneSide | None = None
        self._boots_seen = 0
        self._needs_recovery = False
        self._faults_injected = False
        self._faults_at = 0.0  # when the last fault was injected (host clock)
        #: What the rig measured (boot, connect), with what its tests recorded.
        self.metrics = Metrics()
        #: What the watch said it runs (firmware, OS, board), once it is up.
        self.identity: dict[str, str] = {}
        under_test = rig.settings.app.under_test
        #: The user's own app this rig tests directly (no agent), by its package; or None.
        try:
            self.app_under_test: str | None = rpk_package(under_test) if under_test else None
        except InstallError as exc:
            raise RigConfigError(
                f"the app under test (--vela-app / app.under_test): {exc}"
            ) from None

        #: The app at the watch's end of the link, kept running between tests.
        self.app = WatchApp(
            self.app_under_test or rig.settings.app.package,
            under_test,
            lambda: under_test or self._backend.agent_rpk(),
            lambda: self.simulator.apps_unavailable if self.simulator is not None else None,
        )

    @property
    def stamp(self) -> str:
        """Log name stamp: time, pid and xdist worker, so that no two runs share a file."""
        worker = os.environ.get("PYTEST_XDIST_WORKER")
        stamp = f"{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}"
        return stamp + (f"-{worker}" if worker else "")

    @property
    def console(self) -> Console | None:
        return self._console

    @property
    def start_error(self) -> RigError | None:
        """The error that kept this rig from starting; every test that needs it then fails."""
        return self._start_error

    @property
    def started_watch(self) -> Watch | None:
        """The watch if it has been started (None before, or when it failed to start)."""
        return self._watch

    @property
    def watch_clock_offset(self) -> float | None:
        """Host seconds minus the watch's, from the phone side's last clock round trip (None
        before the first): what maps a host time to the watch's clock."""
        return None if self._side is None else self._side.bridge.clock_offset

    @property
    def backend(self) -> RigBackend:
        """What kind of rig this is, how it is reached and who holds it."""
        return self._backend

    @property
    def simulator(self) -> SimulatorProcess | None:
        """The simulated watch behind this rig, for fault injection; None on hardware."""
        return self._backend.simulator

    # --- start -----------------------------------------------------------------------------

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
        stamp = self.stamp
        port = self._backend.start(self.logs, stamp)
        simulator = self._backend.simulator
        if simulator is not None and simulator.apps_unavailable:
            self.say(f"{self.rig.name}: {simulator.apps_unavailable}; launching apps will fail")
        console = Console(
            port,
            settings.serial.baud,
            self.logs / f"console-{stamp}.log",
            newline=settings.serial.newline,
        )
        try:
            self._console = console.open()
        except SerialLost as exc:
            where = (
                f"serial.port in {shown_path(self.rig.path)}" if self.rig.path else "serial.port"
            )
            raise SerialLost(
                f"{exc}\nrig {self.rig.name!r}: is the watch plugged in and powered? The port "
                f"comes from {where}; /dev/serial/by-id/ lists the adapters present.",
                log_path=console.log_path,
            ) from None
        watch = Watch(
            self.rig,
            console,
            self._backend.power(console),
            step=self._step,
            progress=self._provisioning.progress,
            metric=self.metrics.record,
        )
        self._backend.serve(watch)
        self._bring_up(watch)
        self._provisioning.provision(watch)
        watch.on_app_stopped(self.app.stopped)
        self._boots_seen = len(watch.boots)  # the boot it was found in is no reboot
        # Read before the app starts: its start-up lines are the first test's to expect.
        self.identity = read_identity(watch).environment()
        self.app.start(watch)
        return watch

    def _bring_up(self, watch: Watch) -> None:
        """A ready shell at session start: a shell that does not answer (left dead by an
        earlier run, a crash nobody reset) is power-cycled — its reset command, restart or
        labgrid power — before the rig is declared down."""
        timeouts = self.rig.settings.timeouts
        try:
            watch.wake(timeouts.boot)
            return
        except WatchHung as silent:
            method = self.rig.settings.reset.method
            self.say(
                f"{self.rig.name}: no prompt at start; power-cycling it (reset.method {method})"
            )
            try:
                watch.reset(hard=True)
            except RigError as still:
                raise WatchHung(
                    f"{silent}\na power cycle (reset.method = {method!r}) did not bring it back "
                    f"either: {still}",
                    log_path=watch.log_path,
                ) from None

    # --- faults ------------------------------------------------------------------------------

    def mark_faulty(self) -> None:
        """A rig fault happened: bring the rig back before its next test."""
        self._needs_recovery = True

    def retire(self, reason: str) -> None:
        """Take the rig out for the rest of the run (quarantine): it is shut down now — its
        lock or place released for whoever mends it — and any later use fails with
        ``reason`` instead of starting it again."""
        self._start_error = RigError(reason)
        self.close()

    def faults_injected(self) -> None:
        """A test injected faults into the simulated watch: clear them before the next one."""
        self._faults_injected = True
        self._faults_at = time.time()

    def begin_test(self) -> int:
        """A test on this rig begins: recover from an earlier rig fault, let a crash the last
        test left behind finish its reboot; returns the crash count to judge the test by."""
        watch = self.watch()
        self.recover()
        watch.settle()
        return len(watch.crashes)

    def recover(self) -> None:
        """After a rig fault: reopen a replugged port, then hard-reset to a fresh shell."""
        if not self._needs_recovery or self._watch is None or self._console is None:
            return
        self._needs_recovery = False
        self._faults_injected = False
        self._backend.clear_faults()  # answering again, and plugged back in
        if self._console.lost:
            self._reopen_port(self._console)
        self._watch.reset(hard=True)

    def _reopen_port(self, console: Console) -> None:
        """A replugged USB port takes a moment to come back under the same name."""
        try:
            for attempt in Retrying(
                stop=stop_after_delay(self.rig.settings.timeouts.connect),
                wait=wait_fixed(0.2),
                retry=retry_if_exception_type(SerialLost),
                reraise=True,
            ):
                with attempt:
                    console.reopen()
        except SerialLost:
            self._needs_recovery = True
            raise

    # --- the phone side and the app at the watch's end ----------------------------------------

    def phone_side(self) -> PhoneSide:
        """The phone side on the BLE bridge to the watch (connected by ``ensure_ready``); its
        watch end is the agent, or the app under test where the rig tests one."""
        watch = self.watch()
        if self._side is None:
            ble = self._backend.ble
            if ble is None:
                raise RigConfigError(f"rig {self.rig.name!r} has no BLE link to a phone side")
            self._loop = LoopThread(f"vela-link-{self.rig.name}")
            bridge = BridgeClient(ble, self._loop, self.trace, self._backend.bus_address)
            end = AgentEnd(bridge) if self.app_under_test is None else AppEnd(bridge)
            self._side = PhoneSide(bridge, end)
            self._side.follow_console(watch.console)
            watch.on_reset(self._after_reset)
        return self._side

    def release_link(self) -> None:
        """Let the watch's BLE link go, for a test's own phone-side code (a connected watch
        does not advertise); the next test that needs the link connects it again."""
        if self._side is not None:
            self._side.close()

    def _after_reset(self) -> None:
        """A rebooted watch: restart the app and reconnect, as a phone would on its own."""
        self.app.running = False
        if self._watch is not None:
            self._boots_seen = len(self._watch.boots)
        if self._side is not None:
            self._ensure_app_running()
            self._ensure_connected(self._side)
            self._side.wait_app_link(self.rig.settings.timeouts.connect)

    def _ensure_connected(self, side: PhoneSide) -> None:
        if not side.connected:
            with self.watch().step(f"connect to {side.bridge.link.target} over BLE"):
                started = time.perf_counter()
                side.connect(self.rig.settings.timeouts.connect)
                self.metrics.record("connect_time", time.perf_counter() - started, "s")

    def _ensure_app_running(self) -> None:
        side = self._side
        self.app.ensure_running(self.watch(), side.app_restarted if side is not None else None)

    def settle_app(self, quiet: float, limit: float, since: float) -> None:
        """After a test of the app under test: what the test sent has reached the watch (one
        round trip through its bridge, which answers after what came before), and the app has
        done what that set off, so that what the app then did is this test's. A watch that can
        tell says when the app has nothing left due within ``quiet`` seconds; on any other the
        console must go quiet for that long (at most ``limit``). A test that touched neither
        the link nor the watch after ``since`` (host clock) set nothing off: it settles at
        once."""
        if not self._touched_since(since):
            return
        side = self._side
        if side is not None and side.connected:
            with contextlib.suppress(RigError):
                side.sync_clock()
        console = self._console
        if self._backend.settle_app(self.app.package, quiet, limit):
            quiet = CONSOLE_DRAIN  # what it printed is on its way through the port
        if console is not None:
            console.wait_quiet(quiet, limit)

    def _touched_since(self, since: float) -> bool:
        """Whether anything went over the link or the console, or a fault was injected,
        after ``since``: what an app could be reacting to."""
        console = self._console
        return (
            (console is not None and max(console.last_input, console.last_output) >= since)
            or self.trace.last_wall() >= since
            or self._faults_at >= since
        )

    def ensure_ready(self) -> EventLog | None:
        """Bring the rig to a test's starting state — watch recovered, agent (or the app under
        test) running, link connected, phone app installed and responsive, faults cleared —
        touching only what is off; returns the test's new event log (None where the watch's
        end reports no events)."""
        side = self.phone_side()
        self.begin_test()
        watch = self.watch()
        if len(watch.boots) != self._boots_seen:
            # The watch rebooted on its own (a panic, a watchdog): the app is gone.
            self._boots_seen = len(watch.boots)
            self.app.running = False
        if self._faults_injected:
            self._backend.clear_faults()
            self._faults_injected = False
        self._ensure_app_running()
        if side.connected:
            # One round trip: events the watch sent before its answer (say, the close of a
            # link the last test dropped on its way out) are in by then, so the link state
            # below is current and they stay out of this test's log; the clock is refreshed.
            side.sync_clock()
        else:
            self._ensure_connected(side)
        side.restore(self.rig.settings.timeouts.connect)
        return side.new_test()

    # --- end ---------------------------------------------------------------------------------

    def close(self) -> None:
        if self._side is not None:
            self._side.close()
            self._side = None
        if self._loop is not None:
            self._loop.stop()
            self._loop = None
        if self._console is not None:
            self._console.close()
        self._backend.stop()
        self._watch = None
