"""An app's own data on a simulated watch process, through its console (real pty, pyserial)
and its control channel as ``vela_sim`` speaks it: storage and files set before launch and read
back, kept across reboots, gone on uninstall; dialogs answered; device settings from the rig.
Skipped without Node.js."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from pytest_vela.device.watch import Watch
from pytest_vela.rig.session import RigSession
from pytest_vela.rig.sim_faults import VelaSim
from pytest_vela.sim.quickapp.host import find_node
from tests.support.bundles import HELPERS, PACKAGE, page, write_rpk

pytestmark = pytest.mark.skipif(find_node() is None, reason="Node.js (node) is not on PATH")

# Counts its runs in storage; when the stored mode is on, writes the device id to a file;
# then asks whether to keep going.
PAGE = page(
    """{
  onInit() {
    const storage = req('storage')
    storage.get({ key: 'mode', success: (mode) => {
      out('mode=' + mode)
      if (mode === 'on') req('device').getDeviceId({ success: (d) => req('file').writeText({
        uri: 'internal://files/seen.txt', text: 'on ' + d.deviceId,
        success: () => out('written') }) })
    } })
    storage.get({ key: 'runs', default: '0', success: (n) => storage.set({
      key: 'runs', value: String(Number(n) + 1), success: () => out('runs=' + (Number(n) + 1)) }) })
    req('file').readText({ uri: 'internal://files/given.json',
      success: (f) => out('given ' + f.text), fail: (d, code) => out('no given file ' + code) })
  },
  onReady() {
    req('prompt').showDialog({ title: 'Keep?', buttons: [{ text: 'A' }, { text: 'B' }],
      success: (d) => out('chose ' + d.index), cancel: () => out('dismissed') })
  },
}""",
    HELPERS,
)


def seen_since(watch: Watch, mark: int, lines: list[str], timeout: float = 5.0) -> None:
    """Every one of ``lines`` logged since ``mark`` (the app's start-up lines may come before
    the launch's own marker, which ``expect`` would then search past)."""
    deadline = time.monotonic() + timeout
    while True:
        text = watch.console.text_since(mark)
        missing = [line for line in lines if line not in text]
        if not missing:
            return
        assert time.monotonic() < deadline, f"not on the console: {missing}\n{text}"
        time.sleep(0.02)


def vela_sim(session: RigSession) -> VelaSim:
    assert session.simulator is not None
    return VelaSim(session.simulator, session.watch().crashes)


def test_app_data_set_before_launch_lasts_across_reboots_and_goes_on_uninstall(
    own_rig: RigSession, tmp_path: Path
) -> None:
    watch, sim = own_rig.watch(), vela_sim(own_rig)
    watch.install(write_rpk(tmp_path / "t.rpk", {"pages/index": PAGE}))
    sim.set_storage(PACKAGE, {"mode": "on"})
    sim.put_file(PACKAGE, "internal://files/given.json", '{"a": 1}')
    sim.answer_dialogs(1)
    mark = watch.console.mark()
    watch.launch(PACKAGE)
    seen_since(
        watch,
        mark,
        [
            "[JS] mode=on",
            '[JS] given {"a": 1}',
            '[JS] [SYS] prompt.showDialog: Keep?, ["A","B"]',
            "[JS] [SYS] prompt.showDialog: tapped B",
            "[JS] chose 1",
            "[JS] written",
        ],
    )
    assert sim.read_file(PACKAGE, "internal://files/seen.txt") == b"on vela-sim-0000000001"
    assert "seen.txt" in watch.shell(f"ls /data/appdata/{PACKAGE}/files")
    assert sim.storage(PACKAGE) == {"mode": "on", "runs": "1"}

    watch.reset()
    mark = watch.console.mark()
    watch.launch(PACKAGE)  # nobody answers this time: the dialog stays open
    seen_since(watch, mark, ["[JS] runs=2"])
    assert sim.storage(PACKAGE) == {"mode": "on", "runs": "2"}

    watch.uninstall(PACKAGE)
    assert sim.storage(PACKAGE) == {}
    assert PACKAGE not in watch.shell("ls /data/appdata")


def test_bad_app_data_is_refused_before_it_reaches_the_watch(own_rig: RigSession) -> None:
    sim = vela_sim(own_rig)
    with pytest.raises(ValueError, match="internal://files/<path>"):
        sim.put_file(PACKAGE, "internal://files/../up", "x")
    with pytest.raises(ValueError, match="not a package name"):
        sim.set_storage("../etc", {})
    with pytest.raises(ValueError, match="strings by non-empty string keys"):
        sim.set_storage(PACKAGE, {"n": 1})  # type: ignore[dict-item]
    with pytest.raises(ValueError, match="no answer"):
        sim.answer_dialogs(-1)
