"""Watch operations through the plugin's own fixtures on the built-in simulated rig, as a
user's test file uses them; plus retry and failure paths on a private simulated watch."""

from __future__ import annotations

import hashlib
import os
import re
import threading
from pathlib import Path

import pytest

from pytest_vela.console.port import Console
from pytest_vela.device.apps import pm_install
from pytest_vela.device.power import ConsoleReboot
from pytest_vela.device.watch import Watch
from pytest_vela.errors import FlashError, InstallError, SerialLost, WatchHung
from pytest_vela.peer.phone import Peer
from pytest_vela.rig.session import RigSession
from pytest_vela.rig.sim_faults import VelaSim
from pytest_vela.rig.sim_process import SimulatorProcess
from pytest_vela.rigfile.loader import Rig
from pytest_vela.wire.control import ControlOp
from tests.support.ptys import RawPty
from tests.support.rigs import fast_sim_settings, make_rpk


def test_rig_fixture_is_the_builtin_sim(rig: Rig) -> None:
    assert (rig.name, rig.kind) == ("sim", "sim")


def test_shell_returns_output_without_echo_or_prompt(watch: Watch) -> None:
    assert watch.shell("echo hello   world") == "hello world\n"
    assert watch.shell("cd /data") == ""
    assert watch.shell("pwd") == "/data\n"


def test_shell_returns_the_device_error_text(watch: Watch) -> None:
    assert watch.shell("frobnicate") == "nsh: frobnicate: command not found\n"


def test_reset_waits_for_boot_and_prompt_and_records_boot_time(
    watch: Watch, vela_sim: VelaSim
) -> None:
    boots = vela_sim.boots
    recorded = len(watch.boot_times)
    elapsed = watch.reset()
    assert vela_sim.boots == boots + 1
    assert watch.boot_times[recorded:] == [elapsed]
    assert elapsed > 0
    # The shell answers straight away: reset returned at a ready prompt.
    assert watch.shell("echo up") == "up\n"


def test_hard_reset_power_cycles(watch: Watch, vela_sim: VelaSim) -> None:
    boots = vela_sim.boots
    watch.reset(hard=True)
    assert vela_sim.boots == boots + 1


def test_expect_sees_output_that_came_before_the_call(watch: Watch) -> None:
    watch.console.write_line("echo marker-7781")
    assert watch.console.expect(r"marker-(\d+)", timeout=10).group(1) == "7781"


def test_flash_sends_verifies_and_boots_the_image(watch: Watch, tmp_path: Path) -> None:
    image = tmp_path / "vela-fw.bin"
    image.write_bytes(os.urandom(40_000))
    want = hashlib.sha256(image.read_bytes()).hexdigest()
    assert watch.flash(image) is True
    assert watch.image_digest() == want
    # The file went over YMODEM and the device reports its exact size and hash.
    assert watch.shell("sha256 /data/vela-fw.bin").split()[:2] == [want, "40000"]
    # auto: the watch already runs it, so nothing is sent and no reboot happens.
    boots = len(watch.boot_times)
    assert watch.flash(image, "auto") is False
    assert len(watch.boot_times) == boots
    assert watch.flash(image, "never") is False


def test_flash_auto_sends_a_different_image(watch: Watch, tmp_path: Path) -> None:
    first, second = tmp_path / "a.bin", tmp_path / "b.bin"
    first.write_bytes(b"A" * 5000)
    second.write_bytes(b"B" * 5000)
    watch.flash(first, "auto")
    assert watch.flash(second, "auto") is True
    assert watch.image_digest() == hashlib.sha256(b"B" * 5000).hexdigest()


def test_flash_of_a_missing_image_names_it(watch: Watch, tmp_path: Path) -> None:
    with pytest.raises(FlashError, match=r"firmware image not found: .*nope\.bin"):
        watch.flash(tmp_path / "nope.bin")


def test_install_uninstalls_first_and_launch_reaches_the_main_loop(
    watch: Watch, tmp_path: Path
) -> None:
    rpk = make_rpk(tmp_path / "com.example.clock.rpk", "com.example.clock")
    mark = watch.console.mark()
    assert watch.install(rpk) == "com.example.clock"
    assert watch.install(rpk) == "com.example.clock"
    commands = re.findall(r"^\S+ > (pm \w+ \S+)$", watch.console.text_since(mark), re.M)
    assert (
        commands
        == [
            "pm uninstall com.example.clock",
            "pm install /data/app/com.example.clock.rpk",
        ]
        * 2
    )
    assert "com.example.clock" in watch.shell("pm list").split()
    watch.launch("com.example.clock")
    assert "com.example.clock" in watch.shell("ps")


