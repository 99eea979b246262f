"""The simulated shell's words and line handling, fed as the pty feeds it: nsh's line
discipline, greeting, commands and errors, in either build's dialect and either line end."""

from __future__ import annotations

import asyncio
import hashlib
import zipfile
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from pytest_vela.sim.filestore import FileStore
from pytest_vela.sim.shell import Shell, ShellConfig
from tests.support.rigs import make_rpk

PROMPT = "nsh> \x1b[K"  # the prompt, and the erase to the end of the line readline prints


class FakeApps:
    """The shell's app host, without running anything."""

    def __init__(self) -> None:
        self.running: list[str] = []

    async def start_app(self, package: str) -> str | None:
        if package not in self.running:
            self.running.append(package)
        return None

    async def stop_app(self, package: str) -> None:
        if package in self.running:
            self.running.remove(package)

    async def stop_all(self) -> None:
        self.running.clear()

    def running_apps(self) -> list[str]:
        return list(self.running)


class ShellHarness:
    """A Shell on an in-memory output, fed like the pty feeds it."""

    def __init__(self, root: Path, config: ShellConfig) -> None:
        self.output = bytearray()
        self.apps = FakeApps()
        self.shell = Shell(self._write, FileStore(root), config, self.apps)

    async def _write(self, data: bytes) -> None:
        self.output += data

    async def type(self, text: str | bytes, prompts: int = 1) -> str:
        """Feed input; return what the shell printed until ``prompts`` prompts came back."""
        start = len(self.output)
        self.shell.feed(text.encode() if isinstance(text, str) else text)
        for _ in range(300):
            out = self.output[start:]
            if out.count(PROMPT.encode()) >= prompts and self.shell.idle:
                break
            await asyncio.sleep(0.01)
        return self.output[start:].decode(errors="replace")

    async def answer(self, command: str) -> list[str]:
        """The lines ``command`` printed, without its echo and the prompt."""
        out = await self.type(command + "\r")
        lines = out.removesuffix(PROMPT).split("\r\n")
        assert lines[0] == command and lines[-1] == "", out
        return lines[1:-1]


Body = Callable[[ShellHarness], Awaitable[None]]


def run_shell(root: Path, body: Body, **config: object) -> None:
    async def main() -> None:
        harness = ShellHarness(root, ShellConfig(boot_ms=0, **config))  # type: ignore[arg-type]
        harness.shell.start()
        await asyncio.sleep(0)  # the shell waits for input before any arrives, as after boot
        try:
            await body(harness)
        finally:
            await harness.shell.stop()

    asyncio.run(main())


@pytest.mark.parametrize("line_end", ["\r\n", "\r\r\n"])
def test_shell_echoes_then_answers_then_prompts(tmp_path: Path, line_end: str) -> None:
    async def body(h: ShellHarness) -> None:
        e = line_end
        assert await h.type("echo a  b\r") == f"echo a  b{e}a b{e}{PROMPT}"
        assert await h.type("nope\r") == f"nope{e}nsh: nope: command not found{e}{PROMPT}"
        # "\r" and "\n" are each an Enter: the command, then an empty line.
        assert await h.type("pwd\r\n", prompts=2) == f"pwd{e}/{e}{PROMPT}{e}{PROMPT}"

    run_shell(tmp_path, body, line_end=line_end)


def test_line_editing_backspace_ctrl_c_and_nul(tmp_path: Path) -> None:
    async def body(h: ShellHarness) -> None:
        out = await h.type(b"echo ab\x00X\x7fc\r")
        assert out.endswith(f"\r\nabc\r\n{PROMPT}")
        assert await h.type(b"reboot\x03") == f"reboot^C\r\n{PROMPT}"

    run_shell(tmp_path, body)


def test_boot_prints_nsh_greeting_then_the_prompt(tmp_path: Path) -> None:
    async def body(h: ShellHarness) -> None:
        await h.shell.boot_sequence()
        assert h.output.decode() == f"\r\nNuttShell (NSH)\r\n{PROMPT}"
        assert h.shell.boots == 1

    run_shell(tmp_path, body)


def test_a_boot_line_of_its_own_comes_as_a_log_line_before_the_greeting(tmp_path: Path) -> None:
    async def body(h: ShellHarness) -> None:
        await h.shell.boot_sequence()
        lines = h.output.decode().split("\r\n")
        assert lines[0].endswith("] [ INFO] booting completed")
        assert lines[1:] == ["", "NuttShell (NSH)", PROMPT]

    run_shell(tmp_path, body, boot_line="booting completed")


