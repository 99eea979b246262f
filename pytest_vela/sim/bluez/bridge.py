"""Whole bridge messages over the simulated peripheral: framing on TX, reassembly on RX.

The simulated watch's interconnect runtime sits on this. "Connected" here means the central
is connected *and* subscribed to TX, the point from which messages can flow both ways —
sending a ``hello`` on the bare GATT connection would be lost before bleak's StartNotify.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from pytest_vela.errors import FramingError
from pytest_vela.sim.bluez.peripheral import BluezPeripheral, NotConnected
from pytest_vela.wire.framing import MAX_MSG_ID, Reassembler, encode

log = logging.getLogger(__name__)


def _noop(*_: object) -> None:
    return None


def _log_error(exc: FramingError) -> None:
    log.warning("bridge framing error from the central: %s", exc)


class BridgePeripheral:
    """Message-level bridge. Callbacks run on the event loop and must not block:
    ``on_connect()``, ``on_disconnect(reason)``, ``on_message(data)``, ``on_error(exc)``.
    """

    def __init__(self, peripheral: BluezPeripheral, max_message_bytes: int = 65536) -> None:
        self.peripheral = peripheral
        self.max_message_bytes = max_message_bytes
        self.on_connect: Callable[[], None] = _noop
        self.on_disconnect: Callable[[str], None] = _noop
        self.on_message: Callable[[bytes], None] = _noop
        self.on_error: Callable[[FramingError], None] = _log_error
        self._rx = Reassembler(max_message_bytes)
        self._next_id = 0
        self._ready = False
        self._send_lock = asyncio.Lock()
        peripheral.on_write = self._on_write
        peripheral.on_subscribe = self._on_subscribe
        peripheral.on_disconnect = self._on_link_down

    @property
    def ready(self) -> bool:
        """Connected and subscribed: ``send_message`` will be notified."""
        return self._ready and self.peripheral.subscribed

    async def start(self) -> None:
        await self.peripheral.start()

    async def stop(self) -> None:
        await self.peripheral.stop()

    async def send_message(self, data: bytes) -> None:
        """Frame ``data`` at the current MTU and notify it; messages go out in call order.

        Raises NotConnected when the central is not ready, MessageTooLarge above the limit.
        """
        async with self._send_lock:
            if not self.ready:
                raise NotConnected("cannot send: no central is connected and subscribed")
            frames = encode(data, self._next_id, self.peripheral.mtu, self.max_message_bytes)
            self._next_id = (self._next_id + 1) & MAX_MSG_ID
            for frame in frames:
                await self.peripheral.notify(frame)

    def _on_write(self, frame: bytes) -> None:
        try:
            message = self._rx.feed(frame)
        except FramingError as exc:
            self.on_error(exc)
            if exc.completed is not None:
                self.on_message(exc.completed)
            return
        if message is not None:
            self.on_message(message)

    def _on_subscribe(self, on: bool) -> None:
        if on and not self._ready:
            self._ready = True
            self.on_connect()
        elif not on:
            self._went_down("unsubscribed")

    def _on_link_down(self, reason: str) -> None:
        self._went_down(reason)

    def _went_down(self, reason: str) -> None:
        for msg_id in self._rx.reset():
            self.on_error(
                FramingError(f"message {msg_id} cut off by the link going down", msg_id=msg_id)
            )
        if self._ready:
            self._ready = False
            self.on_disconnect(reason)