def test_launch_of_an_app_that_is_not_installed_raises_with_the_device_words(
    watch: Watch,
) -> None:
    with pytest.raises(InstallError) as err:
        watch.launch("com.example.absent")
    assert "Failed to open: /data/app/com.example.absent/manifest.json" in str(err.value)
    assert watch.log_shown in str(err.value)


def test_uninstall_of_an_absent_app_raises_with_the_device_words(watch: Watch) -> None:
    with pytest.raises(InstallError, match=r"com\.example\.ghost is not installed"):
        watch.uninstall("com.example.ghost")


def test_install_of_a_file_that_is_no_package_is_refused_before_sending(
    watch: Watch, tmp_path: Path
) -> None:
    junk = tmp_path / "junk.rpk"
    junk.write_bytes(b"not a zip")
    with pytest.raises(InstallError, match="not a quick app package"):
        watch.install(junk)


def test_a_hung_watch_raises_watch_hung_naming_prompt_and_log(
    watch: Watch, vela_sim: VelaSim
) -> None:
    vela_sim.hang()
    with pytest.raises(WatchHung) as err:
        watch.shell("ls", timeout=0.5)
    assert "'nsh> '" in str(err.value)
    assert watch.log_shown in str(err.value)


def test_after_a_hang_the_next_test_gets_a_working_shell(watch: Watch) -> None:
    assert "app/" in watch.shell("ls /data")


def test_garbage_on_the_line_does_not_break_the_shell(watch: Watch, vela_sim: VelaSim) -> None:
    vela_sim.garbage(20_000)
    assert watch.shell("echo still-here") == "still-here\n"


def test_an_unplugged_port_raises_serial_lost_at_the_next_use(
    watch: Watch, vela_sim: VelaSim
) -> None:
    vela_sim.unplug()
    with pytest.raises(SerialLost) as err:
        watch.shell("ls", timeout=30)
    assert watch.log_shown in str(err.value)


def test_after_an_unplug_the_next_test_gets_the_port_back(watch: Watch) -> None:
    assert watch.shell("echo replugged") == "replugged\n"


# --- on a private simulated watch, with short retry settings ----------------------------


def simulator(session: RigSession) -> SimulatorProcess:
    sim = session.simulator
    assert sim is not None, "a simulated rig"
    return sim


def test_installer_busy_is_retried(own_rig: RigSession, own_watch: Watch, tmp_path: Path) -> None:
    rpk = make_rpk(tmp_path / "com.example.busy.rpk", "com.example.busy")
    simulator(own_rig).control(ControlOp.INSTALL_BUSY, n=2)
    mark = own_watch.console.mark()
    assert own_watch.install(rpk) == "com.example.busy"
    log = own_watch.console.text_since(mark)
    assert log.count("installation is running, please wait") == 2
    assert log.count("onInstallResult: com.example.busy(success 0)") == 1


def test_installer_busy_for_too_long_raises_install_error(
    own_rig: RigSession, own_watch: Watch, tmp_path: Path
) -> None:
    rpk = make_rpk(tmp_path / "com.example.busy.rpk", "com.example.busy")
    simulator(own_rig).control(ControlOp.INSTALL_BUSY, n=10)
    with pytest.raises(InstallError) as err:
        own_watch.install(rpk)
    message = str(err.value)
    assert "still busy after 3 attempts" in message
    assert "installation is running, please wait" in message
    assert own_watch.log_shown in message


def test_a_permanent_install_failure_carries_the_device_words(own_watch: Watch) -> None:
    with pytest.raises(InstallError) as err:
        pm_install(own_watch, "com.example.gone", "/data/app/com.example.gone.rpk")
    assert "No such file or directory" in str(err.value)


def test_send_file_lands_intact_in_the_directory(own_watch: Watch, tmp_path: Path) -> None:
    payload = tmp_path / "blob.bin"
    payload.write_bytes(os.urandom(3000) + b"\x1a" * 200)  # YMODEM pads with 0x1A
    digest = own_watch.send_file(payload, "/tmp")
    assert digest.size == 3200
    assert own_watch.shell("sha256 /tmp/blob.bin").split()[:2] == [digest.sha256, "3200"]


# --- on a pty the test answers itself -----------------------------------------------------