def test_a_hung_shell_ignores_input(tmp_path: Path) -> None:
    async def body(h: ShellHarness) -> None:
        h.shell.faults.hung = True
        h.shell.feed(b"echo hi\r")
        await asyncio.sleep(0.05)
        assert h.output == b""

    run_shell(tmp_path, body)


def test_uname_answers_each_flag_as_nsh_does(tmp_path: Path) -> None:
    async def body(h: ShellHarness) -> None:
        version = (await h.answer("uname -v"))[0]
        assert await h.answer("uname") == ["NuttX"]
        assert await h.answer("uname -s") == ["NuttX"]
        assert await h.answer("uname -o") == ["NuttX"]
        assert await h.answer("uname -r") == ["0.0.0"]
        assert await h.answer("uname -m") == ["sim"]
        assert await h.answer("uname -i") == ["sim"]
        assert await h.answer("uname -p") == ["unknown"]
        assert await h.answer("uname -sr") == ["NuttX 0.0.0"]
        assert await h.answer("uname -m -s") == ["NuttX sim"]
        assert await h.answer("uname -a") == [f"NuttX 0.0.0 {version} sim sim"]
        assert await h.answer("uname -a -p") == [f"NuttX 0.0.0 {version} sim sim"]
        assert await h.answer("uname -n") == ["nsh: uname: argument invalid"]
        assert await h.answer("uname -x") == ["nsh: uname: argument invalid"]

    run_shell(tmp_path, body)


def test_help_lists_commands_and_apps_as_nsh_lays_them_out(tmp_path: Path) -> None:
    async def body(h: ShellHarness) -> None:
        lines = await h.answer("help")
        assert lines[:2] == ["help usage:  help [-v] [<cmd>]", ""]
        apps = lines.index("Builtin Apps:")
        listed = " ".join(lines[2:apps]).split()
        assert {"ls", "ps", "free", "uname", "reboot", "exec"} <= set(listed)
        assert {"rb", "pm", "am", "sha256", "ota", "imginfo"} <= set(" ".join(lines).split())
        assert all(line.startswith("    ") for line in lines[2 : apps - 1] + lines[apps + 1 :])
        assert await h.answer("help uname") == ["uname usage:  uname [-a | -imoprsv]"]
        assert await h.answer("help nope") == ["nsh: nope: command not found"]

    run_shell(tmp_path, body)


def test_files_and_directories_in_nsh_words(tmp_path: Path) -> None:
    (tmp_path / "data" / "fw.bin").parent.mkdir(parents=True)
    (tmp_path / "data" / "fw.bin").write_bytes(b"x")

    async def body(h: ShellHarness) -> None:
        root = await h.answer("ls /")
        assert root[0] == "/:" and {" data/", " tmp/"} <= set(root[1:])
        assert await h.answer("ls /data") == ["/data:", " app/", " fw.bin", " ota/"]
        assert await h.answer("ls /data/fw.bin") == [" /data/fw.bin"]
        assert await h.answer("ls /nope") == ["nsh: ls: stat failed: 2"]
        assert await h.answer("cd /nope") == ["nsh: cd: chdir failed: 2"]
        assert await h.answer("cd /data/app") == []
        assert await h.answer("pwd") == ["/data/app"]
        assert await h.answer("cd") == []
        assert await h.answer("pwd") == ["/"]
        assert await h.answer("echo one; echo two") == ["one", "two"]

    run_shell(tmp_path, body)


def test_missing_arguments_and_files_are_said_as_nsh_says_them(tmp_path: Path) -> None:
    async def body(h: ShellHarness) -> None:
        for command in ("sha256", "ota", "exec", "pm", "am start"):
            name = command.split()[0]
            assert await h.answer(command) == [f"nsh: {name}: missing required argument(s)"]
        assert await h.answer("sha256 /data") == ["nsh: sha256: read failed: 21"]
        assert await h.answer("sha256 /data/none") == ["nsh: sha256: open failed: 2"]
        assert await h.answer("ota /data/none") == ["nsh: ota: open failed: 2"]

    run_shell(tmp_path, body)


