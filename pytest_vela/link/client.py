"""The phone-side central: bleak over BlueZ (a real adapter, or the simulated watch's).

Synchronous methods for tests, async work on the ``LoopThread``. Connecting retries only what
can heal by itself (device not seen yet, a connect that failed or timed out, a link lost
during service discovery) and fails at once on what cannot (no adapter, permission, a missing
bridge characteristic), so a misconfigured rig is reported in seconds, not after the budget.

Frames are written *with response*: each write is acknowledged by the watch's GATT server, so
a lost frame is an error at the write that lost it, not a silent gap found later.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine
from typing import Any

from bleak import BleakClient
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.device import BLEDevice
from bleak.exc import (
    BleakBluetoothNotAvailableError,
    BleakDBusError,
    BleakDeviceNotFoundError,
    BleakError,
    BleakGATTProtocolError,
)
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
)

from pytest_vela.common.loop import LoopThread
from pytest_vela.common.tasks import BackgroundTasks
from pytest_vela.errors import (
    BleError,
    BleTimeout,
    BridgeProfileError,
    FramingError,
    LoopTimeout,
    MessageTooLarge,
)
from pytest_vela.link.leftover import release_leftover
from pytest_vela.link.scan import find_watch
from pytest_vela.link.system_bus import system_bus
from pytest_vela.link.trace import LinkTrace
from pytest_vela.rigfile.schema import BleSettings
from pytest_vela.wire.framing import ATT_OVERHEAD, MAX_MSG_ID, Reassembler, encode

log = logging.getLogger(__name__)

# D-Bus errors that a later attempt can get past (the radio, a busy adapter, a stale object).
TRANSIENT_DBUS_ERRORS = frozenset(
    {
        "org.bluez.Error.Failed",
        "org.bluez.Error.InProgress",
        "org.bluez.Error.NotReady",
        "org.bluez.Error.AlreadyConnected",
        "org.freedesktop.DBus.Error.NoReply",
        "org.freedesktop.DBus.Error.Timeout",
        "org.freedesktop.DBus.Error.UnknownObject",
    }
)


def is_transient(exc: BaseException) -> bool:
    """Whether a failed connect attempt is worth repeating."""
    if isinstance(exc, BleakDeviceNotFoundError):
        return True
    if isinstance(exc, BleakBluetoothNotAvailableError | BleakGATTProtocolError | BleError):
        return False
    if isinstance(exc, BleakDBusError):
        return exc.dbus_error in TRANSIENT_DBUS_ERRORS
    if isinstance(exc, TimeoutError):
        return True
    if type(exc) is BleakError:
        # bleak: "failed to discover services, device disconnected"
        return "disconnected" in str(exc)
    return False


class LinkClient:
    """One BLE link to the watch's bridge service.

    ``on_message(data)`` gets each reassembled message and ``on_disconnect(ts)`` each end of
    the link (``ts`` is host ``time.monotonic()``); both run on the loop thread and must not
    block. Every frame and link event goes to ``trace``.
    """

    def __init__(
        self,
        settings: BleSettings,
        trace: LinkTrace,
        loop: LoopThread,
        on_message: Callable[[bytes], None],
        on_disconnect: Callable[[float], None],
        on_error: Callable[[FramingError], None] | None = None,
        bus_address: str | None = None,
    ) -> None:
        if not (settings.address or settings.name):
            raise BleError("the rig names no watch to connect to: set ble.address or ble.name")
        self.settings = settings
        self.bus_address = bus_address  # None: the host's own system bus
        self.trace = trace
        self._loop = loop
        self._on_message = on_message
        self._on_disconnect = on_disconnect
        self._on_error = on_error
        self._client: BleakClient | None = None
        self._device: BLEDevice | None = None
        self._rx: BleakGATTCharacteristic | None = None
        self._rx_buffer = Reassembler(settings.max_message_bytes)
        self._next_id = 0
        self._mtu = 23
        self._closing = False
        self._write_lock: asyncio.Lock | None = None
        self.last_disconnect_requested: bool | None = None
        self._background = BackgroundTasks()

    @property
    def target(self) -> str:
        return self.settings.address or f"name {self.settings.name!r}"

    @property
    def is_connected(self) -> bool:
        client = self._client
        return client is not None and client.is_connected

    @property
    def mtu(self) -> int:
        """ATT MTU of the link (from the RX characteristic's ``MTU``); the last known one."""
        if self._rx is not None and self.is_connected:
            self._mtu = self._rx.max_write_without_response_size + ATT_OVERHEAD
        return self._mtu

    def _run(self, coro: Coroutine[Any, Any, None], timeout: float, doing: str) -> None:
        """Run a link operation on the loop; one that does not finish in time is the link's
        fault (``BleTimeout``), named by what it was doing."""
        try:
            self._loop.run(coro, timeout, doing)
        except LoopTimeout as exc:
            raise BleTimeout(str(exc)) from None

    # -- connect / disconnect ---------------------------------------------------------------

    def connect(self, timeout: float = 30.0) -> None:
        """Find the watch and connect, retrying transient failures; BleError when it cannot."""
        if self.is_connected:
            return
        self._run(self._connect(timeout), timeout + 5.0, f"connecting to {self.target}")

    async def _connect(self, timeout: float) -> None:
        attempts = 0
        budget = self.settings.connect_attempts
        retrying = AsyncRetrying(
            stop=stop_after_attempt(budget),
            retry=retry_if_exception(is_transient),
            wait=wait_exponential(multiplier=0.02, max=0.5),
            before_sleep=self._note_retry,
            reraise=True,
        )
        budget_timer = asyncio.timeout(timeout)
        try:
            async with budget_timer:
                async for attempt in retrying:
                    with attempt:
                        attempts += 1
                        await self._attempt(attempts)
        except TimeoutError as exc:
            if not budget_timer.expired():  # bleak's own timeout on the last attempt
                raise self._gave_up(attempts, exc) from exc
            self.trace.event(f"connect to {self.target} timed out after {timeout:g} s")
            raise BleError(
                f"could not connect to the watch ({self.target}) within {timeout:g} s "
                f"({attempts} attempt(s) started)"
            ) from exc
        except BleError:
            raise
        except Exception as exc:
            if is_transient(exc):
                raise self._gave_up(attempts, exc) from exc
            detail = _describe(exc)
            self.trace.event(f"connect failed: {detail}")
            raise BleError(
                f"could not connect to the watch ({self.target}): permanent error on attempt "
                f"{attempts}, not retried: {detail}"
            ) from exc

    def _gave_up(self, attempts: int, exc: BaseException) -> BleError:
        detail = _describe(exc)
        self.trace.event(f"connect failed: {detail}")
        return BleError(
            f"could not connect to the watch ({self.target}) after {attempts} attempts "
            f"(ble.connect_attempts = {self.settings.connect_attempts}); last error: {detail}"
        )

    def _note_retry(self, state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        self.trace.event(f"connect attempt {state.attempt_number} failed, retrying: {exc!r}")

    async def _attempt(self, number: int) -> None:
        started = time.monotonic()
        if self._device is None:
            if number == 1 and await release_leftover(
                self.bus_address, self.settings.address, self.settings.name
            ):
                self.trace.event(f"{self.target} was still connected (a killed run?): released")
            with system_bus(self.bus_address):
                self._device = await self._find()
        client = BleakClient(
            self._device,
            disconnected_callback=self._bleak_disconnected,
            timeout=self.settings.scan_timeout,
            bluez={"adapter": self.settings.adapter},
        )
        try:
            with system_bus(self.bus_address):
                await client.connect()
            rx, tx = self._bridge_chars(client)
            self._client, self._rx = client, rx
            await client.start_notify(tx, self._notified)
        except BaseException as exc:
            self._client = self._rx = None  # before the cleanup, so its callback is ignored
            if isinstance(exc, BleakDeviceNotFoundError):
                self._device = None  # gone from BlueZ: scan again next time
            try:
                await asyncio.wait_for(client.disconnect(), 5.0)
            except Exception:
                log.debug("cleanup disconnect after a failed attempt failed", exc_info=True)
            raise
        self._write_lock = asyncio.Lock()
        self._closing = False
        self.trace.event(
            f"connected to {self._device.address} (attempt {number}, "
            f"{(time.monotonic() - started) * 1000:.1f} ms, MTU {self.mtu})"
        )

    async def _find(self) -> BLEDevice:
        wait = self.settings.scan_timeout
        device = await find_watch(self.settings, wait)
        if device is None:
            raise BleakDeviceNotFoundError(
                self.settings.address or "",
                f"the watch ({self.target}) was not seen advertising within {wait:g} s",
            )
        return device

    def _bridge_chars(
        self, client: BleakClient
    ) -> tuple[BleakGATTCharacteristic, BleakGATTCharacteristic]:
        s = self.settings
        service = client.services.get_service(s.service_uuid)
        if service is None:
            raise BridgeProfileError(
                f"the watch has no bridge service {s.service_uuid} (rig ble.service_uuid); "
                f"it offers: {', '.join(x.uuid for x in client.services) or 'nothing'}"
            )
        found = []
        for field, uuid in (("rx_uuid", s.rx_uuid), ("tx_uuid", s.tx_uuid)):
            char = service.get_characteristic(uuid)
            if char is None:
                raise BridgeProfileError(
                    f"the bridge service has no characteristic {uuid} (rig ble.{field}); "
                    f"it has: {', '.join(c.uuid for c in service.characteristics) or 'none'}"
                )
            found.append(char)
        return found[0], found[1]

    def disconnect(self, timeout: float = 10.0) -> None:
        """Close the link from the phone side. Idempotent."""
        if self._client is None:
            return
        self._run(self._disconnect(), timeout, f"disconnecting from {self.target}")

    async def _disconnect(self) -> None:
        client = self._client
        if client is None:
            return
        self._closing = True
        try:
            await client.disconnect()
        except BleakError as exc:
            self.trace.event(f"disconnect reported an error (link released anyway): {exc}")
        finally:
            self._client = self._rx = None

    def reconnect(self, timeout: float = 30.0) -> None:
        self.disconnect()
        self.connect(timeout)

    def _bleak_disconnected(self, client: BleakClient) -> None:
        if client is not self._client:
            return  # a failed attempt's client, already given up
        ts = time.monotonic()
        requested = self._closing
        self.last_disconnect_requested = requested
        self._closing = False
        self._rx = None
        for msg_id in self._rx_buffer.reset():
            cut = FramingError(f"message {msg_id} cut off by the disconnect", msg_id=msg_id)
            self._framing_error(cut)
        self.trace.event("disconnected (requested)" if requested else "disconnected (link lost)")
        try:
            self._on_disconnect(ts)
        except Exception:
            log.exception("on_disconnect callback failed")

    # -- data -------------------------------------------------------------------------------

    def send(self, payload: bytes, timeout: float = 10.0) -> None:
        """Frame ``payload`` to the link's MTU and write every frame to RX.

        MessageTooLarge is raised before anything is written; BleError if the link is down
        or a write fails.
        """
        limit = self.settings.max_message_bytes
        if len(payload) > limit:
            raise MessageTooLarge(len(payload), limit)
        if not self.is_connected:
            raise BleError(f"cannot send: the link to the watch ({self.target}) is down")
        self._run(
            self._send(bytes(payload)),
            timeout,
            f"writing a message of {len(payload)} bytes to the watch",
        )

    def send_soon(self, payload: bytes, on_error: Callable[[BleError], None]) -> None:
        """Send from any thread, the loop's own included, without waiting: for automatic
        answers produced inside ``on_message``. ``on_error`` gets a failure, on the loop."""

        async def send() -> None:
            try:
                await self._send(payload)
            except BleError as exc:
                on_error(exc)

        self._loop.call_soon(lambda: self._background.spawn(send()))

    async def _send(self, payload: bytes) -> None:
        client, rx, lock = self._client, self._rx, self._write_lock
        if client is None or rx is None or lock is None:
            raise BleError(f"cannot send: the link to the watch ({self.target}) is down")
        async with lock:
            msg_id = self._next_id
            self._next_id = (msg_id + 1) & MAX_MSG_ID
            frames = encode(payload, msg_id, self.mtu, self.settings.max_message_bytes)
            for i, frame in enumerate(frames):
                self.trace.frame("tx", frame)
                try:
                    await client.write_gatt_char(rx, frame, response=True)
                except BleakError as exc:
                    self.trace.event(f"write failed: {_describe(exc)}")
                    if not client.is_connected:  # BlueZ's own words then name a lost object
                        raise BleError(
                            f"the BLE link to the watch was lost while writing frame "
                            f"{i + 1}/{len(frames)} of message {msg_id}"
                        ) from exc
                    raise BleError(
                        f"writing frame {i + 1}/{len(frames)} of message {msg_id} to the watch "
                        f"failed: {_describe(exc)}"
                    ) from exc

    def _notified(self, _char: BleakGATTCharacteristic, data: bytearray) -> None:
        frame = bytes(data)
        self.trace.frame("rx", frame)
        try:
            message = self._rx_buffer.feed(frame)
        except FramingError as exc:
            self._framing_error(exc)
            message = exc.completed
        if message is not None:
            try:
                self._on_message(message)
            except Exception:
                log.exception("on_message callback failed")

    def _framing_error(self, exc: FramingError) -> None:
        self.trace.event(f"framing error: {exc}")
        log.warning("bridge framing error from the watch: %s", exc)
        if self._on_error is not None:
            try:
                self._on_error(exc)
            except Exception:
                log.exception("on_error callback failed")


def _describe(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {text}"