def _answer_once(pty: RawPty, reply: bytes) -> threading.Thread:
    """Act as the device for one command: wait for its line end, then print ``reply``."""

    def device() -> None:
        typed = b""
        while not typed.endswith(b"\r"):
            typed += pty.read_host_output()
        pty.send(typed.replace(b"\r", b"\r\n") + reply)

    thread = threading.Thread(target=device, daemon=True)
    thread.start()
    return thread


def test_shell_output_is_clean_after_noise_before_the_command(
    raw_pty: RawPty, pty_console: Console
) -> None:
    watch = Watch(Rig("sim", fast_sim_settings(), None), pty_console, ConsoleReboot(pty_console))
    raw_pty.send(b"noise \xe0")  # ends inside a UTF-8 sequence, as random bytes often do
    device = _answer_once(raw_pty, b"hi there\r\nnsh> ")
    assert watch.shell("echo hi there") == "hi there\n"
    device.join(10)


def test_the_watch_keeps_crash_and_boot_lines_from_the_moment_it_is_built(
    raw_pty: RawPty, pty_console: Console
) -> None:
    raw_pty.send(b"PANIC!!! before the watch\r\n")
    pty_console.expect("before the watch")
    watch = Watch(Rig("sim", fast_sim_settings(), None), pty_console, ConsoleReboot(pty_console))
    raw_pty.send(
        b"dump_assert_info: Assertion failed x > 0: at file: sched.c:42 task: nsh_main\r\r\n"
        b"sched_dumpstack: backtrace| 4: 0x400747b4\r\r\n\r\r\nNuttShell (NSH)\r\r\n"
    )
    pty_console.expect(r"NuttShell \(NSH\)")
    assert [c.line for c in watch.crashes] == [
        "dump_assert_info: Assertion failed x > 0: at file: sched.c:42 task: nsh_main"
    ]
    assert [b.line for b in watch.boots] == ["NuttShell (NSH)"]
    assert watch.crashes[0].ts <= watch.boots[0].ts


def test_shell_output_is_exact_while_the_agent_logs_link_events(watch: Watch, peer: Peer) -> None:
    for n in range(5):
        # Each drop and reopen makes the agent print event lines while the shell runs.
        if n % 2 == 0:
            peer.drop()
        else:
            peer.reconnect()
        assert watch.shell(f"echo round-{n}") == f"round-{n}\n"


def test_a_transfer_past_its_timeout_is_cancelled_and_the_shell_still_answers(
    watch: Watch, tmp_path: Path
) -> None:
    timeouts = watch.rig.settings.timeouts.model_copy(update={"flash": 0.5})
    impatient = Watch(watch.rig.with_settings(timeouts=timeouts), watch.console, watch.power)
    image = tmp_path / "big.bin"
    image.write_bytes(os.urandom(200_000))  # about 2 s at the simulated 921600 baud
    with pytest.raises(FlashError, match=r"did not finish within 0\.5 s .*cancelled"):
        impatient.send_file(image, "/data")
    assert watch.shell("echo after-cancel") == "after-cancel\n"


def test_a_receiver_that_never_answers_fails_within_the_flash_timeout(
    watch: Watch, tmp_path: Path
) -> None:
    from pytest_vela.device.transfer import ymodem_send

    image = tmp_path / "small.bin"
    image.write_bytes(b"x" * 1000)
    with pytest.raises(FlashError, match=r"'no-such-rb' did not finish within 1 s \(0 of 1000"):
        ymodem_send(watch.console, image, "no-such-rb", timeout=1)
    assert watch.shell("echo still-here") == "still-here\n"


def test_ctrl_c_mid_transfer_cancels_the_devices_receiver(watch: Watch, tmp_path: Path) -> None:
    from pytest_vela.device.transfer import ymodem_send

    image = tmp_path / "big.bin"
    image.write_bytes(os.urandom(200_000))

    def interrupt(sent: int, _total: int) -> None:
        if sent > 20_000:
            raise KeyboardInterrupt

    watch.shell("cd /data")
    with pytest.raises(KeyboardInterrupt):
        ymodem_send(watch.console, image, "rb", timeout=30, progress=interrupt)
    watch.console.expect("rb: transfer", timeout=5)  # the receiver gave up at once
    assert watch.shell("echo after-ctrl-c") == "after-ctrl-c\n"


def test_shell_returns_output_longer_than_the_search_overlap(watch: Watch) -> None:
    out = watch.shell("flood 1500 80", timeout=30)  # 120 kB, arriving over many reads
    lines = out.splitlines()
    assert len(lines) == 1500
    assert lines[0].startswith("0000000000 ") and lines[-1].startswith("0000001499 ")
