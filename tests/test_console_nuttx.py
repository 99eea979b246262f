"""The console as real NuttX speaks: lines ending ``\\r\\n`` or ``\\r\\r\\n``, a prompt followed by
an erase to the end of the line, and command output that itself holds the prompt's text.
First on a pty the test answers as NuttX does, then against the real ``sim:nsh`` builds."""

from __future__ import annotations

import re
import threading
from pathlib import Path

import pytest

from pytest_vela.console.ansi import AnsiStripper
from pytest_vela.console.lines import MarkerLog
from pytest_vela.console.port import Console
from pytest_vela.device.power import ConsoleReboot
from pytest_vela.device.watch import Watch
from pytest_vela.errors import WatchHung
from pytest_vela.rigfile.loader import Rig
from tests.support.nuttx_pty import nuttx_on_pty
from tests.support.ptys import RawPty
from tests.support.rigs import fast_sim_settings

STAMP = re.compile(r"^\d\d:\d\d:\d\d\.\d{6} ")
PROMPT = b"nsh> \x1b[K"


def _watch(console: Console) -> Watch:
    return Watch(Rig("nuttx", fast_sim_settings(), None), console, ConsoleReboot(console))


def _answer(pty: RawPty, reply: bytes, line_end: bytes = b"\r\r\n") -> threading.Thread:
    """Act as nsh for one command: echo the typed line, then print ``reply``."""

    def device() -> None:
        typed = b""
        while not typed.endswith(b"\r"):
            typed += pty.read_host_output()
        pty.send(typed[:-1] + line_end + reply)

    thread = threading.Thread(target=device, daemon=True)
    thread.start()
    return thread


@pytest.mark.parametrize("line_end", [b"\r\n", b"\r\r\n"], ids=["uart", "pty"])
def test_shell_takes_nuttx_line_ends_and_the_erase_after_the_prompt(
    raw_pty: RawPty, pty_console: Console, line_end: bytes
) -> None:
    device = _answer(raw_pty, b"a  b" + line_end + b"c" + line_end + PROMPT, line_end)
    assert _watch(pty_console).shell("echo x") == "a  b\nc\n"
    device.join(10)


def test_output_that_holds_the_prompt_text_is_returned_whole(
    raw_pty: RawPty, pty_console: Console
) -> None:
    watch = _watch(pty_console)
    device = _answer(raw_pty, b"nsh> x\r\r\nnsh> \r\r\nend nsh> \r\r\n" + PROMPT)
    assert watch.shell('echo "nsh> x"') == "nsh> x\nnsh> \nend nsh> \n"
    device.join(10)


def test_the_prompt_is_known_by_its_erase_while_log_lines_follow_it(
    raw_pty: RawPty, pty_console: Console
) -> None:
    # A log line arrives right behind the prompt: the prompt is not last, but its erase says
    # the shell is reading a line.
    device = _answer(raw_pty, b"up\r\r\n" + PROMPT + b"[  1.5] [ INFO] [JS] tick\r\r\n")
    assert _watch(pty_console).shell("echo up") == "up\n"
    device.join(10)


def test_a_shell_with_another_prompt_is_named_with_the_setting_to_change(
    raw_pty: RawPty, pty_console: Console, tmp_path: Path
) -> None:
    """Another firmware's shell (Vela boards answer ``ap> ``): the wait fails, saying which
    prompt the watch printed and where to set it, instead of only that it timed out."""
    rig_file = tmp_path / "rigs" / "board.toml"
    rig = Rig("board", fast_sim_settings(), rig_file)
    watch = Watch(rig, pty_console, ConsoleReboot(pty_console))
    device = _answer(raw_pty, b"up\r\r\nap> \x1b[K")
    with pytest.raises(WatchHung) as err:
        watch.shell("echo up", timeout=0.5)
    device.join(10)
    assert "did not return to its prompt 'nsh> '" in str(err.value)
    assert (
        "the watch's shell seems to answer with the prompt 'ap> ', not 'nsh> ': if that is "
        f'its prompt, set [serial] prompt = "ap> " in {rig_file}'
    ) in str(err.value)


