"""Rig files on disk: ``<rig-dir>/NAME.toml`` looked up, read and validated.

A rig file is read once at session start; every error names the file, the field and the fix,
because the person reading it is usually setting up a new desk or farm slot.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from pytest_vela.errors import RigConfigError, shown_path
from pytest_vela.rigfile.labgrid_table import pool_misfit
from pytest_vela.rigfile.process import resolve_process
from pytest_vela.rigfile.schema import RigSettings

SIM_RIG = "sim"
RIG_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
MAX_RIG_FILE_BYTES = 1024 * 1024  # rig files are a few hundred bytes


class Rig:
    """A named, validated rig: its name, its settings (immutable) and the file they came from
    (None for the built-in ``sim``)."""

    def __init__(self, name: str, settings: RigSettings, path: Path | None) -> None:
        self.name = name
        self.settings = settings
        self.path = path

    @property
    def kind(self) -> str:
        return self.settings.kind

    def with_settings(self, **sections: Any) -> Rig:
        """A copy with some sections replaced (``--vela-app`` names the app under test)."""
        return Rig(self.name, self.settings.model_copy(update=sections), self.path)

    def __repr__(self) -> str:
        return f"Rig({self.name!r}, kind={self.kind!r})"


def check_name(name: str) -> str:
    if not RIG_NAME.match(name) or name in {".", ".."}:
        raise RigConfigError(
            f"rig name {name!r} is not a plain name: use letters, digits, '_', '-', '.' "
            "(rigs are looked up as <rig-dir>/<name>.toml; paths are not accepted)"
        )
    return name


POOL = "pool:"  # --rig pool:NAME names the rigs whose files say pool = "NAME"


def split_names(values: list[str]) -> list[str]:
    """``--rig a,b --rig c`` → ``["a", "b", "c"]``, de-duplicated, order kept; a pool is named
    ``pool:NAME``."""
    names: list[str] = []
    for value in values:
        for part in value.split(","):
            part = part.strip()
            if part and part not in names:
                pool = part.removeprefix(POOL)
                check_name(pool)
                names.append(part)
    return names


def pool_members(pool: str, rig_dir: Path) -> list[Rig]:
    """The rigs of ``rig_dir`` whose files say ``pool = "<pool>"``, by name; a
    ``RigConfigError`` when there is none, when a rig file there cannot be read, or when the
    pool is reserved by labgrid tags and its rig files disagree on them."""
    members = []
    for name in known_rigs(rig_dir):
        if (rig_dir / f"{name}.toml").is_file():
            rig = load_rig(name, rig_dir)
            if rig.settings.pool == pool:
                members.append(rig)
    if not members:
        raise RigConfigError(
            f"no rig file in {rig_dir} says pool = {pool!r}: add the line to each rig of the "
            f"pool, or name rigs instead of {POOL}{pool} (known rigs: "
            f"{', '.join(known_rigs(rig_dir))})"
        )
    misfit = pool_misfit(
        pool, [(shown_path(m.path or m.name), m.settings.labgrid) for m in members]
    )
    if misfit:
        raise RigConfigError(misfit)
    return members


def known_rigs(rig_dir: Path) -> list[str]:
    found = {p.stem for p in rig_dir.glob("*.toml")} if rig_dir.is_dir() else set()
    return sorted(found | {SIM_RIG})


def load_rig(name: str, rig_dir: Path) -> Rig:
    """Resolve ``name`` in ``rig_dir``; ``sim`` exists even without a file."""
    check_name(name)
    path = rig_dir / f"{name}.toml"
    shown = shown_path(path)
    if not path.is_file():
        if name == SIM_RIG:
            return Rig(name, RigSettings(kind="sim"), None)
        raise RigConfigError(
            f"unknown rig {name!r}: no file {shown}. Known rigs: {', '.join(known_rigs(rig_dir))}"
        )
    data = _read_toml(path)
    if name == SIM_RIG:
        data.setdefault("kind", "sim")
    try:
        settings = RigSettings.model_validate(data)
    except ValidationError as exc:
        message = _explain(path, exc)
        if "kind" not in data and "sim" in data:
            message += (
                "\n  (this file has a [sim] table but no kind: a rig other than 'sim' is a "
                'hardware rig unless it says kind = "sim")'
            )
        raise RigConfigError(message) from None
    settings = _resolve_paths(settings, path.parent, path)
    elf = settings.firmware.elf
    if elf is not None and not elf.is_file():
        raise RigConfigError(
            f"{shown}: invalid rig file\n  field firmware.elf: {elf} is not a file: give the "
            "firmware's ELF (relative to the rig file), or leave the field out"
        )
    return Rig(name, settings, path)


def _read_toml(path: Path) -> dict[str, Any]:
    shown = shown_path(path)
    try:
        with path.open("rb") as fh:
            raw = fh.read(MAX_RIG_FILE_BYTES + 1)
    except OSError as exc:
        raise RigConfigError(f"{shown}: cannot be read: {exc.strerror}") from None
    if len(raw) > MAX_RIG_FILE_BYTES:
        raise RigConfigError(
            f"{shown}: larger than {MAX_RIG_FILE_BYTES // 1024} KiB, far more than a rig file "
            "holds; check that --rig names the right file"
        )
    text = _utf8_text(path, raw)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RigConfigError(
            f"{shown}: not valid TOML: {exc}. Fix the syntax at that spot."
        ) from None
    except RecursionError:
        raise RigConfigError(
            f"{shown}: not valid TOML here: arrays or inline tables are nested too deeply "
            "for a rig file. Flatten them."
        ) from None


def _utf8_text(path: Path, raw: bytes) -> str:
    """The file as text; TOML files are UTF-8 (a UTF-8 byte-order mark is tolerated)."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        shown = shown_path(path)
        line = raw.count(b"\n", 0, exc.start) + 1
        guess = (
            " (it starts with a UTF-16 byte-order mark)"
            if raw[:2] in (b"\xff\xfe", b"\xfe\xff")
            else ""
        )
        raise RigConfigError(
            f"{shown}: not UTF-8 text{guess}: byte 0x{raw[exc.start]:02x} at offset {exc.start} "
            f"(line {line}) cannot be decoded. TOML files must be UTF-8: save the file as "
            "UTF-8 (or replace that character)."
        ) from None


