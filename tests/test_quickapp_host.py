"""The quick-app host (node running built bundles) driven over its pipe, with hand-written
bundles in the toolkit's module shape; skipped without Node.js."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import pytest

from pytest_vela.sim.quickapp import pipe
from pytest_vela.sim.quickapp.host import HOST_JS, find_node
from tests.support.bundles import HEAD, Host, run

pytestmark = pytest.mark.skipif(find_node() is None, reason="Node.js (node) is not on PATH")

APP_JS = (
    HEAD + "var r = $app_require$; $app_exports$.default = {"
    " onCreate() { console.log('app onCreate') },"
    " onDestroy() { console.log('app onDestroy') },"
    " greet() { return 'hi from app' } } }"
)
PAGE_JS = (
    HEAD
    + """
  var setTimeout = global.setTimeout
  var mod = $app_require$('@app-module/system.interconnect')
  var foo = $app_require$('@app-module/system.foo')
  $app_exports$.default = {
    data: { n: 1, list: [1] },
    onInit() {
      this.list.push(2)
      console.log('onInit', this.n, JSON.stringify(this.list), this.$app.$def.greet())
      this.conn = mod.instance()
      this.conn.onmessage = (e) => this.got(e.data)
      setTimeout(this.tick, 20, 'late')
    },
    onReady() { console.log('onReady') },
    onShow() { console.log('onShow') },
    onHide() { console.log('onHide') },
    onDestroy() { console.log('onDestroy') },
    tick(what) { console.log('tick', what, this.n) },
    got(data) {
      if (data === 'foo') {
        foo.bar({ fail: (d, c) => console.log('foo failed', c, d),
                  complete: () => console.log('done') })
      } else if (data === 'reject') {
        Promise.reject(new RangeError('nobody waits'))
      } else if (data === 'send') {
        this.conn.send({ data: { a: [1, 'é'] }, success: () => console.log('sent'),
                         fail: (d, c) => console.log('send failed', c, d) })
      } else {
        console.warn('got', data)
      }
    },
  }
}
"""
)


def make_app(root: Path, page: str = PAGE_JS, log_level: str = "log") -> Path:
    root.mkdir(parents=True)
    manifest = {
        "package": "com.example.t",
        "name": "T",
        "config": {"logLevel": log_level},
        "router": {"entry": "pages/index", "pages": {"pages/index": {"component": "index"}}},
    }
    (root / "manifest.json").write_text(json.dumps(manifest))
    (root / "app.js").write_text(APP_JS)
    (root / "pages" / "index").mkdir(parents=True)
    (root / "pages" / "index" / "index.js").write_text(page)
    return root


def test_the_pipe_ops_of_the_host_are_the_protocols() -> None:
    table = re.search(r"const PIPE = \{(.*?)\n\}", HOST_JS.read_text(), re.S)
    assert table is not None
    assert set(re.findall(r"'(\w+)'", table.group(1))) == pipe.OPS


def test_life_cycle_data_timers_and_app(tmp_path: Path) -> None:
    app = make_app(tmp_path / "app")

    async def body(h: Host) -> None:
        host, rec = h.node, h.rec
        assert await host.start_app("com.example.t", app) is None
        assert rec.lines() == ["app onCreate", "onInit 1 [1,2] hi from app", "onReady", "onShow"]
        await rec.until(lambda: "tick late 1" in rec.lines())
        await host.stop_app("com.example.t")
        assert rec.lines()[-3:] == ["onHide", "onDestroy", "app onDestroy"]
        # A new run has its own copy of data: the first run's push is not in it.
        assert await host.start_app("com.example.t", app) is None
        assert rec.lines()[-3] == "onInit 1 [1,2] hi from app"
        # Events reach the handler the page set, with the platform's fields.
        host.send(pipe.Event("com.example.t", "message", {"data": "hello"}))
        await rec.until(lambda: "got hello" in rec.lines())
        levels = {m.text: m.level for m in rec.out if isinstance(m, pipe.ConsoleOutput)}
        assert levels["got hello"] == "warn"

    run(body)


def test_stopped_apps_timers_never_fire(tmp_path: Path) -> None:
    app = make_app(tmp_path / "app")

    async def body(h: Host) -> None:
        host, rec = h.node, h.rec
        assert await host.start_app("com.example.t", app) is None
        await host.stop_app("com.example.t")
        await asyncio.sleep(0.1)
        assert not any(line.startswith("tick") for line in rec.lines())

    run(body)


def test_a_missing_module_is_a_stub_that_fails(tmp_path: Path) -> None:
    app = make_app(tmp_path / "app")

    async def body(h: Host) -> None:
        host, rec = h.node, h.rec
        await host.start_app("com.example.t", app)
        host.send(pipe.Event("com.example.t", "message", {"data": "foo"}))
        await rec.until(lambda: "done" in rec.lines())
        assert "@system.foo.bar() is not simulated" in rec.lines()
        assert "foo failed 203 @system.foo is not simulated" in rec.lines()

    run(body)


def test_send_serialises_once_and_waits_for_the_platform(tmp_path: Path) -> None:
    app = make_app(tmp_path / "app")

    async def body(h: Host) -> None:
        host, rec = h.node, h.rec
        await host.start_app("com.example.t", app)
        host.send(pipe.Event("com.example.t", "message", {"data": "send"}))
        await rec.until(lambda: any(isinstance(m, pipe.Call) for m in rec.out))
        call = next(m for m in rec.out if isinstance(m, pipe.Call))
        assert (call.module, call.method) == ("system.interconnect", "send")
        assert call.args == {"data": '{"a":[1,"é"]}', "type": "object"}
        host.send(pipe.Reply("com.example.t", call.call, False, code=1006, data="disconnected"))
        await rec.until(lambda: "send failed 1006 disconnected" in rec.lines())

    run(body)


def test_an_unhandled_rejection_is_the_apps_uncaught_error(tmp_path: Path) -> None:
    app = make_app(tmp_path / "app")

    async def body(h: Host) -> None:
        host, rec = h.node, h.rec
        await host.start_app("com.example.t", app)
        host.send(pipe.Event("com.example.t", "message", {"data": "reject"}))
        await rec.until(lambda: any(isinstance(m, pipe.Uncaught) for m in rec.out))
        error = next(m for m in rec.out if isinstance(m, pipe.Uncaught))
        assert error.app == "com.example.t"
        assert error.text == "Uncaught (in promise) RangeError: nobody waits"
        assert error.stack and all("pages/index/index.js:" in line for line in error.stack)

    run(body)


def test_the_manifest_log_level_filters_the_console(tmp_path: Path) -> None:
    app = make_app(tmp_path / "app", log_level="warn")

    async def body(h: Host) -> None:
        host, rec = h.node, h.rec
        await host.start_app("com.example.t", app)
        host.send(pipe.Event("com.example.t", "message", {"data": "x"}))
        await rec.until(lambda: "got x" in rec.lines())
        assert rec.lines() == ["got x"]

    run(body)


def test_a_bytecode_bundle_or_a_load_error_fails_the_start(tmp_path: Path) -> None:
    bytecode = make_app(tmp_path / "jsc", page="\x00\x01binary")
    throws = make_app(tmp_path / "throws", page=HEAD + "throw new Error('at load') }")

    async def body(h: Host) -> None:
        host, rec = h.node, h.rec
        error = await host.start_app("com.example.t", bytecode)
        assert error is not None and "--enable-jsc" in error
        error = await host.start_app("com.example.t", throws)
        assert error == "the app threw while loading: Error: at load"
        uncaught = [m for m in rec.out if isinstance(m, pipe.Uncaught)]
        assert uncaught[0].text == "Uncaught Error: at load"
        assert any("pages/index/index.js:1:" in line for line in uncaught[0].stack)

    run(body)


def test_a_custom_component_build_defines_its_page_through_entry(tmp_path: Path) -> None:
    page = HEAD + (
        " $app_exports$['entry'] = function($app_exports$) {"
        " $app_exports$.default = { onInit() { console.log('entry page') } } } }"
    )
    app = make_app(tmp_path / "app", page=page)

    async def body(h: Host) -> None:
        host, rec = h.node, h.rec
        assert await host.start_app("com.example.t", app) is None
        assert "entry page" in rec.lines()

    run(body)
