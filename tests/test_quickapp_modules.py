"""The simulated runtime's system modules, as hand-written bundles call them through the real
node host: storage and files on disk, device settings, prompts and vibrations as `[SYS]` lines,
dialogs answered over the pipe, and the stubs that stay. Skipped without Node.js."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_vela.sim.quickapp import pipe
from pytest_vela.sim.quickapp.host import find_node
from tests.support.bundles import DEVICE, HELPERS, PACKAGE, Host, page, run, write_app

pytestmark = pytest.mark.skipif(find_node() is None, reason="Node.js (node) is not on PATH")

# A page that runs the code the phone sends it (a test's remote control of the app): `out`
# logs its arguments, `cb(tag)` makes callbacks that log what they got.
REMOTE = page(
    """{
  onInit() {
    const conn = $app_require$('@app-module/system.interconnect').instance()
    conn.onmessage = (e) => new Function('req', 'out', 'cb', e.data)(req, out, cb)
  },
}""",
    prelude=HELPERS
    + """
var cb = (tag) => ({
  success: (v) => out(tag, 'ok', v === undefined ? '-' : v),
  fail: (d, c) => out(tag, 'fail', c, d),
  cancel: () => out(tag, 'cancel'),
  complete: () => out(tag, 'done'),
})
""",
)


def remote_app(tmp_path: Path) -> Path:
    return write_app(tmp_path / "app", {"pages/index": REMOTE})


def test_storage_lasts_across_runs_in_the_apps_data(tmp_path: Path) -> None:
    app, data = remote_app(tmp_path), tmp_path / "data"

    async def body(h: Host) -> None:
        assert await h.start(app, data) is None
        h.message(
            "const s = req('storage');"
            "s.set(Object.assign({key: 'mode', value: 'on'}, cb('set')));"
            "s.set(Object.assign({key: 'n', value: 7}, cb('set2')))"
        )
        await h.rec.line("set2 done")
        assert "set ok -" in h.rec.lines()
        await h.node.stop_app(PACKAGE)
        assert json.loads((data / "storage.json").read_text()) == {"mode": "on", "n": "7"}
        assert await h.start(app, data) is None
        h.message(
            "const s = req('storage');"
            "s.get(Object.assign({key: 'mode'}, cb('get')));"
            "s.get(Object.assign({key: 'none', default: 'dflt'}, cb('dflt')));"
            "s.get(Object.assign({key: 'none'}, cb('empty')));"
            "s.get(cb('nokey'));"
            "s.set(Object.assign({key: 'n', value: ''}, cb('del')))"
        )
        await h.rec.line("del done")
        lines = h.rec.lines()
        assert "get ok on" in lines
        assert "dflt ok dflt" in lines
        assert "empty ok " in lines
        assert "nokey fail 202 key must be a non-empty string" in lines
        assert json.loads((data / "storage.json").read_text()) == {"mode": "on"}
        h.message("req('storage').clear(cb('clear'))")
        await h.rec.line("clear done")
        assert json.loads((data / "storage.json").read_text()) == {}

    run(body)


def test_files_live_in_the_apps_partitions(tmp_path: Path) -> None:
    app, data = remote_app(tmp_path), tmp_path / "data"
    (app / "common").mkdir()
    (app / "common" / "hello.txt").write_text("packaged")

    async def body(h: Host) -> None:
        assert await h.start(app, data) is None
        h.message(
            "const f = req('file');"
            "f.writeText(Object.assign({uri: 'internal://files/a/b.txt', text: 'one'}, cb('w')));"
            "f.writeText(Object.assign({uri: 'internal://files/a/b.txt', text: '+2', append: true},"
            " cb('w2')));"
            "f.readText(Object.assign({uri: 'internal://files/a/b.txt'}, cb('r')));"
            "f.readText(Object.assign({uri: 'internal://files/none.txt'}, cb('missing')));"
            "f.readText(Object.assign({uri: '/common/hello.txt'}, cb('pkg')));"
            "f.writeText(Object.assign({uri: 'internal://tmp/x', text: 'no'}, cb('tmp')));"
            "f.writeText(Object.assign({uri: '/common/x', text: 'no'}, cb('ro')));"
            "f.readText(Object.assign({uri: 'internal://files/../../etc'}, cb('dots')));"
            "f.list(Object.assign({uri: 'internal://mass/'}, cb('empty')))"
        )
        await h.rec.line("empty done")
        lines = h.rec.lines()
        assert (data / "files" / "a" / "b.txt").read_text() == "one+2"
        assert 'r ok {"text":"one+2"}' in lines
        assert "missing fail 301 file does not exist" in lines
        assert 'pkg ok {"text":"packaged"}' in lines
        assert "tmp fail 202 internal://tmp/x: tmp is read-only" in lines
        assert "ro fail 202 /common/x: the app package is read-only" in lines
        assert any(line.startswith("dots fail 202") for line in lines)
        assert 'empty ok {"fileList":[]}' in lines

    run(body)


def test_file_buffers_directories_and_moves(tmp_path: Path) -> None:
    app, data = remote_app(tmp_path), tmp_path / "data"

    async def body(h: Host) -> None:
        assert await h.start(app, data) is None
        h.message(
            "const f = req('file');"
            "f.writeArrayBuffer(Object.assign({uri: 'internal://files/bin',"
            " buffer: new Uint8Array([1, 2, 3, 4])}, cb('wb')));"
            "f.writeArrayBuffer(Object.assign({uri: 'internal://files/bin',"
            " buffer: new Uint8Array([9]), position: 1}, cb('pos')));"
            "f.readArrayBuffer({uri: 'internal://files/bin', position: 1, length: 2,"
            " success: (d) => out('rb', d.buffer instanceof Uint8Array, Array.from(d.buffer))});"
            "f.writeArrayBuffer(Object.assign({uri: 'internal://files/x', buffer: [1]},"
            " cb('arr')));"
            "f.mkdir(Object.assign({uri: 'internal://files/d/e'}, cb('mk')));"
            "f.mkdir(Object.assign({uri: 'internal://files/d/e', recursive: true}, cb('mkr')));"
            "f.move(Object.assign({srcUri: 'internal://files/bin',"
            " dstUri: 'internal://files/d/e/bin'}, cb('mv')));"
            "f.copy(Object.assign({srcUri: 'internal://files/d/e/bin',"
            " dstUri: 'internal://cache/bin'}, cb('cp')));"
            "f.access(Object.assign({uri: 'internal://files/bin'}, cb('gone')));"
            "f.get({uri: 'internal://files/d', recursive: true,"
            " success: (g) => out('get', g.type, g.subFiles[0].subFiles[0].uri)});"
            "f.delete(Object.assign({uri: 'internal://files/d'}, cb('deldir')));"
            "f.rmdir(Object.assign({uri: 'internal://files/d'}, cb('rmdir')));"
            "f.rmdir(Object.assign({uri: 'internal://files/d', recursive: true}, cb('rmdir-r')))"
        )
        await h.rec.line("rmdir-r done")
        lines = h.rec.lines()
        assert "rb true [9,3]" in lines
        assert "arr fail 202 buffer must be a Uint8Array" in lines
        assert "mk fail 300 file does not exist" in lines
        assert "mkr ok -" in lines
        assert "mv ok internal://files/d/e/bin" in lines
        assert "cp ok internal://cache/bin" in lines
        assert (data / "cache" / "bin").read_bytes() == bytes([1, 9, 3, 4])
        assert "gone fail 300 file does not exist" in lines
        assert "get dir internal://files/d/e/bin" in lines
        assert "deldir fail 300 internal://files/d is a directory: use rmdir" in lines
        assert any(line.startswith("rmdir fail 300 I/O error") for line in lines)
        assert not (data / "files" / "d").exists()

    run(body)


def test_device_battery_network_and_locale_come_from_the_settings(tmp_path: Path) -> None:
    app = remote_app(tmp_path)
    device = dict(DEVICE, device_id="lic-42", model="Test Model", battery_level=0.5)

    async def body(h: Host) -> None:
        assert await h.start(app, tmp_path / "data", device=device) is None
        h.message(
            "req('device').getInfo({success: (i) => out('info', i.model, i.screenShape,"
            " i.screenWidth, i.deviceType)});"
            "req('device').getDeviceId(cb('id'));"
            "req('device').getSerial(cb('serial'));"
            "req('battery').getStatus(cb('battery'));"
            "req('network').getType(cb('net'));"
            "out('locale', req('configuration').getLocale())"
        )
        await h.rec.line("net done")
        lines = h.rec.lines()
        assert "info Test Model circle 466 watch" in lines
        assert 'id ok {"deviceId":"lic-42"}' in lines
        assert 'serial ok {"serial":"VS0000000001"}' in lines
        assert 'battery ok {"charging":false,"level":0.5}' in lines
        assert 'net ok {"type":"bluetooth"}' in lines
        assert 'locale {"language":"en","countryOrRegion":"US"}' in lines

    run(body)


def test_what_a_person_sees_or_feels_is_one_sys_line(tmp_path: Path) -> None:
    app = remote_app(tmp_path)

    async def body(h: Host) -> None:
        assert await h.start(app, tmp_path / "data") is None
        h.message(
            "req('prompt').showToast({message: 'saved'});"
            "req('vibrator').vibrate(cb('buzz'));"
            "req('vibrator').vibrate(Object.assign({mode: 'hard'}, cb('bad')));"
            "req('brightness').setKeepScreenOn(Object.assign({keepScreenOn: true}, cb('keep')));"
            "req('brightness').setValue(Object.assign({value: 300}, cb('bright')));"
            "req('vibrator').start({duration: 100, interval: 50, count: 2,"
            " success: (t) => out('task', req('vibrator').stop(t.id), req('vibrator').stop(t.id))})"
        )
        await h.rec.line("task true false")
        lines = h.rec.lines()
        for line in [
            "[SYS] prompt.showToast: saved",
            "[SYS] vibrator.vibrate: long",
            "[SYS] brightness.setKeepScreenOn: true",
            "[SYS] vibrator.start: 100 ms × 2, every 50 ms",
            "[SYS] vibrator.stop: 1",
            "buzz ok -",
            "bad fail 202 mode must be 'long' or 'short'",
            "bright fail 202 value is not a valid value",
        ]:
            assert line in lines
        assert not any("setValue" in line for line in lines)  # refused: nothing changed

    run(body)


def test_a_dialog_waits_for_the_answer_the_watch_gives(tmp_path: Path) -> None:
    app = remote_app(tmp_path)

    async def body(h: Host) -> None:
        assert await h.start(app, tmp_path / "data") is None
        h.message(
            "req('prompt').showDialog(Object.assign({title: 'Reset?', message: 'all data',"
            " buttons: [{text: 'OK'}, {text: 'Cancel', color: '#ff0000'}]}, cb('dialog')))"
        )
        await h.rec.until(lambda: bool(h.rec.calls()))
        call = h.rec.calls()[0]
        assert (call.module, call.method) == ("system.prompt", "showDialog")
        assert call.args == {"choices": ["OK", "Cancel"]}
        assert '[SYS] prompt.showDialog: Reset?, all data, ["OK","Cancel"]' in h.rec.lines()
        assert not any(line.startswith("dialog") for line in h.rec.lines())  # still open
        h.reply(call, {"index": 1})
        await h.rec.line("dialog done")
        assert "[SYS] prompt.showDialog: tapped Cancel" in h.rec.lines()
        assert 'dialog ok {"index":1}' in h.rec.lines()
        h.message(
            "req('prompt').showContextMenu(Object.assign({itemList: ['a', 'b']}, cb('menu')))"
        )
        await h.rec.until(lambda: len(h.rec.calls()) == 2)
        h.reply(h.rec.calls()[1], {})
        await h.rec.line("menu done")
        assert "menu cancel" in h.rec.lines()
        assert "[SYS] prompt.showContextMenu: dismissed" in h.rec.lines()

    run(body)


def test_modules_not_emulated_stay_stubs_and_can_i_use_says_which(tmp_path: Path) -> None:
    app = remote_app(tmp_path)

    async def body(h: Host) -> None:
        assert await h.start(app, tmp_path / "data") is None
        h.message(
            "req('geolocation').getLocation(cb('geo'));"
            "req('storage').key(cb('key'));"
            "const a = req('app');"
            "out('can', a.canIUse('@system.router.replace'), a.canIUse('@system.file'),"
            " a.canIUse('@system.geolocation'), a.canIUse('@system.storage.key'),"
            " a.canIUse('scroll.attr.scroll-x'), a.canIUse('webview'))"
        )
        await h.rec.line("key done")
        lines = h.rec.lines()
        assert "@system.geolocation.getLocation() is not simulated" in lines
        assert "geo fail 203 @system.geolocation is not simulated" in lines
        assert "key fail 203 @system.storage is not simulated" in lines
        assert "can true true false false true false" in lines

    run(body)


def test_terminate_ends_the_app_and_says_so(tmp_path: Path) -> None:
    app = remote_app(tmp_path)

    async def body(h: Host) -> None:
        assert await h.start(app, tmp_path / "data") is None
        h.message("req('app').terminate()")
        await h.rec.until(lambda: any(isinstance(m, pipe.Exited) for m in h.rec.out))
        assert "[SYS] app.terminate" in h.rec.lines()

    run(body)


def test_a_bytecode_build_says_rebuild_without_enable_jsc(tmp_path: Path) -> None:
    app = remote_app(tmp_path)
    for js in app.rglob("*.js"):
        js.with_suffix(".jsc").write_bytes(b"\x00jsc")
        js.unlink()

    async def body(h: Host) -> None:
        error = await h.start(app, tmp_path / "data")
        assert error is not None
        assert "app.js is missing and the rpk holds bytecode" in error
        assert "rebuild without --enable-jsc" in error

    run(body)
