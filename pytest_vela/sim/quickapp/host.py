"""The simulated watch's end of its quick-app host: one node process running ``host.js``,
started with the watch and restarted if it dies, spoken to over the pipe of ``pipe``."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from pytest_vela.sim.quickapp import pipe

log = logging.getLogger(__name__)

HOST_JS = Path(__file__).with_name("host.js")
START_TIMEOUT = 10.0  # seconds for node to come up
STOP_TIMEOUT = 2.0  # an app that does not end by then (a busy loop) costs the host its process
SETTLE_GRACE = 1.0  # seconds beyond a settle's limit for its answer (a busy host, a busy loop)


def _slot(message: pipe.Start | pipe.Stop | pipe.Settle | pipe.FromHost) -> tuple[str, bool]:
    """Where an order waits for its answer: its app, and whether it asked the app to settle
    (a settle may be asked while the app starts or stops, each answered on its own)."""
    return (getattr(message, "app", ""), isinstance(message, pipe.Settle | pipe.Settled))


def find_node() -> str | None:
    return shutil.which("node")


class HostUnavailable(Exception):
    """Node.js is not installed, or its process does not come up."""


class NodeAppHost:
    """Runs apps in node; ``on_output`` gets every message that is not an answer to an order
    (console output, uncaught errors, API calls)."""

    def __init__(self, epoch_ns: int, on_output: Callable[[pipe.FromHost], None]) -> None:
        self.epoch_ns = epoch_ns
        self.on_output = on_output
        self.node = find_node()
        self.version = ""
        self._proc: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None
        self._ready: asyncio.Future[str] | None = None
        self._answers: dict[tuple[str, bool], asyncio.Future[pipe.FromHost]] = {}
        self._lock = asyncio.Lock()
        self._stopping = False

    @property
    def unavailable(self) -> str | None:
        """Why no app can run here, or None."""
        if self.node is None:
            return "Node.js (node) is not on PATH: the simulated watch cannot run quick apps"
        return None

    @property
    def alive(self) -> bool:
        return self._proc is not None and self._proc.returncode is None

    async def start(self) -> None:
        """Start node unless it runs; ``HostUnavailable`` when it cannot."""
        async with self._lock:
            if self.alive:
                return
            if self.node is None:
                raise HostUnavailable(self.unavailable)
            loop = asyncio.get_running_loop()
            self._ready = loop.create_future()
            self._proc = await asyncio.create_subprocess_exec(
                self.node,
                str(HOST_JS),
                str(self.epoch_ns),
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=sys.stderr,
                limit=16 * 1024 * 1024,
            )
            self._reader = asyncio.create_task(self._read(self._proc))
            try:
                self.version = await asyncio.wait_for(self._ready, START_TIMEOUT)
            except (TimeoutError, ConnectionError) as exc:
                await self.stop()
                raise HostUnavailable(f"the quick-app host did not start: {exc!r}") from None

    async def _read(self, proc: asyncio.subprocess.Process) -> None:
        assert proc.stdout is not None
        try:
            while line := await proc.stdout.readline():
                try:
                    message = pipe.decode(line)
                except pipe.PipeError as exc:
                    log.warning("%s", exc)
                    continue
                self._dispatch(message)
        finally:
            await proc.wait()
            if not self._stopping:
                log.warning("the quick-app host exited (code %s)", proc.returncode)
            for future in [self._ready, *self._answers.values()]:
                if future is not None and not future.done():
                    future.set_exception(ConnectionError("the quick-app host exited"))
            self._answers.clear()

    def _dispatch(self, message: pipe.FromHost) -> None:
        if isinstance(message, pipe.Ready):
            if self._ready is not None and not self._ready.done():
                self._ready.set_result(message.node)
            return
        if isinstance(message, pipe.Started | pipe.Failed | pipe.Stopped | pipe.Settled):
            future = self._answers.pop(_slot(message), None)
            if future is not None and not future.done():
                future.set_result(message)
            return
        try:
            self.on_output(message)
        except Exception:  # one bad message must not end the reader
            log.exception("handling %r", message)

    def send(self, message: pipe.ToHost) -> None:
        """Write one order; lost (logged) when the host is gone."""
        proc = self._proc
        if proc is None or proc.stdin is None or proc.returncode is not None:
            log.warning("the quick-app host is not running: %r not sent", message)
            return
        with contextlib.suppress(ConnectionError, RuntimeError):
            proc.stdin.write(pipe.encode(message))

    async def _ask(
        self, order: pipe.Start | pipe.Stop | pipe.Settle, timeout: float
    ) -> pipe.FromHost:
        future: asyncio.Future[pipe.FromHost] = asyncio.get_running_loop().create_future()
        self._answers[_slot(order)] = future
        self.send(order)
        return await asyncio.wait_for(future, timeout)

    async def start_app(
        self,
        app: str,
        directory: Path,
        timeout: float = 5.0,
        device: Mapping[str, Any] | None = None,
        data: Mapping[str, str] | None = None,
    ) -> str | None:
        """Run ``app`` (``device``: the watch's settings its modules answer from; ``data``:
        its data directories); None once it runs, or why it could not start."""
        order = pipe.Start(app, str(directory), dict(device or {}), dict(data or {}))
        try:
            await self.start()
            answer = await self._ask(order, timeout)
        except HostUnavailable as exc:
            return str(exc)
        except (TimeoutError, ConnectionError) as exc:
            await self.stop()
            return f"the quick-app host did not answer: {exc!r}"
        if isinstance(answer, pipe.Failed):
            return answer.error
        return None

    async def settle(self, app: str, within: float, limit: float) -> bool:
        """Wait until ``app`` has nothing left to do within ``within`` seconds (at most
        ``limit``): whether it settled; what it printed meanwhile has been handed on."""
        if not self.alive:
            return False
        try:
            answer = await self._ask(
                pipe.Settle(app, within * 1000, limit * 1000), limit + SETTLE_GRACE
            )
        except (TimeoutError, ConnectionError):
            return False
        return isinstance(answer, pipe.Settled) and answer.idle

    async def stop_app(self, app: str) -> None:
        if not self.alive:
            return
        try:
            await self._ask(pipe.Stop(app), STOP_TIMEOUT)
        except (TimeoutError, ConnectionError):
            log.warning("%s did not stop within %s s: ending the quick-app host", app, STOP_TIMEOUT)
            await self.stop()

    async def stop(self) -> None:
        proc, self._proc = self._proc, None
        self._stopping = True
        try:
            if proc is not None and proc.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                await proc.wait()
            reader, self._reader = self._reader, None
            if reader is not None:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await reader
        finally:
            self._stopping = False
