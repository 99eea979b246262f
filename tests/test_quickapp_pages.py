"""Pages on the simulated runtime: the router's stack and the life cycle of each page, the
framework's instance methods (the event bus across app and pages, $watch, $nextTick, $set,
$element), handlers an app sets in app.ux, through the real node host. Skipped without Node.js.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_vela.sim.quickapp import pipe
from pytest_vela.sim.quickapp.host import find_node
from tests.support.bundles import HELPERS, Host, page, run, write_app

pytestmark = pytest.mark.skipif(find_node() is None, reason="Node.js (node) is not on PATH")

PRELUDE = HELPERS

# The app keeps the link (app.ux onCreate) and runs the code the phone sends, given the page on
# top of the stack; each page logs its life cycle.
APP = page(
    """{
  onCreate() {
    out('app onCreate')
    this.conn = req('interconnect').instance()
    this.conn.onmessage = (e) => {
      this.$emit('msg', e.data)
      const top = this.top
      new Function('req', 'out', 'page', e.data)(req, out, top)
    }
  },
  onDestroy() { out('app onDestroy') },
}""",
    PRELUDE,
)


def logging_page(name: str, extra: str = "") -> str:
    hooks = ["onInit", "onReady", "onShow", "onHide", "onDestroy"]
    param = ", this.from || '-'"
    body = ",\n".join(
        f"  {hook}() {{ out('{name} {hook}'{param if hook == 'onInit' else ''}); "
        + ("this.$app.top = this" if hook == "onShow" else "")
        + "}"
        for hook in hooks
    )
    return page("{\n" + extra + body + "\n}", PRELUDE)


def three_pages(tmp_path: Path, index_extra: str = "") -> Path:
    return write_app(
        tmp_path / "app",
        {
            "pages/index": logging_page("index", index_extra),
            "pages/home": logging_page("home"),
            "pages/detail": logging_page("detail"),
        },
        app_js=APP,
    )


def test_a_page_reached_by_replace_runs_its_life_cycle(tmp_path: Path) -> None:
    app = three_pages(tmp_path)

    async def body(h: Host) -> None:
        assert await h.start(app, tmp_path / "data") is None
        assert h.rec.lines() == [
            "app onCreate",
            "index onInit -",
            "index onReady",
            "index onShow",
        ]
        h.message("req('router').replace({uri: '/pages/home', params: {from: 'index'}})")
        await h.rec.line("home onShow")
        assert h.rec.lines()[4:] == [
            '[SYS] router.replace: pages/home, {"from":"index"}',
            "index onHide",
            "index onDestroy",
            "home onInit index",
            "home onReady",
            "home onShow",
        ]
        h.message(
            "req('router').push({uri: 'pages/detail'});"
            "setTimeout(() => out('state', req('router').getLength(), req('router').getState(),"
            " req('router').getPages()), 1)"
        )
        await h.rec.line(
            'state 2 {"index":2,"name":"pages/detail","path":"/pages/detail"} '
            '[{"name":"pages/home","path":"/pages/home"},'
            '{"name":"pages/detail","path":"/pages/detail"}]'
        )
        assert h.rec.lines()[10:14] == [
            "[SYS] router.push: pages/detail",
            "home onHide",
            "detail onInit -",
            "detail onReady",
        ]
        h.message("req('router').back()")
        await h.rec.line("detail onDestroy")
        await h.rec.until(lambda: h.rec.lines()[-1] == "home onShow")
        h.message("req('router').push({uri: '/nope'})")
        await h.rec.line("[SYS] router.push: /nope (no such page: nothing happens)")
        # Back from the last page: the app ends, as a watch's back key ends it.
        h.message("req('router').back()")
        await h.rec.until(lambda: any(isinstance(m, pipe.Exited) for m in h.rec.out))
        assert h.rec.lines()[-3:] == ["home onHide", "home onDestroy", "app onDestroy"]

    run(body)


def test_the_event_bus_runs_across_app_and_pages(tmp_path: Path) -> None:
    extra = "  events: { ping(evt) { out('events ping', evt.detail) } },\n"
    app = three_pages(tmp_path, extra)

    async def body(h: Host) -> None:
        assert await h.start(app, tmp_path / "data") is None
        h.message(
            "page.$on('hello', (e) => out('page got', e.type, e.detail));"
            "page.$app.$on('hello', (e) => out('app got', e.detail));"
            "page.$emit('hello', 1);"
            "page.$dispatch('hello', 2);"
            "page.$app.$broadcast('ping', 3);"
            "page.$on('stopper', (e) => { out('first'); e.stop() });"
            "page.$app.$on('stopper', () => out('not reached'));"
            "page.$dispatch('stopper');"
            "page.$off('hello');"
            "page.$emit('hello', 5);"
            "out('end')"
        )
        await h.rec.line("end")
        lines = h.rec.lines()
        start = lines.index("page got hello 1")
        assert lines[start:] == [
            "page got hello 1",
            "page got hello 2",
            "app got 2",
            "events ping 3",
            "first",
            "end",
        ]

    run(body)


def test_watchers_run_once_the_call_is_over_and_next_tick_after_them(tmp_path: Path) -> None:
    extra = (
        "  data: { count: 0, cfg: { on: false } },\n"
        "  countChanged(now, before) { out('count', before, '->', now) },\n"
    )
    app = three_pages(tmp_path, extra)

    async def body(h: Host) -> None:
        assert await h.start(app, tmp_path / "data") is None
        h.message(
            "page.$watch('count', 'countChanged');"
            "page.$watch('cfg.on', (now, before) => out('cfg.on', before, '->', now));"
            "page.count = 1; page.count = 2; page.cfg.on = true;"
            "page.$nextTick(() => out('tick', page.count));"
            "out('call over')"
        )
        await h.rec.line("tick 2")
        lines = h.rec.lines()
        at = lines.index("call over")
        assert lines[at:] == ["call over", "count 0 -> 2", "cfg.on false -> true", "tick 2"]
        h.message(
            "page.$set('extra', 'x'); out('set', page.extra);"
            "page.$delete('extra'); out('deleted', page.extra === undefined)"
        )
        await h.rec.line("deleted true")
        assert "set x" in h.rec.lines()

    run(body)


def test_element_and_run_gc_answer_harmlessly(tmp_path: Path) -> None:
    app = three_pages(tmp_path)

    async def body(h: Host) -> None:
        assert await h.start(app, tmp_path / "data") is None
        h.message(
            "setTimeout(() => {"
            " const el = page.$element('box');"
            " el.focus(); el.scrollTo({index: 3});"
            " el.swipeTo({index: 1, complete: () => out('swiped')});"
            " el.getBoundingClientRect({success: (r) => out('rect', r.width, r.height)});"
            " const a = el.animate([{opacity: 0}, {opacity: 1}], {duration: 20});"
            " a.onfinish = () => out('animated', a.playState);"
            " a.play();"
            " globalThis.runGC();"
            " out('same node', page.$element('box') === el)"
            "}, 1)"
        )
        await h.rec.line("animated finished")
        lines = h.rec.lines()
        assert "same node true" in lines
        assert "rect 466 466" in lines
        assert "swiped" in lines
        assert not [m for m in h.rec.out if isinstance(m, pipe.Uncaught)]

    run(body)


def test_handlers_set_in_app_ux_are_shared_through_app(tmp_path: Path) -> None:
    extra = (
        "  onInit() { out('index onInit', this.$app.$def.conn === this.$app.conn);"
        " this.$app.$on('msg', (evt) => out('page heard', evt.detail)) },\n"
    )
    pages = {"pages/index": page("{\n" + extra + "}", PRELUDE)}
    app = write_app(tmp_path / "app", pages, app_js=APP)

    async def body(h: Host) -> None:
        assert await h.start(app, tmp_path / "data") is None
        assert "index onInit true" in h.rec.lines()
        h.message("out('ran')")
        await h.rec.line("ran")
        assert "page heard out('ran')" in h.rec.lines()

    run(body)
