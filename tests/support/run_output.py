"""A run's output read as it comes, on a thread of its own, so that a test can wait for a line
while the run goes on."""

from __future__ import annotations

import subprocess
import threading
from typing import IO


class Output:
    """A run's output as it comes, read on a thread of its own."""

    def __init__(self, run: subprocess.Popen[str]) -> None:
        assert run.stdout is not None
        self.run = run
        self.text = ""
        self._cond = threading.Condition()
        self._reader = threading.Thread(target=self._read, args=(run.stdout,), daemon=True)
        self._reader.start()

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            with self._cond:
                self.text += line
                self._cond.notify_all()

    def wait_for(self, text: str, timeout: float) -> None:
        with self._cond:
            said = self._cond.wait_for(lambda: text in self.text, timeout)
        assert said, f"{text!r} not said within {timeout:g} s:\n{self.text}"

    def whole(self, timeout: float) -> str:
        self.run.wait(timeout)
        self._reader.join(timeout)
        return self.text
