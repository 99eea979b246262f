"""Headless Chromium driven over the DevTools protocol: open a page, wait for text to render,
and tell every request the page made (the browser's own housekeeping is not the page's)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from websockets.sync.client import connect

from tests.support.tools import required_tool

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--no-default-browser-check",
    "--remote-debugging-address=127.0.0.1",
    "--remote-debugging-port=0",
]


def chromium() -> str:
    """Chromium's path; the test that asks skips without it (fails under CI)."""
    return required_tool("chromium", "chromium-browser", "google-chrome", package="chromium")


@dataclass
class Page:
    """One tab: ``requests`` holds the URL of every request it made."""

    socket: Any
    requests: list[str] = field(default_factory=list)
    _next: int = 0

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        self._next += 1
        mine = self._next
        self.socket.send(json.dumps({"id": mine, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv(timeout=30))
            self._note(message)
            if message.get("id") == mine:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                result: dict[str, Any] = message.get("result", {})
                return result

    def _note(self, message: dict[str, Any]) -> None:
        if message.get("method") == "Network.requestWillBeSent":
            self.requests.append(message["params"]["request"]["url"])

    def evaluate(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return result.get("result", {}).get("value")

    def wait_for_text(self, *texts: str, timeout: float = 30.0) -> str:
        """The page's visible text once every one of ``texts`` is in it."""
        deadline = time.monotonic() + timeout
        body = ""
        while time.monotonic() < deadline:
            body = self.evaluate("document.body ? document.body.innerText : ''") or ""
            if all(text in body for text in texts):
                return str(body)
            time.sleep(0.2)
        missing = [t for t in texts if t not in body]
        raise AssertionError(f"the page never showed {missing}; it shows:\n{body[:3000]}")

    def click_text(self, text: str) -> bool:
        """Click the innermost element whose own text is ``text``; False when there is none."""
        script = (
            "(() => { const want = " + json.dumps(text) + ";"
            " const all = [...document.querySelectorAll('body *')].filter("
            "  e => e.childElementCount === 0 && e.textContent.trim() === want);"
            " if (!all.length) return false;"
            " all[0].click(); return true; })()"
        )
        return bool(self.evaluate(script))


@contextmanager
def open_page(url: str) -> Iterator[Page]:
    binary = chromium()
    with tempfile.TemporaryDirectory(prefix="vela-chromium-") as profile:
        scratch = Path(profile, "tmp")  # its singleton socket goes there, not in /tmp
        scratch.mkdir()
        proc = subprocess.Popen(
            [binary, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
            env={**os.environ, "TMPDIR": str(scratch)},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            port = _devtools_port(Path(profile), proc)
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as r:
                targets = json.load(r)
            tab = next(t for t in targets if t.get("type") == "page")
            with connect(tab["webSocketDebuggerUrl"], max_size=None) as socket:
                page = Page(socket)
                page.call("Network.enable")
                page.call("Page.enable")
                page.call("Page.navigate", url=url)
                yield page
        finally:
            _end_group(proc)


def _end_group(proc: subprocess.Popen[bytes]) -> None:
    """Chromium's helpers (zygote, renderer) outlive its main process and keep writing the
    profile: the profile may go only once the whole process group is gone."""
    for sig, grace in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 10.0)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=grace)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            try:
                os.killpg(proc.pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.05)


def _devtools_port(profile: Path, proc: subprocess.Popen[bytes]) -> int:
    marker = profile / "DevToolsActivePort"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"chromium exited with {proc.returncode}")
        if marker.exists():
            lines = marker.read_text().split()
            if lines:
                return int(lines[0])
        time.sleep(0.05)
    raise RuntimeError("chromium never opened its DevTools port")
