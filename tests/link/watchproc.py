"""Runs the echo bridge watch (``tests/support/echo_watch.py``) in its own process.

The peripheral lives in another process than bleak, as in production; tests steer it through
its stdin command interface and see its link events on stdout.
"""

from __future__ import annotations

import contextlib
import queue
import subprocess
import sys
import threading
from pathlib import Path

from pytest_vela.common.processes import spawn_tied, stop_process

ECHO_WATCH = Path(__file__).parent.parent / "support" / "echo_watch.py"
WATCH_NAME = "Vela-linktest"
WATCH_ADDRESS = "C0:FF:EE:00:00:42"


class EchoWatchProcess:
    def __init__(
        self,
        bus_address: str,
        *,
        name: str = WATCH_NAME,
        address: str = WATCH_ADDRESS,
        mtu: int = 247,
        max_message_bytes: int = 65536,
        adapter: str = "hci0",
    ) -> None:
        argv = [
            sys.executable, str(ECHO_WATCH), "--bus", bus_address,
            "--name", name, "--address", address, "--mtu", str(mtu),
            "--max-message-bytes", str(max_message_bytes), "--adapter", adapter,
        ]  # fmt: skip
        self.proc = spawn_tied(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.replies: queue.Queue[str] = queue.Queue()
        self.events: queue.Queue[str] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        ready = self.replies.get(timeout=15)
        if not ready.startswith("ready"):
            raise RuntimeError(f"echo watch did not start: {ready!r}")

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            line = raw.decode().rstrip("\n")
            (self.events if line.startswith("event ") else self.replies).put(line)
        self.replies.put("eof")

    def command(self, line: str, timeout: float = 30.0) -> str:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line.encode() + b"\n")
        self.proc.stdin.flush()
        reply = self.replies.get(timeout=timeout)
        if not reply.startswith("ok"):
            raise RuntimeError(f"echo watch answered {reply!r} to {line!r}")
        return reply

    def state(self) -> dict[str, int]:
        words = self.command("state").split()[2:]
        return {k: int(v) for k, v in (w.split("=") for w in words)}

    def next_event(self, timeout: float = 10.0) -> str:
        return self.events.get(timeout=timeout)

    def stop(self) -> None:
        if self.proc.stdin is not None and not self.proc.stdin.closed:
            with contextlib.suppress(BrokenPipeError):
                self.proc.stdin.close()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            stop_process(self.proc)
