"""The app's side of ``@system.interconnect`` in the quick-app host (``interconnect.js``):
handlers assigned after their event get it when the platform marks it for replay, and ``send``
tells the platform what ``data`` was. Driven over the real pipe, with node; skipped without."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_vela.sim.quickapp import pipe
from pytest_vela.sim.quickapp.host import NodeAppHost, find_node
from tests.test_quickapp_host import HEAD, Recorder, make_app, run

pytestmark = pytest.mark.skipif(find_node() is None, reason="Node.js (node) is not on PATH")

APP = "com.example.t"
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


def _message(text: str) -> pipe.Event:
    return pipe.Event(APP, "message", {"data": text})


def test_a_late_onopen_and_onerror_get_their_kept_events(tmp_path: Path) -> None:
    app = make_app(tmp_path / "app", page=PAGE)

    async def body(host: NodeAppHost, rec: Recorder) -> None:
        assert await host.start_app(APP, app) is None
        # No onopen yet: the open is kept, to be handed over as the platform's replay says.
        host.send(pipe.Event(APP, "open", {"isReconnected": False}, {"isReconnected": True}))
        first = {"code": 1006, "data": "first"}
        second = {"code": 1000, "data": "second"}
        host.send(pipe.Event(APP, "error", first, first))
        host.send(pipe.Event(APP, "error", second, second))  # only the last error is kept
        host.send(pipe.Event(APP, "close", {"code": 1000}))  # never kept: no replay
        host.send(_message("listen"))
        await rec.until(lambda: "listening" in rec.lines())
        assert rec.lines()[1:] == ["open true", "error 1000 second", "listening"]
        # With a handler set, events go straight to it, once.
        host.send(pipe.Event(APP, "open", {"isReconnected": False}, {"isReconnected": True}))
        await rec.until(lambda: "open false" in rec.lines())
        assert rec.lines().count("open true") == 1

    run(body)


def test_a_forgotten_or_unmarked_event_is_not_replayed(tmp_path: Path) -> None:
    app = make_app(tmp_path / "app", page=PAGE)

    async def body(host: NodeAppHost, rec: Recorder) -> None:
        assert await host.start_app(APP, app) is None
        host.send(pipe.Event(APP, "open", {"isReconnected": True}, {"isReconnected": True}))
        host.send(pipe.Event(APP, "status", forget=["open"]))  # the phone went away since
        host.send(pipe.Event(APP, "error", {"code": 1006, "data": "x"}))  # no replay asked
        host.send(_message("listen"))
        await rec.until(lambda: "listening" in rec.lines())
        assert rec.lines() == ["app onCreate", "listening"]

    run(body)


def test_send_tells_the_platform_what_data_was(tmp_path: Path) -> None:
    app = make_app(tmp_path / "app", page=PAGE)

    async def body(host: NodeAppHost, rec: Recorder) -> None:
        assert await host.start_app(APP, app) is None
        host.send(_message("text"))
        host.send(_message("array"))

        def calls() -> list[pipe.Call]:
            return [m for m in rec.out if isinstance(m, pipe.Call)]

        await rec.until(lambda: len(calls()) == 2)
        assert [c.args for c in calls()] == [
            {"data": '"plain"', "type": "string", "timeout": 50},
            {"data": "[1,2]", "type": "array"},
        ]
        # No data at all never reaches the platform: refused at once, as a parameter error.
        host.send(_message("nothing"))
        await rec.until(lambda: "fail 202" in rec.lines())
        assert len(calls()) == 2

    run(body)
