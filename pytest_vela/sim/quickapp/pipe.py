"""The pipe between the simulated watch and its quick-app host: one JSON object per line, the
host's stdin carrying the watch's orders and its stdout the apps' calls and output.

This module is the protocol's one definition: every message is a class here, and the host's
side (``host.js`` beside this file) names the same ``op``\\s in its ``PIPE`` table, which a
test holds against ``OPS``. Each message names the app (its package) it is about.

Watch → host:

====================  =========================================================================
``start``             load the app unpacked in ``dir`` and run its life cycle; answered by
                      ``started`` or ``failed``. ``device``: the rig's ``[sim.device]`` settings
                      (device, battery, network, screen); ``data``: the app's data directories
                      (``files``, ``mass``, ``cache``, ``tmp``) and its ``storage`` file
``stop``              end it (page ``onHide``, ``onDestroy``, app ``onDestroy``, its timers
                      cleared); answered by ``stopped``
``event``             an interconnect event for the app's connection: ``kind`` (``open``,
                      ``message``, ``close``, ``error``) and the handler's argument ``fields``;
                      ``replay``: what a handler assigned later gets when none is set now;
                      ``forget``: kinds whose kept replay is dropped first; kind ``status``
                      calls no handler (it only forgets)
``reply``             the outcome of the app's ``call`` ``call``: ``ok`` with ``value`` (the
                      ``success`` argument), or ``code`` and ``data`` (``fail(data, code)``)
``settle``            answer ``settled`` once the app has nothing left to do within
                      ``within_ms`` (no call awaiting its answer, no callback queued, no timer
                      due that soon), or after ``limit_ms`` at most
====================  =========================================================================

Host → watch:

====================  =========================================================================
``ready``             the host is up (``node``: its version); sent once, first
``started``           the app runs (its life cycle up to ``onShow`` done)
``failed``            the app could not be loaded: ``error`` says why
``stopped``           the app has ended (after ``stop``)
``exited``            the app ended itself (``app.terminate()``, ``router.back()`` from its last
                      page), its life cycle's end run
``console``           the app printed ``text`` at ``level`` (``debug``, ``log``, ``info``,
                      ``warn``, ``error``)
``uncaught``          app code threw and nothing caught it: ``text`` (``Uncaught Error: …``) and
                      the app's own ``stack`` lines
``settled``           the answer to ``settle``: ``idle``, whether the app had nothing left to do
                      (false: ``limit_ms`` ran out first, or it does not run)
``call``              the app called ``module``.``method`` with ``args``; answered by ``reply``:
                      ``system.interconnect`` ``getReadyState`` / ``diagnosis`` / ``send`` (the
                      link's platform), ``system.prompt`` ``showDialog`` / ``showContextMenu``
                      (``choices``; the person's answer: ``value`` ``{"index": i}``, or ``{}``
                      when dismissed)
====================  =========================================================================
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from pytest_vela.common.compact_json import dumps

# --- watch → host -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Start:
    op: ClassVar[str] = "start"
    app: str
    dir: str
    device: dict[str, Any] = field(default_factory=dict)
    data: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Stop:
    op: ClassVar[str] = "stop"
    app: str


@dataclass(frozen=True)
class Event:
    op: ClassVar[str] = "event"
    app: str
    kind: str
    fields: dict[str, Any] = field(default_factory=dict)
    replay: dict[str, Any] | None = None
    forget: list[str] | None = None


@dataclass(frozen=True)
class Reply:
    """``ok`` with ``value`` (``success(value)``), or ``fail(data, code)``."""

    op: ClassVar[str] = "reply"
    app: str
    call: int
    ok: bool
    value: Any = None
    code: int | None = None
    data: Any = None


@dataclass(frozen=True)
class Settle:
    op: ClassVar[str] = "settle"
    app: str
    within_ms: float
    limit_ms: float


# --- host → watch -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Ready:
    op: ClassVar[str] = "ready"
    node: str


@dataclass(frozen=True)
class Started:
    op: ClassVar[str] = "started"
    app: str


@dataclass(frozen=True)
class Failed:
    op: ClassVar[str] = "failed"
    app: str
    error: str


@dataclass(frozen=True)
class Stopped:
    op: ClassVar[str] = "stopped"
    app: str


@dataclass(frozen=True)
class Exited:
    op: ClassVar[str] = "exited"
    app: str


@dataclass(frozen=True)
class ConsoleOutput:
    op: ClassVar[str] = "console"
    app: str
    level: str
    text: str


@dataclass(frozen=True)
class Uncaught:
    op: ClassVar[str] = "uncaught"
    app: str | None
    text: str
    stack: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Settled:
    op: ClassVar[str] = "settled"
    app: str
    idle: bool


@dataclass(frozen=True)
class Call:
    op: ClassVar[str] = "call"
    app: str
    call: int
    module: str
    method: str
    args: dict[str, Any] = field(default_factory=dict)


ToHost = Start | Stop | Event | Reply | Settle
FromHost = Ready | Started | Failed | Stopped | Exited | ConsoleOutput | Uncaught | Settled | Call

_FROM_HOST: dict[str, Callable[[dict[str, Any]], FromHost]] = {
    "ready": lambda o: Ready(str(o.get("node", ""))),
    "started": lambda o: Started(str(o["app"])),
    "failed": lambda o: Failed(str(o["app"]), str(o.get("error", ""))),
    "stopped": lambda o: Stopped(str(o["app"])),
    "exited": lambda o: Exited(str(o["app"])),
    "console": lambda o: ConsoleOutput(str(o["app"]), str(o["level"]), str(o["text"])),
    "uncaught": lambda o: Uncaught(
        None if o.get("app") is None else str(o["app"]),
        str(o["text"]),
        [str(line) for line in o.get("stack") or []],
    ),
    "settled": lambda o: Settled(str(o["app"]), bool(o["idle"])),
    "call": lambda o: Call(
        str(o["app"]), int(o["call"]), str(o["module"]), str(o["method"]), dict(o.get("args") or {})
    ),
}

#: Every ``op`` of the pipe, both ways.
OPS = frozenset({"start", "stop", "event", "reply", "settle", *_FROM_HOST})


class PipeError(ValueError):
    """A line from the host that is not one of its messages."""


def encode(message: ToHost) -> bytes:
    """One watch → host message as a line."""
    body = {k: v for k, v in message.__dict__.items() if v is not None}
    return dumps({"op": message.op, **body}).encode() + b"\n"


def decode(line: bytes | str) -> FromHost:
    """One host → watch line; ``PipeError`` for anything else."""
    try:
        obj = json.loads(line)
        return _FROM_HOST[obj["op"]](obj)
    except (ValueError, KeyError, TypeError) as exc:
        raise PipeError(f"not a message of the quick-app host: {line[:200]!r} ({exc})") from None
