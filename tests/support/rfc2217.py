"""A small RFC 2217 server over loopback, as ser2net provides on a farm host, serving one
console to one client at a time, one after another (a run, then the next). Built on pyserial's
own ``PortManager``."""

from __future__ import annotations

import contextlib
import socket
import threading
from typing import Any

import serial
import serial.rfc2217


class _NoModemLines:
    """A pty has no modem lines (ENOTTY): report them idle, ignore requests to set them."""

    def __init__(self, port: serial.SerialBase) -> None:
        self._port = port

    cts = dsr = ri = cd = False

    def __setattr__(self, name: str, value: Any) -> None:
        if name in ("dtr", "rts", "break_condition"):
            return
        if name == "_port":
            object.__setattr__(self, name, value)
        else:
            setattr(self._port, name, value)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._port, name)


class _Connection:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock

    def write(self, data: bytes) -> None:
        self.sock.sendall(data)


class Rfc2217Server:
    """Serves ``device`` (a path) on ``127.0.0.1:<port>``; ``url`` is what a rig file names.
    Each client gets the device opened afresh; the next one is served when it leaves."""

    def __init__(self, device: str) -> None:
        self.device = device
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self.url = f"rfc2217://127.0.0.1:{self.port}"
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.clients = 0  # how many clients were served

    def start(self) -> Rfc2217Server:
        thread = threading.Thread(target=self._serve, daemon=True)
        thread.start()
        self._threads.append(thread)
        return self

    def _serve(self) -> None:
        self._listener.settimeout(0.2)
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.clients += 1
            with contextlib.suppress(OSError, serial.SerialException):
                self._session(client)

    def _session(self, client: socket.socket) -> None:
        done = threading.Event()
        try:
            port = serial.serial_for_url(self.device, timeout=0.2)
        except BaseException:
            client.close()
            raise
        manager = serial.rfc2217.PortManager(_NoModemLines(port), _Connection(client))
        writer = threading.Thread(
            target=self._device_to_client, args=(port, manager, client, done), daemon=True
        )
        writer.start()
        client.settimeout(0.2)
        try:
            while not (self._stop.is_set() or done.is_set()):
                try:
                    data = client.recv(4096)
                except TimeoutError:
                    continue
                if not data:
                    break
                port.write(b"".join(manager.filter(data)))
        finally:
            done.set()
            writer.join(2)
            client.close()
            port.close()

    def _device_to_client(
        self, port: Any, manager: Any, client: socket.socket, done: threading.Event
    ) -> None:
        with contextlib.suppress(OSError, TypeError, serial.SerialException):
            while not (self._stop.is_set() or done.is_set()):
                data = port.read(port.in_waiting or 1)
                if data:
                    client.sendall(b"".join(manager.escape(data)))
        done.set()

    def stop(self) -> None:
        self._stop.set()
        self._listener.close()
        for thread in self._threads:
            thread.join(2)
