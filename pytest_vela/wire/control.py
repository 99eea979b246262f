"""The simulated watch's control channel, defined once for both of its ends: the orders the
host sends (``rig/sim_process.py``, ``rig/sim_faults.py``) and the watch serves
(``sim/control.py``, ``sim/process.py``; a test holds the watch's handlers against ``ControlOp``).

One JSON object per line over a unix socket: a request ``{"op": …, <arguments>}``, answered by
exactly one reply, ``{"ok": true, <results>}`` or ``{"ok": false, "error": "…"}``.
"""

from __future__ import annotations

import json
import re
from enum import StrEnum
from typing import Any


class ControlOp(StrEnum):
    """An order to the simulated watch, with its arguments (and results) named."""

    PING = "ping"  # → boots, hung, plugged, apps
    CRASH = "crash"  # a firmware panic, then a reboot
    HANG = "hang"  # the console stops answering until the next power cycle
    GARBAGE = "garbage"  # n random bytes on the console
    INSTALL_BUSY = "install_busy"  # the next n installs answer "installation is running"
    UNPLUG = "unplug"  # the serial port vanishes; replug_after_ms brings it back
    REPLUG = "replug"  # → pty
    POWER_CYCLE = "power_cycle"  # a cold boot, as a relay or a DTR line gives
    CLEAR_FAULTS = "clear_faults"  # back to a healthy watch between tests
    DROP_LINK = "drop_link"  # the watch drops the BLE link
    FAIL_NEXT_CONNECTS = "fail_next_connects"  # refuse the next n BLE connection attempts
    SET_LATENCY = "set_latency"  # ms added to every BLE frame
    SET_MTU = "set_mtu"  # mtu
    SET_MESSAGE_LIMIT = "set_message_limit"  # nbytes a send may carry
    # An app's own data, as its earlier sessions left it (not faults: they stay).
    SET_STORAGE = "set_storage"  # package, values: its @system.storage, replaced
    GET_STORAGE = "get_storage"  # package → values
    PUT_FILE = "put_file"  # package, uri (APP_FILE_URI), data (base64)
    READ_FILE = "read_file"  # package, uri → data (base64)
    ANSWER_DIALOGS = "answer_dialogs"  # answers: the button tapped in each dialog, null: dismiss
    # After a test: package, within_ms, limit_ms → idle (the app had nothing left to do soon)
    SETTLE_APP = "settle_app"


#: A file of an app's own, as both ends name it: internal://files|mass|cache|tmp/<path>.
APP_FILE_URI = re.compile(r"^internal://(files|mass|cache|tmp)/((?:[^/]+/)*[^/]+)$")


class BadRequest(ValueError):
    """A line that is no request of this channel."""


def request(op: ControlOp, **args: Any) -> bytes:
    return json.dumps({"op": op.value, **args}).encode() + b"\n"


def parse_request(line: bytes) -> tuple[ControlOp, dict[str, Any]]:
    """The order and its arguments; ``BadRequest`` naming the known orders otherwise."""
    try:
        found = json.loads(line)
        op = ControlOp(found.pop("op"))
    except (ValueError, KeyError, TypeError, AttributeError):
        known = ", ".join(op.value for op in ControlOp)
        raise BadRequest(f"bad request {line[:200]!r}; ops: {known}") from None
    return op, found


def reply(result: dict[str, Any] | None = None, error: str | None = None) -> bytes:
    body = {"ok": False, "error": error} if error is not None else {"ok": True, **(result or {})}
    return json.dumps(body).encode() + b"\n"


def parse_reply(line: bytes) -> dict[str, Any]:
    """The reply as sent; an empty or unreadable one is a refusal saying so."""
    try:
        found = json.loads(line) if line else None
    except ValueError:
        found = None
    if not isinstance(found, dict):
        return {"ok": False, "error": f"no reply (got {line[:200]!r})"}
    return found