def _explain(path: Path, exc: ValidationError) -> str:
    shown = shown_path(path)
    lines = [f"{shown}: invalid rig file"]
    for err in exc.errors():
        field = ".".join(str(p) for p in err["loc"]) or "(top level)"
        if err["type"] == "extra_forbidden":
            hint = (
                "unknown field: remove it or check its spelling against the README's rig reference"
            )
        elif err["type"] == "literal_error":
            hint = f"{err['msg']}"
        else:
            hint = err["msg"].removeprefix("Value error, ")
            if "input" in err and not isinstance(err["input"], dict):
                hint += f" (got {_shown(err['input'])})"
        lines.append(f"  field {field}: {hint}")
    return "\n".join(lines)


def _shown(value: object, limit: int = 80) -> str:
    """A value as the file gave it, cut short: an error message must stay readable."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 1]}… ({len(text)} characters)"


def _resolve_paths(settings: RigSettings, base: Path, rig_file: Path) -> RigSettings:
    """Relative paths in a rig file are relative to the file, not to the working directory."""

    def fix(p: Path | None) -> Path | None:
        return p if p is None or p.is_absolute() else (base / p).resolve()

    process = settings.process
    return settings.model_copy(
        update={
            "process": process and resolve_process(process, base, rig_file),
            "firmware": settings.firmware.model_copy(
                update={"image": fix(settings.firmware.image), "elf": fix(settings.firmware.elf)}
            ),
            "app": settings.app.model_copy(
                update={
                    "rpk": fix(settings.app.rpk),
                    "under_test": fix(settings.app.under_test),
                    "dir": fix(settings.app.dir),
                    "android_cert": fix(settings.app.android_cert),
                }
            ),
        }
    )