def test_a_boot_without_the_marker_but_back_at_the_prompt_names_the_boot_setting(
    raw_pty: RawPty, pty_console: Console, tmp_path: Path
) -> None:
    """Another firmware's greeting: the watch rebooted and prompts again, but never printed
    what ``serial.boot_marker`` matches; the failure says which setting to change."""
    settings = fast_sim_settings()
    quick = settings.model_copy(
        update={"timeouts": settings.timeouts.model_copy(update={"boot": 0.5})}
    )
    rig_file = tmp_path / "rigs" / "board.toml"
    watch = Watch(Rig("board", quick, rig_file), pty_console, ConsoleReboot(pty_console))
    device = _answer(raw_pty, b"Welcome to the board\r\r\nnsh> \x1b[K")
    with pytest.raises(WatchHung) as err:
        watch.reset()
    device.join(10)
    said = str(err.value)
    assert r"no boot-done marker 'NuttShell \\(NSH\\)' within 0.5 s" in said, said
    assert (
        "the watch is at its prompt 'nsh> ' again, so it booted without printing a line the "
        f"boot marker matches: set [serial] boot_marker in {rig_file}"
    ) in said


def test_a_hung_shell_with_the_rigs_prompt_gets_no_prompt_hint(
    raw_pty: RawPty, pty_console: Console
) -> None:
    watch = _watch(pty_console)
    raw_pty.send(b"nsh> \x1b[K")
    device = _answer(raw_pty, b"")  # echoes the command, then never prompts again
    with pytest.raises(WatchHung) as err:
        watch.shell("sleep 100", timeout=0.5)
    device.join(10)
    assert "seems to answer with the prompt" not in str(err.value)


def test_a_shell_without_the_erase_is_at_its_prompt_once_the_line_is_quiet(
    raw_pty: RawPty, pty_console: Console
) -> None:
    device = _answer(raw_pty, b"nsh> x\r\nnsh> ", b"\r\n")
    assert _watch(pty_console).shell('echo "nsh> x"') == "nsh> x\n"
    device.join(10)


def test_the_stripper_notes_where_it_removed_an_erase() -> None:
    stripper = AnsiStripper()
    assert stripper.feed("a\r\nnsh> \x1b[K") == "a\r\nnsh> "
    assert stripper.erased == [8]
    assert stripper.feed("\x1b[1mb\x1b[0m\x1b[0Kc") == "bc"
    assert stripper.erased == [1]
    assert stripper.feed("plain") == "plain"
    assert stripper.erased == []
    # Split across reads: noted where the escape completes.
    assert stripper.feed("nsh> \x1b[") == "nsh> "
    assert stripper.feed("K") == ""
    assert stripper.erased == [0]


def test_a_pty_line_end_is_logged_and_listened_to_as_one_line_end(
    raw_pty: RawPty, pty_console: Console
) -> None:
    lines = MarkerLog()
    pty_console.on_line(lines.record)
    raw_pty.send(b"one\r\r\ntwo\r\r")
    pty_console.expect("two")
    raw_pty.send(b"\nthree\r\r\n")
    pty_console.expect("three")
    logged = [STAMP.sub("", line) for line in pty_console.log_path.read_text().splitlines()]
    assert [line for line in logged if not line.startswith("# ")] == ["one", "two", "three"]
    assert [event.line for event in lines] == ["one", "two", "three"]


# --- against the real NuttX builds ------------------------------------------------------------


@pytest.mark.parametrize("onlcr", [True, False], ids=["pty-crcrlf", "uart-crlf"])
@pytest.mark.parametrize("dialect", ["apache", "vela"])
def test_real_nsh_answers_through_shell(tmp_path: Path, dialect: str, onlcr: bool) -> None:
    with nuttx_on_pty(dialect, tmp_path) as nuttx:
        console = Console(nuttx.path, 921600, tmp_path / "console.log").open()
        nuttx.start()
        try:
            watch = _watch(console)
            watch.console.expect(r"NuttShell \(NSH\)", timeout=10)
            if not onlcr:
                nuttx.clear_onlcr()
            watch.wake()
            assert watch.shell('echo "nsh> x"') == "nsh> x\n"
            assert watch.shell("echo nsh>") == "nsh>\n"
            assert watch.shell("uname -s") == "NuttX\n"
            assert watch.shell("frobnicate") == "nsh: frobnicate: command not found\n"
            listing = watch.shell("ls /dev").splitlines()
            assert listing[0] == "/dev:" and " console" in listing and " null" in listing
            for n in range(20):  # back to back, each answer its own
                assert watch.shell(f"echo round-{n}") == f"round-{n}\n"
        finally:
            console.close()
        log = console.log_path.read_text()
        assert "\\x0d" not in log  # every line end, "\r\r\n" too, logged as one
        assert "> echo round-19" in log
