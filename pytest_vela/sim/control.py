"""The simulated watch's end of its control channel (the orders are defined in
``wire/control.py``): fault orders from the host's ``vela_sim`` fixture, power cycles and the
between-tests clean-up, each answered by exactly one reply line."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

from pytest_vela.wire.control import BadRequest, ControlOp, parse_request, reply

Handler = Callable[..., Awaitable[dict[str, Any] | None]]


class ControlServer:
    def __init__(self, path: Path, handlers: Mapping[ControlOp, Handler]) -> None:
        self.path = path
        self.handlers = handlers
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
                writer.write(await self._dispatch(line))
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    async def _dispatch(self, line: bytes) -> bytes:
        try:
            op, args = parse_request(line)
        except BadRequest as exc:
            return reply(error=str(exc))
        try:
            result = await self.handlers[op](**args)
        except Exception as exc:  # one bad order must not cost the watch its control channel
            return reply(error=f"{op.value}: {type(exc).__name__}: {exc}")
        return reply(result)
