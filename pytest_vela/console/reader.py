"""The port and the one thread that reads it, from open to close.

The reader never uses ``readline()`` and never sleeps between reads: it blocks in
``read(in_waiting or 1)``, which returns as soon as bytes arrive, so nothing is lost or
truncated when no test is reading. Its read gives up after 0.25 s of silence only to notice a
close and to let the console release what it held back for a next read that never came.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable

import serial

from pytest_vela.errors import SerialLost

READ_TIMEOUT = 0.25
_READ_ERRORS = (serial.SerialException, OSError, TypeError, AttributeError)


def open_port(url: str, baud: int) -> serial.SerialBase:
    """Open a device path or pyserial URL; SerialLost when it cannot be opened."""
    # A stuck USB adapter can block a write forever: bound it where the transport allows
    # (RFC 2217 ports refuse a write timeout).
    options = {} if "://" in url else {"write_timeout": 10}
    try:
        return serial.serial_for_url(url, baudrate=baud, timeout=READ_TIMEOUT, **options)
    except (serial.SerialException, OSError, ValueError) as exc:
        raise SerialLost(f"cannot open serial port {url}: {_reason(exc, url)}") from None


def _reason(exc: BaseException, url: str) -> str:
    """Why a port did not open, without the port's path again (pyserial names it twice)."""
    cause = exc.__context__ if isinstance(exc, serial.SerialException) else exc
    if isinstance(cause, OSError) and cause.strerror:
        return cause.strerror
    return str(exc).replace(f" {url}", "").replace(url, "the port")


class PortReader:
    """Reads ``port`` on a thread of its own and hands every read on, with its host time.

    ``on_data(data, ts)`` gets each read; ``on_drained()`` is called when the port has
    nothing more waiting after data (before the next read blocks); ``on_idle()`` after a read
    that timed out; ``on_lost(exc)`` once, when the port fails, and the thread ends.
    """

    def __init__(
        self,
        port: serial.SerialBase,
        name: str,
        on_data: Callable[[bytes, float], None],
        on_drained: Callable[[], None],
        on_idle: Callable[[], None],
        on_lost: Callable[[BaseException], None],
    ) -> None:
        self._port = port
        self._on_data = on_data
        self._on_drained = on_drained
        self._on_idle = on_idle
        self._on_lost = on_lost
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        """End the thread (a blocked read is cancelled where the port allows it)."""
        self._stop.set()
        with contextlib.suppress(Exception):
            self._port.cancel_read()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def _run(self) -> None:
        port = self._port
        unsettled = False  # data handed on since the port last had nothing waiting
        while not self._stop.is_set():
            try:
                waiting = port.in_waiting
                if unsettled and not waiting:
                    unsettled = False
                    self._on_drained()
                data = port.read(waiting or 1)
            except _READ_ERRORS as exc:
                if not self._stop.is_set():
                    self._on_lost(exc)
                return
            if data:
                self._on_data(data, time.time())
                unsettled = True
            else:
                self._on_idle()
