"""Every bridge message (docs/protocol.md §3), typed, with one encoder and one parser.

The harness, the simulated watch and the tests build messages only through these classes, so
a field's name is written once. ``decode`` refuses anything that is not a known message with
fields of the right types (``ProtocolError``), so that a garbled message is reported, not half
acted upon.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any, ClassVar, Literal

from pytest_vela.common.compact_json import dumps
from pytest_vela.errors import ProtocolError

EventKind = Literal["open", "message", "close", "error"]
LinkOp = Literal["open", "close", "drop"]


class BridgeCode(IntEnum):
    """Failure codes of the bridge itself, outside the API's own code space (200–1006): they
    mean the agent could not run the command at all, a rig fault rather than an API outcome."""

    APP_NOT_RUNNING = 4100
    UNKNOWN_OP = 4101
    MALFORMED = 4102


@dataclass(frozen=True)
class Command:
    """Harness → agent: run ``op`` (``getReadyState``, ``diagnosis``, ``send``, ``clock``,
    ``reset``) with ``args``; answered by a ``Result`` of the same ``id``."""

    t: ClassVar[str] = "cmd"
    id: int
    op: str
    args: dict[str, Any] = field(default_factory=dict)

    def fields(self) -> dict[str, Any]:
        return {"id": self.id, "op": self.op, **self.args}


@dataclass(frozen=True)
class AppData:
    """An interconnect message: phone → watch (no ``id``; ``data`` reaches ``onmessage``
    unchanged) or watch → phone (``id`` to acknowledge; ``data`` the object serialised once)."""

    t: ClassVar[str] = "app"
    data: str
    id: int | None = None

    def fields(self) -> dict[str, Any]:
        return {"data": self.data} if self.id is None else {"id": self.id, "data": self.data}


@dataclass(frozen=True)
class Ack:
    """The phone app acknowledges the watch's ``AppData`` ``id``."""

    t: ClassVar[str] = "ack"
    id: int

    def fields(self) -> dict[str, Any]:
        return {"id": self.id}


@dataclass(frozen=True)
class Ping:
    """The watch probes the phone app (``diagnosis``); a responsive phone answers ``Pong``."""

    t: ClassVar[str] = "ping"
    id: int

    def fields(self) -> dict[str, Any]:
        return {"id": self.id}


@dataclass(frozen=True)
class Pong:
    t: ClassVar[str] = "pong"
    id: int

    def fields(self) -> dict[str, Any]:
        return {"id": self.id}


@dataclass(frozen=True)
class LinkOrder:
    """The phone app opens its session, closes it cleanly, or loses it abruptly."""

    t: ClassVar[str] = "link"
    op: LinkOp

    def fields(self) -> dict[str, Any]:
        return {"op": self.op}


@dataclass(frozen=True)
class PeerState:
    """Whether the phone app appears installed to the watch."""

    t: ClassVar[str] = "peer"
    installed: bool

    def fields(self) -> dict[str, Any]:
        return {"installed": self.installed}


@dataclass(frozen=True)
class SessionState:
    """Watch → harness: the watch app's link to the phone app opened (``up``) or went down, as
    the phone app sees it from its side; what a test of an app without the agent waits on."""

    t: ClassVar[str] = "session"
    up: bool

    def fields(self) -> dict[str, Any]:
        return {"up": self.up}


@dataclass(frozen=True)
class Hello:
    """Sent by the watch on every bridge connection; ``clock`` is the watch's monotonic ms."""

    t: ClassVar[str] = "hello"
    agent: str
    package: str
    clock: float
    running: bool = True

    def fields(self) -> dict[str, Any]:
        return {
            "agent": self.agent,
            "package": self.package,
            "clock": self.clock,
            "running": self.running,
        }


