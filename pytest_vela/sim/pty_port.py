"""The simulated watch's serial port: a raw pty, paced both ways, with a stable path.

The stable path is a symlink (as ``/dev/serial/by-id/…`` is on a real desk), so that unplugging
and replugging the simulated cable gives the host the same name back with a new pty behind it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
import tty
from collections.abc import Callable
from pathlib import Path

from pytest_vela.sim.pacing import LineRate

# The event loop's timers fire up to a millisecond late (epoll counts whole milliseconds):
# wake that much early; the persistent schedule still holds the long-run rate to the line's.
TIMER_SLACK = 0.001


class PtyPort:
    """Owns the pty master; delivers paced input to ``on_input`` and paces output."""

    def __init__(
        self, link_path: Path, baud: int, pace: bool, on_input: Callable[[bytes], None]
    ) -> None:
        self.link_path = link_path
        self._on_input = on_input
        self._out_rate = LineRate(baud, pace)
        self._in_rate = LineRate(baud, pace)
        self._master = -1
        self._slave = -1
        self._write_lock = asyncio.Lock()
        self._fd_lock = threading.Lock()
        self._writable = asyncio.Event()
        self.plugged = False

    @property
    def pty_path(self) -> str:
        return os.ttyname(self._slave)

    def plug(self) -> None:
        """Create a fresh raw pty and point the stable path at it."""
        loop = asyncio.get_running_loop()
        self._master, self._slave = os.openpty()
        # Raw at once, or the line discipline echoes our own output back to us.
        tty.setraw(self._slave)
        os.set_blocking(self._master, False)
        tmp = self.link_path.with_suffix(".new")
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        tmp.symlink_to(self.pty_path)
        tmp.replace(self.link_path)
        loop.add_reader(self._master, self._readable)
        self.plugged = True

    def unplug(self) -> None:
        """Pull the cable: the host's next read fails, and the stable path disappears."""
        if not self.plugged:
            return
        self.plugged = False
        loop = asyncio.get_running_loop()
        loop.remove_reader(self._master)
        loop.remove_writer(self._master)
        with contextlib.suppress(FileNotFoundError):
            self.link_path.unlink()
        for fd in (self._master, self._slave):
            with contextlib.suppress(OSError):
                os.close(fd)
        self._writable.set()

    def _readable(self) -> None:
        try:
            data = os.read(self._master, 65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            return
        if not data:
            return
        loop = asyncio.get_running_loop()
        # Deliver each chunk when a real UART would have finished receiving it.
        ready_at = self._in_rate.reserve(len(data))
        if ready_at - loop.time() <= TIMER_SLACK:
            self._on_input(data)
        else:
            loop.call_at(ready_at - TIMER_SLACK, self._on_input, data)

    async def write(self, data: bytes) -> None:
        """Write at line rate; writes from concurrent tasks never interleave mid-chunk."""
        async with self._write_lock:
            loop = asyncio.get_running_loop()
            step = self._out_rate.chunk_size()
            for start in range(0, len(data), step):
                if not self.plugged:
                    return
                chunk = data[start : start + step]
                await self._write_all(chunk)
                with self._fd_lock:
                    done_at = self._out_rate.reserve(len(chunk), loop.time())
                delay = done_at - loop.time() - TIMER_SLACK
                if delay > 0:
                    await asyncio.sleep(delay)

    def write_from_thread(self, data: bytes) -> bool:
        """Write a few bytes from another thread at once (a YMODEM acknowledgement: the sender
        waits on it); False when the pty is full and the caller must go through the loop."""
        with self._fd_lock:
            if not self.plugged:
                return True
            self._out_rate.reserve(len(data))
            try:
                return os.write(self._master, data) == len(data)
            except BlockingIOError:
                return False
            except OSError:
                return True

    async def _write_all(self, chunk: bytes) -> None:
        view = memoryview(chunk)
        while view and self.plugged:
            try:
                with self._fd_lock:
                    n = os.write(self._master, view)
                view = view[n:]
            except BlockingIOError:
                await self._wait_writable()
            except OSError:
                return

    async def _wait_writable(self) -> None:
        loop = asyncio.get_running_loop()
        self._writable.clear()
        loop.add_writer(self._master, self._writable.set)
        try:
            await self._writable.wait()
        finally:
            if self.plugged:
                loop.remove_writer(self._master)

    def close(self) -> None:
        self.unplug()
