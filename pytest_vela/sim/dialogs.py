"""The person at the simulated watch, answering its apps' dialogs and context menus.

A test says beforehand (or while one is open) what will be tapped: ``vela_sim.answer_dialogs(0,
None)`` — the first button, then dismiss. Each dialog an app shows takes the next answer; one
shown with none left stays open until an answer comes, as on a watch nobody touches.
"""

from __future__ import annotations

import asyncio
from collections import deque

#: What was tapped: a button's (or menu item's) index, or None to dismiss.
Answer = int | None


class DialogAnswers:
    def __init__(self) -> None:
        self._answers: deque[Answer] = deque()
        self._open: deque[asyncio.Future[Answer]] = deque()

    def add(self, answers: list[Answer]) -> None:
        """Answers for the dialogs to come, open ones first."""
        for answer in answers:
            while self._open and self._open[0].done():
                self._open.popleft()
            if self._open:
                self._open.popleft().set_result(answer)
            else:
                self._answers.append(answer)

    async def next(self) -> Answer:
        """The answer to a dialog just shown (waits while nobody has said one)."""
        if self._answers:
            return self._answers.popleft()
        waiting: asyncio.Future[Answer] = asyncio.get_running_loop().create_future()
        self._open.append(waiting)
        return await waiting

    def clear(self) -> None:
        """Between tests: answers nobody used are forgotten (open dialogs stay open)."""
        self._answers.clear()

    def close_all(self) -> None:
        """The app ended: its open dialogs went with it."""
        while self._open:
            self._open.popleft().cancel()
