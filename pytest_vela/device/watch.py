"""The watch as tests see it: a shell, resets, flashing and app management over the console."""

from __future__ import annotations

import contextlib
import functools
import json
import re
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

from pytest_vela.common.metrics import MetricSink
from pytest_vela.console.lines import MarkerLog
from pytest_vela.console.port import Console
from pytest_vela.device import apps, files
from pytest_vela.device.app_errors import AppErrors
from pytest_vela.device.crashes import CrashLog, ExpectedCrash
from pytest_vela.device.power import ConsoleReboot, PowerControl
from pytest_vela.device.transfer import FileDigest
from pytest_vela.errors import ExpectTimeout, WatchHung, shown_path
from pytest_vela.rigfile.loader import Rig
from pytest_vela.wire.profile import is_agent_line

Step = Callable[[str], AbstractContextManager[Any]]
FileProgress = Callable[[str, int, int], None]  # (file name, bytes sent, total bytes)


class Watch:
    """One watch on its console. Every step raises with the device's words and the log path.

    From the moment it is built it keeps the console's crash-marker lines (``crashes``) and
    boot-marker lines (``boots``), each with its host arrival time, whoever reads the console.
    """

    def __init__(
        self,
        rig: Rig,
        console: Console,
        power: PowerControl,
        *,
        step: Step | None = None,
        progress: FileProgress | None = None,
        metric: MetricSink | None = None,
    ) -> None:
        self.rig = rig
        self.console = console
        self.power = power
        self.boot_times: list[float] = []
        # Reports wrap each device step (shell, reset, flash, install, launch) in one of these;
        # long transfers report their progress, per file, through the other.
        self._step: Step = step or _no_step
        self.busy_with: str | None = None
        self.interrupted_while: str | None = None
        self._progress = progress
        self._metric: MetricSink = metric or (lambda _name, _value, _unit: None)
        serial = rig.settings.serial
        self._boot = re.compile(serial.boot_marker)
        # After ``reboot``: the boot, or the shell saying it has no such command.
        self._no_reboot = re.compile(
            rf"(?P<booted>{serial.boot_marker})|(?P<no_reboot>\breboot: command not found)"
        )
        self.crashes = CrashLog(
            console,
            serial.crash_marker,
            boot_marker=serial.boot_marker,
            prompt=serial.prompt,
            elf=rig.settings.firmware.elf,
        )
        self.boots = MarkerLog()
        console.watch_lines(self._boot, self.boots.record)
        self._reset_listeners: list[Callable[[], None]] = []
        self._stop_listeners: list[Callable[[str], None]] = []
        self._settled = 0  # crashes whose reboot has been waited for
        # Uncaught JS errors of the watch's apps, each with its stack, from the console.
        self.app_errors = AppErrors(rig.settings.serial.app_error_marker)
        console.on_line(self.app_errors)

    @property
    def log_path(self) -> Path:
        return self.console.log_path

    @property
    def log_shown(self) -> str:
        """The console log's path as messages name it (relative to the project)."""
        return self.console.log_shown

    @contextlib.contextmanager
    def expect_crash(self, timeout: float | None = None) -> Iterator[ExpectedCrash]:
        """``with watch.expect_crash() as crash:`` — the block provokes a crash. Afterwards
        this waits (``timeout`` s, default the rig's boot timeout) for the crash marker,
        fills ``crash.line``, and returns with the watch back at a ready shell; the crash does
        not fail the test. No crash in time is ``ExpectTimeout``."""
        timeout = timeout or self.rig.settings.timeouts.boot
        seen = ExpectedCrash()
        with self.crashes.expecting() as before:
            yield seen
            event = self.crashes.wait_for_one_after(before, timeout)
        seen.line, seen.ts = event.line, event.ts
        seen.report = self.crashes.evidence(before)
        self.settle()

    def settle(self) -> None:
        """Bring the watch to a ready shell after a crash: wait for the reboot the crash
        started (a boot-done marker after it, then the prompt), or force a hard reset when
        none comes within the boot timeout; apps restart as after any reset. Does nothing
        when every crash seen has been settled already."""
        if len(self.crashes) == self._settled:
            return
        self._settled = len(self.crashes)
        with self.step("wait for the watch to reboot after its crash"):
            crash = self.crashes.last
            console = self.console
            if crash is not None and not console.wait_until(
                lambda: bool(self.boots) and self.boots[-1].ts >= crash.ts,
                self.rig.settings.timeouts.boot,
            ):
                self._reset(hard=True)
                return
            try:
                self.wake()
            except WatchHung:
                self._reset(hard=True)
                return
            for listener in self._reset_listeners:
                listener()

    @contextlib.contextmanager
    def step(self, title: str) -> Iterator[None]:
        """A device operation: a step of the report (none without a report), and what the
        watch is busy with meanwhile (``busy_with``; ``interrupted_while`` keeps the one a
        test's timeout cut short), so that such a timeout can be told from a product failure."""
        outer, self.busy_with = self.busy_with, title
        try:
            with self._step(title):
                yield
        except BaseException as exc:
            if not isinstance(exc, Exception):  # a test's timeout, a Ctrl-C: not the device's
                self.interrupted_while = self.interrupted_while or title
            raise
        finally:
            self.busy_with = outer

    def on_reset(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` after every reset (apps restart, links drop)."""
        self._reset_listeners.append(listener)

    # --- shell ----------------------------------------------------------------------------

    def wake(self, timeout: float | None = None) -> None:
        """Bring up the prompt: press Enter twice and wait for it, as NuttX's CI does."""
        timeout = timeout or self.rig.settings.timeouts.shell
        self.console.discard_pending()
        self.console.write(b"\r\n\r\n")
        self.expect_prompt(timeout, "waking the shell")

    def shell(self, cmd: str, timeout: float | None = None) -> str:
        """Run ``cmd``; return its output without the echoed command line or the prompt."""
        with self.step(f"shell: {cmd}"):
            return self._shell(cmd, timeout)

    def _shell(self, cmd: str, timeout: float | None = None) -> str:
        timeout = timeout or self.rig.settings.timeouts.shell
        crashes = len(self.crashes)
        self.console.discard_pending()
        self.console.write_line(cmd)
        # First the command's own echo, then the prompt after it: a prompt still on its way
        # from earlier output cannot pass for this command's, and noise before the echo is
        # skipped. Two matches, so the output between them may be of any length.
        deadline = time.monotonic() + timeout
        doing = f"running {cmd!r}"
        # NuttX ends the echo "\r\n", or "\r\r\n" behind a pty that adds a "\r".
        self.expect_prompt(timeout, doing, re.compile(re.escape(cmd.strip()) + r"[ \t]*\r*\n"))
        match = self.expect_prompt(max(0.0, deadline - time.monotonic()), doing)
        self._check_crash(crashes, doing)
        return _output(match.string[: match.start()])

    def expect_prompt(
        self, timeout: float, doing: str, echo: re.Pattern[str] | None = None
    ) -> re.Match[str]:
        """The shell's own prompt, not prompt-like output (or first, given ``echo``, the
        command's echo); WatchHung otherwise."""
        try:
            if echo is not None:
                return self.console.expect(echo, timeout)
            return self.console.expect_prompt(self.rig.settings.serial.prompt, timeout)
        except ExpectTimeout as exc:
            prompt = self.rig.settings.serial.prompt
            raise WatchHung(
                f"the watch did not return to its prompt {prompt!r} within {timeout:g} s "
                f"while {doing}; last output:\n{exc.seen}\n"
                f"{_prompt_hint(exc.seen, prompt, self.rig.path)}"
                f"full console log: {self.log_shown}"
            ) from None

    def _check_crash(self, before: int, doing: str) -> None:
        failure = self.crashes.failure(before, during=f"while {doing}")
        if failure is not None:
            raise failure

    # --- resets ---------------------------------------------------------------------------

    def reset(self, hard: bool = False) -> float:
        """Reboot and return once the boot-done marker and the prompt are seen; returns the
        boot time in seconds (also kept in ``boot_times``)."""
        with self.step("hard reset" if hard else "reset"):
            return self._reset(hard)

    def _reset(self, hard: bool) -> float:
        """A soft reset types ``reboot``; a firmware whose shell has none (the Vela fork's
        sim, some release builds) is power-cycled instead, where the rig has a way to."""
        started = time.monotonic()
        self.console.discard_pending()
        if hard:
            self.power.hard_reset()
            self._booted("a hard reset")
        else:
            self.console.write_line("reboot")
            if self._booted("reboot", self._no_reboot).lastgroup == "no_reboot":
                if isinstance(self.power, ConsoleReboot):
                    raise WatchHung(
                        "the firmware has no reboot command and this rig has no other way to "
                        f"reset it (reset.method = {self.rig.settings.reset.method!r}): give "
                        "the rig a reset.method of dtr, command, restart or labgrid; full "
                        f"console log: {self.log_shown}"
                    )
                self.console.note("the firmware has no reboot command: a hard reset instead")
                self.power.hard_reset()
                self._booted("a hard reset")
        self.expect_prompt(self.rig.settings.timeouts.shell, "booting")
        elapsed = time.monotonic() - started
        self.boot_times.append(elapsed)
        self._metric("boot_time", elapsed, "s")
        for listener in self._reset_listeners:
            listener()
        return elapsed

    def _booted(self, after: str, also: re.Pattern[str] | None = None) -> re.Match[str]:
        """The boot-done marker (or ``also``) after ``after``; WatchHung without it."""
        timeout = self.rig.settings.timeouts.boot
        try:
            return self.console.expect(also or self._boot, timeout)
        except ExpectTimeout as exc:
            raise WatchHung(
                f"no boot-done marker {self._boot.pattern!r} within {timeout:g} s after "
                f"{after}; last output:\n{exc.seen}\n"
                f"{_boot_hint(exc.seen, self.rig.settings.serial.prompt, self.rig.path)}"
                f"full console log: {self.log_shown}"
            ) from None

    # --- files, images and apps -----------------------------------------------------------

    def send_file(self, path: Path, dest_dir: str) -> FileDigest:
        """Send ``path`` into ``dest_dir`` and verify it by the device's size and SHA-256;
        a corrupted transfer is retried, bounded."""
        return files.send_file(self, path, dest_dir)

    def image_digest(self) -> str | None:
        """The SHA-256 of the running image, as the device reports it."""
        return files.image_digest(self)

    def flash(self, image: Path | str, mode: str = "always") -> bool:
        """Install ``image`` and reboot into it. With ``mode='auto'`` skip when the watch
        already runs it; returns whether it flashed."""
        with self.step(f"flash {Path(image).name} ({mode})"):
            return files.flash(self, Path(image), mode)

    def install(self, rpk: Path | str) -> str:
        """Install a quick app package (uninstalling the old one first: overwriting keeps its
        stale bytecode cache); returns the package name."""
        with self.step(f"install {Path(rpk).name}"):
            return apps.install(self, Path(rpk))

    def uninstall(self, package: str, missing_ok: bool = False) -> None:
        """``pm uninstall``; the app stops, if it ran."""
        apps.uninstall(self, package, missing_ok)

    def launch(self, package: str) -> None:
        """``am start`` and wait for the app's main loop."""
        with self.step(f"launch {package}"):
            apps.launch(self, package)

    def stop_app(self, package: str) -> None:
        self.shell(f"am stop {package}")
        self.app_stopped(package)

    def on_app_stopped(self, listener: Callable[[str], None]) -> None:
        """Call ``listener(package)`` when an app is stopped or uninstalled through the watch."""
        self._stop_listeners.append(listener)

    def app_stopped(self, package: str) -> None:
        """An app was stopped or uninstalled through the watch: tell the listeners."""
        for listener in self._stop_listeners:
            listener(package)

    def progress_for(self, name: str) -> Callable[[int, int], None] | None:
        """The progress hook of the transfer of file ``name``, if one was given."""
        report = self._progress
        return None if report is None else functools.partial(report, name)


def _no_step(_title: str) -> AbstractContextManager[Any]:
    return nullcontext()


# A line that is only a shell's prompt: a word and its sign (``nsh> ``, ``ap> ``, ``root# ``).
_PROMPT_LIKE = re.compile(r"^([\w@:/.~\[\]-]{1,40}[>#$%] ?)$")


def _prompt_hint(seen: str, prompt: str, rig_file: Path | None) -> str:
    """When the watch keeps printing another prompt than the rig's, say which and how to set it
    (another firmware's shell, say Vela's ``ap> ``): the run otherwise only waits and fails."""
    lines = [line.rstrip("\r") for line in seen.splitlines()]
    found = [m.group(1) for line in lines if (m := _PROMPT_LIKE.match(line))]
    if not found or found[-1].rstrip() == prompt.rstrip():
        return ""
    other = found[-1] if found[-1].endswith(" ") else found[-1] + " "
    return (
        f"the watch's shell seems to answer with the prompt {other!r}, not {prompt!r}: if that "
        f"is its prompt, set [serial] prompt = {json.dumps(other)} in {_named(rig_file)}\n"
    )


def _boot_hint(seen: str, prompt: str, rig_file: Path | None) -> str:
    """A watch back at its prompt without the boot line the rig waits for has another
    greeting (another firmware): say which setting names it."""
    if not any(line.rstrip("\r").rstrip() == prompt.rstrip() for line in seen.splitlines()):
        return ""
    return (
        f"the watch is at its prompt {prompt!r} again, so it booted without printing a line the "
        f"boot marker matches: set [serial] boot_marker in {_named(rig_file)} to a regular "
        "expression of a line it prints at each boot (see the output above)\n"
    )


def _named(rig_file: Path | None) -> str:
    return shown_path(rig_file) if rig_file is not None else "the rig file"


def _output(text: str) -> str:
    """A command's output as text lines, without the agent's console mirror lines (log lines
    of the app that interleave with any command; the log keeps them)."""
    lines = text.replace("\r\n", "\n").replace("\r", "").split("\n")
    return "\n".join(line for line in lines if not is_agent_line(line))
