"""What a running app's ``connect.getReadyState`` / ``diagnosis`` / ``send`` get from the
simulated platform, each answer decided by the rig's ``[sim.interconnect]`` rules.

A part of ``InterconnectPlatform`` (its base class), kept apart so that the link's life cycle
and the calls' rules each read in one place. The platform provides the link's state
(``link_up``, ``connecting``…) and the way to the phone (``_emit``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pytest_vela.rigfile.link_rules import InterconnectRules
from pytest_vela.wire.messages import AppData, Message, Ping

#: A queued send's fates: the link opened, its timer ran out, the app ended.
GO, TIMED_OUT, GONE = "go", "timed out", "gone"


@dataclass(frozen=True)
class Outcome:
    """What an API call's callbacks get: ``success(value)`` or ``fail(data, code)``."""

    ok: bool
    value: dict[str, Any] | None = None
    code: int | None = None
    data: Any = None


class AppCalls:
    """The calls' rules. Subclassed by the platform, which sets the state read here."""

    rules: InterconnectRules
    link_up: bool
    bridge_ready: bool
    phone_installed: bool
    last_open: float
    message_limit: int | None

    def _init_calls(self) -> None:
        self._next_out = 0
        self._acks: dict[int, asyncio.Future[None]] = {}
        self._pongs: dict[int, asyncio.Future[None]] = {}
        self._queued: set[asyncio.Future[str]] = set()
        self._diagnoses_waiting = 0
        self.reset_message_limit()

    # --- provided by the platform ----------------------------------------------------------------

    @property
    def connecting(self) -> bool:
        raise NotImplementedError

    def _connecting_over(self) -> asyncio.Event:
        raise NotImplementedError

    async def _emit(self, message: Message) -> bool:
        raise NotImplementedError

    # --- the phone's answers ---------------------------------------------------------------------

    def acknowledged(self, key: int) -> None:
        self._resolve(self._acks, key)

    def ponged(self, key: int) -> None:
        self._resolve(self._pongs, key)

    @staticmethod
    def _resolve(waiting: dict[int, asyncio.Future[None]], key: int) -> None:
        future = waiting.get(key)
        if future is not None and not future.done():
            future.set_result(None)

    def _fail_pending(self) -> None:
        """The link went down: whatever waits for the phone's answer fails."""
        for future in list(self._acks.values()) + list(self._pongs.values()):
            if not future.done():
                future.set_exception(ConnectionError("link down"))

    def reset_message_limit(self) -> None:
        """The rules' own limit (None: no size check), after a fault moved it."""
        self.message_limit = self.rules.message_limit if self.rules.refuse_oversize else None

    # --- getReadyState ---------------------------------------------------------------------------

    async def ready_state(self) -> Outcome:
        up = self.link_up or not self.rules.ready_state_tracks_link
        return Outcome(True, {"status": 1 if up else 2})

    # --- diagnosis -------------------------------------------------------------------------------

    async def diagnosis(self, timeout_ms: Any = 10000) -> Outcome:
        rules = self.rules
        try:
            timeout = float(timeout_ms) / 1000
        except (TypeError, ValueError):
            return Outcome(False, code=202, data=f"timeout must be a number of ms: {timeout_ms!r}")
        deadline = time.monotonic() + timeout
        if self.connecting and rules.diagnosis_waits_for_connect:
            if rules.diagnosis_refusals and timeout <= 0:
                return Outcome(False, code=rules.diagnosis_bad_timeout_code, data="timeout <= 0")
            if rules.diagnosis_refusals and self._diagnoses_waiting:
                return Outcome(False, code=rules.diagnosis_overlap_code, data="diag")
            self._diagnoses_waiting += 1
            try:
                await asyncio.wait_for(self._connecting_over().wait(), deadline - time.monotonic())
            except TimeoutError:
                return Outcome(True, {"status": rules.diagnosis_timeout_status})
            finally:
                self._diagnoses_waiting -= 1
        return Outcome(True, {"status": await self._link_status(deadline)})

    async def _link_status(self, deadline: float) -> int:
        rules = self.rules
        if not self.phone_installed:
            return rules.uninstalled_status
        if not self.link_up:
            return rules.diagnosis_down_status
        if rules.diagnosis_asks_phone:
            try:
                await self._round_trip(self._pongs, Ping, deadline - time.monotonic())
            except (TimeoutError, ConnectionError):
                return rules.diagnosis_timeout_status
        return rules.diagnosis_ok_status

    # --- send ------------------------------------------------------------------------------------

    async def send(self, text: str, data_type: str = "object", timeout_ms: Any = None) -> Outcome:
        """``connect.send``: ``text`` is the data, serialised once by the app's runtime;
        ``data_type`` what it was (``object``, ``array``, ``string``…); ``timeout_ms`` the
        app's own ``timeout``, if it gave one."""
        rules = self.rules
        if self.link_up:
            return self._refused(text, data_type) or await self._deliver(text)
        if self.connecting and rules.send_queue_while_connecting:
            refused = self._refused(text, data_type)
            if refused is not None:
                return refused
            fate = await self._queue(_positive_ms(timeout_ms) or rules.send_queue_timeout_ms)
            if fate == TIMED_OUT:
                return Outcome(False, code=rules.timeout_code, data="send timeout")
            if fate == GO and self.link_up:
                return await self._deliver(text)
        return Outcome(False, code=rules.send_down_code, data="disconnected")

    def _refused(self, text: str, data_type: str) -> Outcome | None:
        rules = self.rules
        if rules.send_data_must_be_object and (data_type != "object" or not text):
            return Outcome(False, code=rules.send_data_code, data="invalid args")
        size = len(text.encode())
        if self.message_limit is not None and size > self.message_limit:
            return Outcome(
                False,
                code=rules.oversize_code,
                data=f"message of {size} bytes exceeds the limit of {self.message_limit}",
            )
        return None

    async def _queue(self, ms: float) -> str:
        """Wait for the link to open (``GO``) or ``ms`` to pass (``TIMED_OUT``)."""
        loop = asyncio.get_running_loop()
        fate: asyncio.Future[str] = loop.create_future()
        timer = loop.call_later(ms / 1000, _settle, fate, TIMED_OUT)
        self._queued.add(fate)
        try:
            return await fate
        finally:
            timer.cancel()
            self._queued.discard(fate)

    def _release_queued(self, fate: str) -> None:
        """Every queued send learns its ``fate`` (the link opened, or the app ended)."""
        for queued in list(self._queued):
            _settle(queued, fate)

    async def _deliver(self, text: str) -> Outcome:
        rules = self.rules
        lost = (time.monotonic() - self.last_open) * 1000 < rules.lost_sends_after_open_ms
        if rules.send_acknowledged_by == "daemon":
            # The watch's own link daemon takes it: the phone app's answer is not awaited.
            self._next_out += 1
            if not (lost or await self._emit(AppData(text, self._next_out))):
                return Outcome(False, code=rules.send_down_code, data="connection broken")
            return Outcome(True)
        try:
            await self._round_trip(
                self._acks, lambda key: AppData(text, key), rules.ack_timeout_ms / 1000, lost=lost
            )
        except TimeoutError:
            return Outcome(False, code=rules.timeout_code, data="no acknowledgement")
        except ConnectionError:
            return Outcome(False, code=rules.send_down_code, data="disconnected")
        return Outcome(True)

    async def _round_trip(
        self,
        waiting: dict[int, asyncio.Future[None]],
        message: Callable[[int], Message],
        timeout: float,
        lost: bool = False,
    ) -> None:
        self._next_out += 1
        key = self._next_out
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        waiting[key] = future
        try:
            if not lost:
                await self._emit(message(key))
            await asyncio.wait_for(future, max(timeout, 0.001))
        finally:
            waiting.pop(key, None)


def _settle(future: asyncio.Future[str], fate: str) -> None:
    if not future.done():
        future.set_result(fate)


def _positive_ms(value: Any) -> float | None:
    """The app's own ``timeout`` when it is a usable number of ms."""
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return float(value)
    return None
