"""Process rig files: the program and its directory checked when the file is read, each error
naming the file, the field and the fix; relative paths relative to the rig file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pytest_vela.errors import RigConfigError
from pytest_vela.rigfile.loader import load_rig
from tests.support.rigs import write_rig


@pytest.fixture
def program(tmp_path: Path) -> Path:
    """A program beside the rig directory (its content is never run here)."""
    path = tmp_path / "build" / "nuttx"
    path.parent.mkdir()
    path.write_text("#!/bin/sh\n")
    path.chmod(0o755)
    return path


def rig_error(rig_dir: Path, body: str) -> str:
    write_rig(rig_dir, "proc", body)
    with pytest.raises(RigConfigError) as caught:
        load_rig("proc", rig_dir)
    return str(caught.value)


def test_a_relative_program_is_relative_to_the_rig_file(tmp_path: Path, program: Path) -> None:
    rig_dir = tmp_path / "rigs"
    write_rig(
        rig_dir,
        "proc",
        """
        kind = "process"
        [process]
        command = ["../build/nuttx", "-x"]
        cwd = "../build"
        env = { NUTTX_TRACE = "1" }
        [firmware]
        elf = "../build/nuttx"
        """,
    )
    rig = load_rig("proc", rig_dir)
    process = rig.settings.process
    assert process is not None
    assert process.command == [str(program), "-x"]
    assert process.cwd == program.parent
    assert process.env == {"NUTTX_TRACE": "1"}
    assert rig.settings.firmware.elf == program
    assert rig.settings.reset.method == "restart"  # a process rig's hard reset: a restart


def test_a_bare_name_is_found_on_path(tmp_path: Path) -> None:
    write_rig(tmp_path, "proc", 'kind = "process"\n[process]\ncommand = ["sh", "-c", "true"]\n')
    process = load_rig("proc", tmp_path).settings.process
    assert process is not None and Path(process.command[0]).name == "sh"
    assert os.access(process.command[0], os.X_OK)


def test_another_reset_method_is_kept(tmp_path: Path, program: Path) -> None:
    write_rig(
        tmp_path,
        "proc",
        f'kind = "process"\n[process]\ncommand = ["{program}"]\n[reset]\nmethod = "console"\n',
    )
    assert load_rig("proc", tmp_path).settings.reset.method == "console"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('kind = "process"\n', "needs a [process] table with command"),
        ('kind = "process"\n[process]\ncommand = []\n', "field process.command: names no program"),
        (
            'kind = "process"\n[process]\ncommand = ["build/missing"]\n',
            "field process.command[0]: 'build/missing' resolves to",
        ),
        (
            'kind = "process"\n[process]\ncommand = ["no-such-program-here"]\n',
            "'no-such-program-here' is not on PATH: install it, or give its path",
        ),
        (
            'kind = "process"\n[process]\ncommand = ["sh"]\ncwd = "nowhere"\n',
            "field process.cwd:",
        ),
        ('kind = "process"\n[process]\ncommand = ["sh"]\nargs = 1\n', "field process.args"),
        (
            'kind = "process"\n[process]\ncommand = ["sh"]\n[serial]\nport = "/dev/ttyUSB0"\n',
            "console is its program's stdin/stdout: remove serial.port",
        ),
        (
            'kind = "sim"\n[process]\ncommand = ["sh"]\n',
            'belongs to a process rig: set kind = "process"',
        ),
        ('kind = "sim"\n[reset]\nmethod = "restart"\n', 'reset.method "restart" restarts'),
        (
            'kind = "process"\n[process]\ncommand = ["sh"]\n[firmware]\nelf = "nuttx.elf"\n',
            "field firmware.elf:",
        ),
    ],
    ids=[
        "no-table",
        "empty-command",
        "missing-program",
        "not-on-path",
        "missing-cwd",
        "unknown-field",
        "serial-port",
        "table-on-sim",
        "restart-on-sim",
        "missing-elf",
    ],
)
def test_a_bad_process_rig_is_refused_with_the_fix(
    tmp_path: Path, body: str, expected: str
) -> None:
    message = rig_error(tmp_path, body)
    assert str(tmp_path / "proc.toml") in message
    assert expected in message, message


def test_a_program_that_cannot_run_is_refused(tmp_path: Path, program: Path) -> None:
    program.chmod(0o644)
    message = rig_error(tmp_path, f'kind = "process"\n[process]\ncommand = ["{program}"]\n')
    assert f"which is not executable: chmod +x {program}" in message
    directory = rig_error(
        tmp_path, f'kind = "process"\n[process]\ncommand = ["{program.parent}"]\n'
    )
    assert "which is not a file: name the program" in directory
