"""The ``[process]`` table of a rig file: a watch OS running as a host program (NuttX's or
Vela's ``sim`` build, QEMU ``-nographic``, an emulator's console) whose stdin/stdout is the
watch's console.

The program is checked when the rig file is read, not when the first test needs it: a path
that names nothing, or a file that cannot be run, stops the run at once with the field and
the fix. A relative program path (one with a ``/``) is relative to the rig file, as every
other path in it; a bare name is looked up on ``PATH``, as a shell would.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from pytest_vela.errors import RigConfigError, shown_path


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("contains a NUL byte (\\u0000), which no path, command or text may hold")
    return value


_Arg = Annotated[str, AfterValidator(_no_nul)]


class ProcessSettings(BaseModel):
    """How to start the watch's program (kind = 'process' only)."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    command: list[_Arg] = Field(
        description='argv of the program, e.g. ["build/nuttx"]: its stdin/stdout is the '
        "console (a relative program path is relative to the rig file, a bare name is looked "
        "up on PATH)",
    )
    cwd: Path | None = Field(
        default=None,
        description="working directory of the program (relative to the rig file); default: a "
        "fresh run directory, removed after the run",
    )
    env: dict[str, _Arg] = Field(
        default_factory=dict, description="variables added to the program's environment"
    )
    input_boundary: int = Field(
        default=256,
        ge=0,
        le=1 << 20,
        description="bytes: after input that ends exactly on a multiple of this many bytes of "
        "a run's input, send a NUL byte (NuttX's sim holds such input until more arrives; nsh "
        "ignores NUL); 0: send every byte as it is typed, nothing added",
    )
    restart_after_crash: bool = Field(
        default=True,
        description="restart the program once a crash's output has gone quiet, as a watch "
        "resets itself after a panic (a host program stays in its dead shell)",
    )

    @field_validator("command")
    @classmethod
    def _names_a_program(cls, value: list[str]) -> list[str]:
        if not value or not value[0].strip():
            raise ValueError(
                'names no program: give its argv, as command = ["build/nuttx"] (a path '
                "relative to the rig file) or a program on PATH"
            )
        return value

    @field_validator("cwd", mode="before")
    @classmethod
    def _cwd_text(cls, value: object) -> object:
        if isinstance(value, str):
            if not value.strip():
                raise ValueError("empty path: give a directory, or leave cwd out for a fresh one")
            return Path(_no_nul(value))
        return value


def resolve_process(process: ProcessSettings, base: Path, rig_file: Path) -> ProcessSettings:
    """The table with its program and working directory made absolute and checked: the
    program exists and may be run, the directory exists. ``RigConfigError`` names the file,
    the field and the fix."""
    program = process.command[0]
    if "/" in program:
        found = Path(program) if Path(program).is_absolute() else (base / program).resolve()
        _check_program(found, program, rig_file)
        resolved = str(found)
    else:
        on_path = shutil.which(program)
        if on_path is None:
            raise RigConfigError(
                f"{rig_file}: invalid rig file\n  field process.command[0]: program {program!r} "
                "is not on PATH: install it, or give its path (relative to the rig file, as "
                f'"./{program}")'
            )
        resolved = on_path
    cwd = process.cwd
    if cwd is not None:
        cwd = cwd if cwd.is_absolute() else (base / cwd).resolve()
        if not cwd.is_dir():
            raise RigConfigError(
                f"{rig_file}: invalid rig file\n  field process.cwd: {cwd} is not a directory: "
                "create it, fix the path (relative to the rig file), or leave cwd out for a "
                "fresh directory per run"
            )
    return process.model_copy(update={"command": [resolved, *process.command[1:]], "cwd": cwd})


def _check_program(found: Path, given: str, rig_file: Path) -> None:
    where = f"{shown_path(rig_file)}: invalid rig file\n  field process.command[0]: {given!r}"
    shown = shown_path(found)
    if not found.exists():
        raise RigConfigError(
            f"{where} resolves to {shown}, which does not exist: build the firmware, or fix "
            "the path (a relative path is relative to the rig file)"
        )
    if not found.is_file():
        raise RigConfigError(f"{where} resolves to {shown}, which is not a file: name the program")
    if not os.access(found, os.X_OK):
        raise RigConfigError(
            f"{where} resolves to {shown}, which is not executable: chmod +x {shown}"
        )


def with_restart_default(data: Any) -> Any:
    """A process rig's rig file, before validation: its ``reset.method`` defaults to
    ``restart`` (a hard reset of a program is a restart) unless the file names one."""
    if not isinstance(data, dict) or data.get("kind") != "process":
        return data
    reset = data.get("reset")
    if reset is None:
        return {**data, "reset": {"method": "restart"}}
    if isinstance(reset, dict) and "method" not in reset:
        return {**data, "reset": {**reset, "method": "restart"}}
    if isinstance(reset, BaseModel) and "method" not in reset.model_fields_set:
        return {**data, "reset": reset.model_copy(update={"method": "restart"})}
    return data


def process_misfit(
    kind: str, process: ProcessSettings | None, reset_method: str, port: str | None
) -> str | None:
    """What does not fit between the rig's kind and its ``[process]`` table; None if all does."""
    if kind != "process":
        if process is not None:
            return (
                'a [process] table belongs to a process rig: set kind = "process" or remove '
                "the table"
            )
        if reset_method == "restart":
            return (
                'reset.method "restart" restarts the program of a process rig: set kind = '
                '"process", or choose another reset.method'
            )
        return None
    if process is None:
        return (
            'a process rig needs a [process] table with command = ["path/to/nuttx"] (the '
            "program whose stdin/stdout is the watch's console)"
        )
    if port:
        return "a process rig's console is its program's stdin/stdout: remove serial.port"
    return None
