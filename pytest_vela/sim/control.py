"""The simulated watch's control channel: JSON lines over a unix socket.

Fault orders (``crash``, ``hang``, ``garbage``…) arrive here from the host's ``vela_sim``
fixture; each request gets exactly one reply line, ``{"ok": true, …}`` or ``{"ok": false,
"error": "…"}``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

Handler = Callable[..., Awaitable[dict[str, Any] | None]]


class ControlServer:
    def __init__(self, path: Path, handlers: dict[str, Handler]) -> None:
        self.path = path
        self._handlers = handlers
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        self._server = await asyncio.start_unix_server(self._client, path=str(self.path))

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while line := await reader.readline():
                reply = await self._dispatch(line)
                writer.write(json.dumps(reply).encode() + b"\n")
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    async def _dispatch(self, line: bytes) -> dict[str, Any]:
        try:
            request = json.loads(line)
            op = request.pop("op")
            handler = self._handlers[op]
        except (ValueError, KeyError, TypeError, AttributeError):
            return {
                "ok": False,
                "error": f"bad request {line[:200]!r}; ops: {sorted(self._handlers)}",
            }
        try:
            result = await handler(**request)
        except Exception as exc:  # one bad order must not cost the watch its control channel
            return {"ok": False, "error": f"{op}: {type(exc).__name__}: {exc}"}
        return {"ok": True, **(result or {})}
