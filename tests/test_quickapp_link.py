"""The app's side of ``@system.interconnect`` in the quick-app host (``interconnect.js``):
handlers assigned after their event get it when the platform marks it for replay, and ``send``
tells the platform what ``data`` was. Driven over the real pipe, with node; skipped without."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_vela.sim.quickapp import pipe
from pytest_vela.sim.quickapp.host import find_node
from tests.support.bundles import HEAD, PACKAGE, Host, run
from tests.test_quickapp_host import make_app

pytestmark = pytest.mark.skipif(find_node() is None, reason="Node.js (node) is not on PATH")

APP = PACKAGE
PAGE = (
    HEAD
    + """
  var mod = $app_require$('@app-module/system.interconnect')
  $app_exports$.default = {
    onInit() {
      this.conn = mod.instance()
      this.conn.onmessage = (e) => this.got(e.data)
    },
    got(data) {
      var conn = this.conn
      var fail = (d, c) => console.log('fail ' + c)
      if (data === 'listen') {
        conn.onopen = (e) => console.log('open ' + e.isReconnected)
        conn.onerror = (e) => console.log('error ' + e.code + ' ' + e.data)
        console.log('listening')
      } else if (data === 'text') {
        conn.send({ data: 'plain', timeout: 50, fail: fail })
      } else if (data === 'array') {
        conn.send({ data: [1, 2], fail: fail })
      } else if (data === 'nothing') {
        conn.send({ fail: fail })
      }
    },
  }
}
"""
)


def test_a_late_onopen_and_onerror_get_their_kept_events(tmp_path: Path) -> None:
    app = make_app(tmp_path / "app", page=PAGE)

    async def body(host: Host) -> None:
        rec = host.rec
        assert await host.start(app) is None
        # No onopen yet: the open is kept, to be handed over as the platform's replay says.
        host.node.send(pipe.Event(APP, "open", {"isReconnected": False}, {"isReconnected": True}))
        first = {"code": 1006, "data": "first"}
        second = {"code": 1000, "data": "second"}
        host.node.send(pipe.Event(APP, "error", first, first))
        host.node.send(pipe.Event(APP, "error", second, second))  # only the last error is kept
        host.node.send(pipe.Event(APP, "close", {"code": 1000}))  # never kept: no replay
        host.message("listen")
        await rec.until(lambda: "listening" in rec.lines())
        assert rec.lines()[1:] == ["open true", "error 1000 second", "listening"]
        # With a handler set, events go straight to it, once.
        host.node.send(pipe.Event(APP, "open", {"isReconnected": False}, {"isReconnected": True}))
        await rec.until(lambda: "open false" in rec.lines())
        assert rec.lines().count("open true") == 1

    run(body)


def test_a_forgotten_or_unmarked_event_is_not_replayed(tmp_path: Path) -> None:
    app = make_app(tmp_path / "app", page=PAGE)

    async def body(host: Host) -> None:
        rec = host.rec
        assert await host.start(app) is None
        host.node.send(pipe.Event(APP, "open", {"isReconnected": True}, {"isReconnected": True}))
        host.node.send(pipe.Event(APP, "status", forget=["open"]))  # the phone went away since
        host.node.send(pipe.Event(APP, "error", {"code": 1006, "data": "x"}))  # no replay asked
        host.message("listen")
        await rec.until(lambda: "listening" in rec.lines())
        assert rec.lines() == ["app onCreate", "listening"]

    run(body)


def test_send_tells_the_platform_what_data_was(tmp_path: Path) -> None:
    app = make_app(tmp_path / "app", page=PAGE)

    async def body(host: Host) -> None:
        rec = host.rec
        assert await host.start(app) is None
        host.message("text")
        host.message("array")

        def calls() -> list[pipe.Call]:
            return [m for m in rec.out if isinstance(m, pipe.Call)]

        await rec.until(lambda: len(calls()) == 2)
        assert [c.args for c in calls()] == [
            {"data": '"plain"', "type": "string", "timeout": 50},
            {"data": "[1,2]", "type": "array"},
        ]
        # No data at all never reaches the platform: refused at once, as a parameter error.
        host.message("nothing")
        await rec.until(lambda: "fail 202" in rec.lines())
        assert len(calls()) == 2

    run(body)