@dataclass(frozen=True)
class Result:
    """The outcome of ``Command`` ``id``: ``ok`` with ``status`` / ``clock``, or a failure with
    ``code`` and ``data`` (the API's ``fail(data, code)``, or a ``BridgeCode``)."""

    t: ClassVar[str] = "res"
    id: int | None
    ok: bool
    status: int | None = None
    code: int | None = None
    data: Any = None
    clock: float | None = None

    @property
    def bridge_failure(self) -> BridgeCode | None:
        """The bridge's own failure code, when the agent could not run the command."""
        if self.ok or self.code is None:
            return None
        try:
            return BridgeCode(self.code)
        except ValueError:
            return None

    def fields(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "ok": self.ok}
        for name in ("status", "code", "data", "clock"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        return out


@dataclass(frozen=True)
class EventReport:
    """An event the watch app received: ``seq`` from 1 per app run, ``ts`` in watch ms."""

    t: ClassVar[str] = "evt"
    seq: int
    kind: EventKind
    ts: float
    code: int | None = None
    data: Any = None
    is_reconnected: bool | None = None

    @property
    def identity(self) -> tuple[int, float, str]:
        """Equal for the same event arriving by the bridge and by the console mirror."""
        return (self.seq, self.ts, self.kind)

    def fields(self) -> dict[str, Any]:
        out: dict[str, Any] = {"seq": self.seq, "kind": self.kind, "ts": self.ts}
        if self.is_reconnected is not None:
            out["isReconnected"] = self.is_reconnected
        if self.code is not None:
            out["code"] = self.code
        if self.data is not None:
            out["data"] = self.data
        return out


Message = (
    Command
    | AppData
    | Ack
    | Ping
    | Pong
    | LinkOrder
    | PeerState
    | SessionState
    | Hello
    | Result
    | EventReport
)


def encode(message: Message) -> bytes:
    """One message as compact UTF-8 JSON, ``t`` first."""
    return dumps({"t": message.t, **message.fields()}).encode()


def decode(raw: bytes | str) -> Message:
    """Parse one message; ``ProtocolError`` for anything that is not a well-formed one: not
    JSON (``NaN`` and ``Infinity`` are not), nested too deeply to parse, not a known message
    with fields of the right types."""
    try:
        obj = json.loads(raw, parse_constant=_no_constant)
    except ValueError as exc:
        raise ProtocolError(f"not JSON: {exc}") from None
    except RecursionError:
        raise ProtocolError("not a message: JSON nested too deeply to parse") from None
    if not isinstance(obj, dict) or not isinstance(obj.get("t"), str):
        raise ProtocolError("not a message object with a type 't'")
    parse = _PARSERS.get(obj["t"])
    if parse is None:
        raise ProtocolError(f"unknown message type {obj['t']!r}")
    try:
        return parse(_Fields(obj))
    except (KeyError, TypeError, ValueError) as exc:
        raise ProtocolError(f"malformed {obj['t']!r} message: {exc}") from None


def _no_constant(name: str) -> float:
    raise ValueError(f"{name} is not a JSON number")


class _Fields:
    """Typed access to a decoded message's fields; a wrong type raises ``TypeError``."""

    def __init__(self, obj: dict[str, Any]) -> None:
        self.obj = obj

    def integer(self, name: str, default: int | None = None, required: bool = True) -> Any:
        value = self.obj.get(name, default)
        if value is None and not required:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"{name} must be an integer, not {value!r}")
        return value

    def number(self, name: str, required: bool = True) -> Any:
        value = self.obj.get(name)
        if value is None and not required:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise TypeError(f"{name} must be a number, not {value!r}")
        try:
            finite = math.isfinite(value)  # 1e400 reads as infinity
        except OverflowError:  # an integer beyond any float
            finite = False
        if not finite:
            raise ValueError(f"{name} must be a finite number, not {value!r}")
        return value

    def text(self, name: str, choices: tuple[str, ...] | None = None) -> Any:
        value = self.obj[name]
        if not isinstance(value, str) or (choices is not None and value not in choices):
            raise TypeError(f"{name} must be {' / '.join(choices or ('a string',))}: {value!r}")
        return value

    def flag(self, name: str, default: bool | None = None, required: bool = True) -> Any:
        value = self.obj.get(name, default)
        if value is None and not required:
            return None
        if not isinstance(value, bool):
            raise TypeError(f"{name} must be true or false, not {value!r}")
        return value


_ARGS_EXCLUDED = frozenset({"t", "id", "op"})
_PARSERS: dict[str, Callable[[_Fields], Message]] = {
    "cmd": lambda f: Command(
        f.integer("id"), f.text("op"), {k: v for k, v in f.obj.items() if k not in _ARGS_EXCLUDED}
    ),
    "app": lambda f: AppData(f.text("data"), f.integer("id", required=False)),
    "ack": lambda f: Ack(f.integer("id")),
    "ping": lambda f: Ping(f.integer("id")),
    "pong": lambda f: Pong(f.integer("id")),
    "link": lambda f: LinkOrder(f.text("op", ("open", "close", "drop"))),
    "peer": lambda f: PeerState(f.flag("installed")),
    "session": lambda f: SessionState(f.flag("up")),
    "hello": lambda f: Hello(
        f.text("agent"), f.text("package"), f.number("clock"), f.flag("running", True)
    ),
    "res": lambda f: Result(
        f.integer("id", required=False),
        f.flag("ok"),
        f.integer("status", required=False),
        f.integer("code", required=False),
        f.obj.get("data"),
        f.number("clock", required=False),
    ),
    "evt": lambda f: EventReport(
        f.integer("seq"),
        f.text("kind", ("open", "message", "close", "error")),
        f.number("ts"),
        f.integer("code", required=False),
        f.obj.get("data"),
        f.flag("isReconnected", required=False),
    ),
}