@pytest.mark.parametrize(
    ("dialect", "header"),
    [
        ("apache", "  TID   PID  PPID PRI POLICY   TYPE    NPX STATE    EVENT     SIGMASK"),
        ("vela", "  PID GROUP PRI POLICY   TYPE    NPX STATE    EVENT     SIGMASK"),
    ],
)
def test_ps_and_free_in_each_dialect(tmp_path: Path, dialect: str, header: str) -> None:
    async def body(h: ShellHarness) -> None:
        await h.apps.start_app("com.example.w")
        ps = await h.answer("ps")
        assert ps[0].startswith(header) and ps[0].endswith("STACK COMMAND")
        assert ps[1].split()[-1] == "Idle_Task" and ps[-1].split()[-1] == "com.example.w"
        free = await h.answer("free")
        assert free[0].split() == [
            *("total", "used", "free", "maxused", "maxfree", "nused", "nfree", "name")
        ]
        assert free[1].split()[-1] == "Umem" and all(w.isdigit() for w in free[1].split()[:-1])

    run_shell(tmp_path, body, dialect=dialect)


def test_pm_and_am_speak_the_device_words(tmp_path: Path) -> None:
    (tmp_path / "data" / "app").mkdir(parents=True)
    make_rpk(tmp_path / "data" / "app" / "com.example.w.rpk", "com.example.w")

    async def body(h: ShellHarness) -> None:
        assert "Failed to open: /data/app/com.example.w/manifest.json" in await h.type(
            "am start com.example.w\r"
        )
        h.shell.faults.install_busy = 1
        busy = await h.type("pm install /data/app/com.example.w.rpk\r")
        assert "installRpk: installation is running, please wait" in busy
        done = await h.type("pm install /data/app/com.example.w.rpk\r")
        assert "onInstallResult: com.example.w(success 0)" in done
        assert "com.example.w: Start main loop" in await h.type("am start com.example.w\r")
        assert h.apps.running_apps() == ["com.example.w"]
        assert "uninstalled app: com.example.w" in await h.type("pm uninstall com.example.w\r")
        assert h.apps.running_apps() == []
        missing = await h.type("pm install /data/app/none.rpk\r")
        assert "No such file or directory" in missing

    run_shell(tmp_path, body)


def test_a_broken_package_fails_with_install_prepare_failed(tmp_path: Path) -> None:
    (tmp_path / "data" / "app").mkdir(parents=True)
    with zipfile.ZipFile(tmp_path / "data" / "app" / "bad.rpk", "w") as z:
        z.writestr("readme.txt", "no manifest")

    async def body(h: ShellHarness) -> None:
        out = await h.type("pm install /data/app/bad.rpk\r")
        assert "uv_mq_read_cb: install prepare failed" in out

    run_shell(tmp_path, body)


def test_ota_image_runs_after_the_next_boot(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "fw.bin").write_bytes(b"new firmware")
    want = hashlib.sha256(b"new firmware").hexdigest()

    async def body(h: ShellHarness) -> None:
        assert want not in await h.type("imginfo\r")
        assert "staged" in await h.type("ota /data/fw.bin\r")
        assert want not in await h.type("imginfo\r")
        await h.type("reboot\r")
        assert f"sha256 {want} size 12" in await h.type("imginfo\r")

    run_shell(tmp_path, body)


@pytest.mark.parametrize("how", ["order", "exec"])
def test_a_crash_prints_the_assertion_then_the_watch_boots_again(tmp_path: Path, how: str) -> None:
    async def body(h: ShellHarness) -> None:
        if how == "exec":
            await h.type("exec 0x400042e2\r")
        else:
            await h.shell.crash()
        text = h.output.decode()
        if how == "exec":
            assert text.startswith("exec 0x400042e2\r\nCalling 0x400042e2\r\n")
        version = text.index("dump_assert_info: Current Version: NuttX  0.0.0 ")
        assert version < text.index("dump_assert_info: Assertion failed")
        assert text.index("dump_assert_info: Assertion failed") < text.index("NuttShell (NSH)")
        assert text.count("sched_dumpstack: backtrace|") == 2
        assert text.endswith(PROMPT) and h.shell.boots == 1

    run_shell(tmp_path, body)


def test_flood_numbers_every_line(tmp_path: Path) -> None:
    async def body(h: ShellHarness) -> None:
        out = await h.type("flood 600 40\r")
        lines = out.split("\r\n")[1:-1]
        assert [int(line.split()[0]) for line in lines] == list(range(600))

    run_shell(tmp_path, body)
