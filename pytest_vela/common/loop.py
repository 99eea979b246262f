"""One asyncio loop on a daemon thread, so tests stay synchronous while async libraries
(bleak for the BLE link, labgrid's gRPC client for a farm's coordinator) stay async.

bleak keeps one BlueZ manager per event loop; a single long-lived loop per session keeps its
D-Bus connection and object cache warm across tests. Callers hand coroutines over with
``run``; code running *on* the loop must never block it (callbacks only queue work). A timeout
is a ``LoopTimeout``, a rig fault of no particular kind: its callers say what timed out (the
BLE link makes it a ``BleTimeout``, the labgrid place a coordinator that did not answer).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from pytest_vela.errors import LoopTimeout

T = TypeVar("T")


class LoopThread:
    """A daemon thread running one asyncio event loop until ``stop``."""

    def __init__(self, name: str = "vela-link-loop") -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._main, name=name, daemon=True)
        self._started = threading.Event()
        self._stopped = False
        self._thread.start()
        self._started.wait()

    def _main(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.call_soon(self._started.set)
        self.loop.run_forever()

    @property
    def running(self) -> bool:
        return self._thread.is_alive() and not self._stopped

    def in_loop_thread(self) -> bool:
        return threading.current_thread() is self._thread

    def run(self, coro: Coroutine[Any, Any, T], timeout: float, doing: str | None = None) -> T:
        """Run ``coro`` on the loop and wait for its result; LoopTimeout after ``timeout`` s,
        saying what was being done (``doing``, e.g. "writing a message to the watch")."""
        if self.in_loop_thread():
            coro.close()
            raise RuntimeError("LoopThread.run called from the loop thread itself (would deadlock)")
        if not self.running:
            coro.close()
            raise RuntimeError("the link loop thread is stopped")
        name = doing or getattr(coro, "__qualname__", repr(coro))
        future = asyncio.run_coroutine_threadsafe(coro, self.loop)
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise LoopTimeout(f"{name} did not finish within {timeout:.3g} s (given up)") from None

    def call_soon(self, fn: Callable[..., object], *args: object) -> None:
        """Schedule a plain callback on the loop from any thread."""
        self.loop.call_soon_threadsafe(fn, *args)

    def stop(self, timeout: float = 5.0) -> None:
        """Cancel what still runs, stop the loop and join the thread. Idempotent."""
        if self._stopped:
            return
        self._stopped = True
        if self._thread.is_alive() and not self.in_loop_thread():
            with contextlib.suppress(concurrent.futures.TimeoutError, RuntimeError):
                asyncio.run_coroutine_threadsafe(self._cancel_all(), self.loop).result(timeout)
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(timeout)
        if not self._thread.is_alive():
            self.loop.close()

    async def _cancel_all(self) -> None:
        me = asyncio.current_task()
        tasks = [t for t in asyncio.all_tasks() if t is not me]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self.loop.shutdown_asyncgens()

    def __enter__(self) -> LoopThread:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
