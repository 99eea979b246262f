"""A Console's log as the tests read it: its lines' host arrival stamps, its text, and a wait
for text to reach it (the reader writes the log on its own thread)."""

from __future__ import annotations

import re
import time

from pytest_vela.console.port import Console

STAMP = re.compile(r"^\d\d:\d\d:\d\d\.\d{6} ", re.M)


def log_text(console: Console) -> str:
    return console.log_path.read_text()


def wait_for_log(console: Console, text: str, bound: float = 10.0) -> bool:
    deadline = time.monotonic() + bound
    while time.monotonic() < deadline:
        if text in console.log_path.read_text():
            return True
        time.sleep(0.01)
    return False
