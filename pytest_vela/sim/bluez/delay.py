"""An in-order delay line: the simulated radio's latency without reordering.

Each action is due ``delay`` seconds after it was submitted and runs strictly in submission
order, one at a time, so that latency never reorders frames and a flood keeps its pace.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable

Action = Callable[[], Awaitable[None]]


class DelayLine:
    def __init__(self) -> None:
        self.delay = 0.0
        self._queue: deque[tuple[float, Action, asyncio.Future[None]]] = deque()
        self._pump: asyncio.Task[None] | None = None

    @property
    def idle(self) -> bool:
        return not self._queue and (self._pump is None or self._pump.done())

    def submit(self, action: Action) -> asyncio.Future[None]:
        """Queue ``action``; the future settles when it has run (or was discarded)."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()
        self._queue.append((loop.time() + self.delay, action, done))
        if self._pump is None or self._pump.done():
            self._pump = loop.create_task(self._run())
        return done

    async def run(self, action: Action) -> None:
        """Run ``action`` now when nothing is delayed, else in its turn; wait for it."""
        if self.delay <= 0 and self.idle:
            await action()
        else:
            await self.submit(action)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while self._queue:
            due, action, done = self._queue[0]
            wait = due - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            self._queue.popleft()
            try:
                await action()
            except Exception as exc:
                if not done.done():
                    done.set_exception(exc)
                    done.exception()
            except BaseException:
                if not done.done():
                    done.set_exception(ConnectionAbortedError("discarded while running"))
                    done.exception()
                raise
            else:
                if not done.done():
                    done.set_result(None)

    def discard(self, reason: BaseException) -> int:
        """Drop everything still queued (the link went down); returns how many were dropped."""
        dropped = len(self._queue)
        if self._pump is not None and not self._pump.done():
            self._pump.cancel()
        self._pump = None
        while self._queue:
            _, _, done = self._queue.popleft()
            if not done.done():
                done.set_exception(reason)
                done.exception()  # mark retrieved: fire-and-forget submitters never look
        return dropped
