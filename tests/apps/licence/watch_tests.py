"""Tests of the licence app, through the phone side (``peer``), its files (``vela_sim``) and
the watch's shell, run with ``--vela-app`` (tests/test_own_apps.py copies this file as a test
file).

The app reads its licence key from ``internal://files/licence.key`` and checks it against the
device id (the rig file's ``[sim.device] device_id``); only then does it ``router.replace`` to
the page that opens the link, which speaks plain text.
"""

import base64
import json
import re
import time

from pytest_vela import Peer, Rig, VelaSim, Watch

PACKAGE = "com.example.licence"
CHUNK = re.compile(r"^00e(\d{13})([A-Za-z0-9+/=]*)$")


def licence_for(device_id: str) -> str:
    """The key the app's vendor issues for a device (the app's common/licence.js)."""
    total = 0
    for i, char in enumerate(device_id):
        total = (total + (i + 1) * ord(char)) % 99991
    return f"LIC-{total:05d}"


def restart(peer: Peer, watch: Watch) -> int:
    """Start the app anew; returns the console's mark from before (its start-up lines may
    come before the launch's own marker)."""
    mark = watch.console.mark()
    watch.stop_app(PACKAGE)
    watch.launch(PACKAGE)
    peer.reconnect()
    return mark


def logged(watch: Watch, mark: int, text: str, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while text not in watch.console.text_since(mark):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def start_licensed(peer: Peer, watch: Watch, vela_sim: VelaSim, rig: Rig) -> int:
    key = licence_for(rig.settings.sim.device.device_id)
    vela_sim.put_file(PACKAGE, "internal://files/licence.key", key + "\n")
    return restart(peer, watch)


def test_a_licensed_watch_reaches_the_link_page(
    peer: Peer, watch: Watch, vela_sim: VelaSim, rig: Rig
) -> None:
    mark = start_licensed(peer, watch, vela_sim, rig)
    peer.send("start")
    assert peer.expect_message(timeout=5) == "started"
    assert logged(watch, mark, '[SYS] router.replace: pages/link, {"licensed":"yes"}')
    assert logged(watch, mark, "licence: link page, licensed=yes")


def test_without_a_valid_licence_nothing_answers(
    peer: Peer, watch: Watch, vela_sim: VelaSim
) -> None:
    vela_sim.put_file(PACKAGE, "internal://files/licence.key", "LIC-00000")
    mark = restart(peer, watch)
    peer.send("start")
    peer.expect_no_message(within=1.0)
    assert logged(watch, mark, "[SYS] prompt.showToast: unlicensed")


def test_info_comes_in_stamped_base64_chunks(
    peer: Peer, watch: Watch, vela_sim: VelaSim, rig: Rig
) -> None:
    start_licensed(peer, watch, vela_sim, rig)
    peer.send("info")
    chunks = peer.collect(1.0)
    assert chunks, "no info chunks"
    matches = [CHUNK.match(chunk) for chunk in chunks]
    assert all(matches), chunks
    body = "".join(m.group(2) for m in matches if m)
    info = json.loads(base64.b64decode(body))
    assert info == {"model": rig.settings.sim.device.model, "pages": 1}


def test_notes_from_the_phone_are_written_to_a_file(
    peer: Peer, watch: Watch, vela_sim: VelaSim, rig: Rig
) -> None:
    start_licensed(peer, watch, vela_sim, rig)
    peer.send("save:first")
    assert peer.expect_message(timeout=5) == "saved 5 on 466"
    peer.send("save:second")
    assert peer.expect_message(timeout=5) == "saved 6 on 466"
    assert vela_sim.read_file(PACKAGE, "internal://files/notes.txt") == b"first\nsecond\n"
    assert "notes.txt" in watch.shell(f"ls /data/appdata/{PACKAGE}/files")
