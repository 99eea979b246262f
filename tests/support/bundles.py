"""Hand-written quick apps in the toolkit's bundle shape, and the quick-app host driven over its
pipe, for tests of the simulated runtime that need no toolkit build."""

from __future__ import annotations

import asyncio
import json
import time
import zipfile
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

from pytest_vela.rigfile.sim_device import DeviceSettings
from pytest_vela.sim.quickapp import pipe
from pytest_vela.sim.quickapp.host import NodeAppHost

#: Helpers for test pages: ``req(name)`` imports ``@system.<name>``; ``out(…)`` logs its
#: arguments (all but strings as JSON), one console line.
HELPERS = """
var req = (m) => $app_require$('@app-module/system.' + m)
var show = (v) => (typeof v === 'string' ? v : JSON.stringify(v))
var out = (...a) => console.log(a.map(show).join(' '))
"""
HEAD = "export default function(global, globalThis, window, $app_exports$, $app_evaluate$){"
PACKAGE = "com.example.t"


def bundle(body: str) -> str:
    """One bundle: ``body`` inside the module function the toolkit writes."""
    return HEAD + "\n" + body + "\n}"


def page(definition: str, prelude: str = "") -> str:
    """A page bundle: ``prelude`` (imports, helpers), then the page's object literal."""
    return bundle(prelude + "\n$app_exports$.default = " + definition)


def manifest(pages: Mapping[str, str], entry: str | None, log_level: str) -> dict[str, Any]:
    return {
        "package": PACKAGE,
        "name": "T",
        "versionName": "1.0.0",
        "versionCode": 1,
        "config": {"logLevel": log_level},
        "router": {
            "entry": entry or next(iter(pages)),
            "pages": {name: {"component": "index"} for name in pages},
        },
    }


def write_rpk(path: Path, pages: Mapping[str, str], app_js: str = "") -> Path:
    """The app of ``write_app`` packed as an rpk (unsigned: the simulated watch installs it)."""
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("manifest.json", json.dumps(manifest(pages, None, "log")))
        archive.writestr("app.js", app_js or page("{}"))
        for name, source in pages.items():
            archive.writestr(f"{name}/index.js", source)
    return path


def write_app(
    root: Path,
    pages: Mapping[str, str],
    app_js: str = "",
    entry: str | None = None,
    log_level: str = "log",
) -> Path:
    """An unpacked app: ``pages`` by router name (``pages/index``) to their bundle; ``app_js``
    the app bundle (a definition with no hooks when empty); the first page the entry."""
    root.mkdir(parents=True)
    (root / "manifest.json").write_text(json.dumps(manifest(pages, entry, log_level)))
    (root / "app.js").write_text(app_js or page("{}"))
    for name, source in pages.items():
        (root / name).mkdir(parents=True)
        (root / name / "index.js").write_text(source)
    return root


def data_dirs(root: Path) -> dict[str, str]:
    """The start order's ``data`` for an app whose data lives in ``root``."""
    found = {part: str(root / part) for part in ("files", "mass", "cache", "tmp")}
    found["storage"] = str(root / "storage.json")
    return found


DEVICE = DeviceSettings().model_dump()


class Recorder:
    """Everything the host said that was not an answer to an order."""

    def __init__(self) -> None:
        self.out: list[pipe.FromHost] = []

    def __call__(self, message: pipe.FromHost) -> None:
        self.out.append(message)

    def lines(self) -> list[str]:
        return [m.text for m in self.out if isinstance(m, pipe.ConsoleOutput)]

    def calls(self) -> list[pipe.Call]:
        return [m for m in self.out if isinstance(m, pipe.Call)]

    async def until(self, ready: Callable[[], bool], timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while not ready():
            assert time.monotonic() < deadline, self.out
            await asyncio.sleep(0.005)

    async def line(self, text: str, timeout: float = 5.0) -> None:
        await self.until(lambda: text in self.lines(), timeout)


class Host:
    """A quick-app host of its own, with what it said recorded."""

    def __init__(self, node: NodeAppHost, recorder: Recorder) -> None:
        self.node = node
        self.rec = recorder

    async def start(
        self, app: Path, data: Path | None = None, device: Mapping[str, Any] | None = None
    ) -> str | None:
        dirs = data_dirs(data) if data is not None else {}
        return await self.node.start_app(
            PACKAGE, app, device=DEVICE if device is None else device, data=dirs
        )

    def message(self, data: str) -> None:
        """A message from the phone for the app's onmessage."""
        self.node.send(pipe.Event(PACKAGE, "message", {"data": data}))

    def reply(self, call: pipe.Call, value: Any = None) -> None:
        self.node.send(pipe.Reply(PACKAGE, call.call, True, value))


def run(body: Callable[[Host], Awaitable[None]]) -> None:
    async def main() -> None:
        recorder = Recorder()
        node = NodeAppHost(time.monotonic_ns(), recorder)
        try:
            await body(Host(node, recorder))
        finally:
            await node.stop()

    asyncio.run(main())
