"""A transfer cut short — the cable pulled, the watch hung, the test timed out mid-``rb`` —
fails its own test as a rig fault, and the next test finds the watch healthy."""

from __future__ import annotations

import pytest

from tests.support.projects import outcome, run_project
from tests.support.rigs import fast_sim_rig

FAST_SIM = fast_sim_rig(flash=20)

TRANSFER_TESTS = """
    import os, threading, zipfile
    import pytest

    def big_image(tmp_path):
        image = tmp_path / "fw.bin"
        image.write_bytes(os.urandom(300_000))  # ~3 s at 921600 baud
        return image

    def big_rpk(tmp_path):
        rpk = tmp_path / "com.example.big.rpk"
        with zipfile.ZipFile(rpk, "w") as archive:
            archive.writestr("manifest.json", '{"package": "com.example.big"}')
            archive.writestr("blob", os.urandom(300_000))
        return rpk

    def test_unplug_mid_flash(watch, vela_sim, tmp_path):
        threading.Timer(0.5, vela_sim.unplug).start()
        watch.flash(big_image(tmp_path))

    def test_after_unplug(watch, interconnect):
        assert watch.shell("echo alive-1") == "alive-1\\n"
        assert interconnect.send({"n": 1}).ok

    def test_hang_mid_flash(watch, vela_sim, tmp_path):
        threading.Timer(0.5, vela_sim.hang).start()
        watch.flash(big_image(tmp_path))

    def test_after_hang(watch, interconnect):
        assert watch.shell("echo alive-2") == "alive-2\\n"
        assert interconnect.send({"n": 2}).ok

    def test_hang_mid_install(watch, vela_sim, tmp_path):
        threading.Timer(0.5, vela_sim.hang).start()
        watch.install(big_rpk(tmp_path))

    def test_after_install_hang(watch, interconnect):
        assert watch.shell("echo alive-3") == "alive-3\\n"
        assert interconnect.send({"n": 3}).ok

    @pytest.mark.timeout(1)
    def test_timeout_mid_flash(watch, tmp_path):
        watch.flash(big_image(tmp_path))

    def test_after_timeout(watch, interconnect):
        assert watch.shell("echo alive-4") == "alive-4\\n"
        assert interconnect.send({"n": 4}).ok
"""


@pytest.fixture(scope="module")
def transfer_run(tmp_path_factory: pytest.TempPathFactory) -> str:
    done = run_project(tmp_path_factory.mktemp("transfers"), TRANSFER_TESTS, rig=FAST_SIM)
    return done.stdout + done.stderr


@pytest.mark.parametrize(
    ("fault", "after"),
    [
        ("test_unplug_mid_flash", "test_after_unplug"),
        ("test_hang_mid_flash", "test_after_hang"),
        ("test_hang_mid_install", "test_after_install_hang"),
        ("test_timeout_mid_flash", "test_after_timeout"),
    ],
)
def test_a_cut_transfer_fails_its_test_as_a_rig_fault_and_the_next_is_healthy(
    transfer_run: str, fault: str, after: str
) -> None:
    line = outcome(transfer_run, fault).splitlines()[-1]
    assert line.startswith("FAILED"), transfer_run
    assert any(name in line for name in ("SerialLost", "WatchHung")), line
    assert outcome(transfer_run, after).startswith("PASSED"), transfer_run


def test_a_timeout_while_the_watch_is_busy_is_a_hung_rig(transfer_run: str) -> None:
    assert "while the watch was busy with 'flash fw.bin (always)'" in transfer_run
