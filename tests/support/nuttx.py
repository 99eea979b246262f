"""The real NuttX builds (``shared/nuttx-sim/``: the apache tree's and the Vela fork's
``sim:nsh``) for tests that run the harness against them as process rigs.

Found through ``VELA_NUTTX_SIM_DIR``, else in ``shared/nuttx-sim`` of an ancestor directory of
the repository (a clone beside ``shared/`` finds it). Without them the tests skip naming the
variable. Under CI (``VELA_CI=1``, set by ``.ci/run``) a build missing from a directory that
was named or found fails its tests instead; a clone with no such directory anywhere above it
skips them, and ``.ci/run`` says so at its start.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from textwrap import dedent

import pytest

# The rig file's defaults are NuttX's markers; the test rigs name them all the same.
from pytest_vela.rigfile.schema import NUTTX_BOOT_MARKER as NUTTX_BOOT_MARKER
from pytest_vela.rigfile.schema import NUTTX_CRASH_MARKER as NUTTX_CRASH_MARKER
from tests.support.rigs import write_rig
from tests.support.tools import missing

ENV_DIR = "VELA_NUTTX_SIM_DIR"
REPO = Path(__file__).resolve().parents[2]
BUILDS = {"apache": "nuttx-apache-sim", "vela": "nuttx-vela-sim"}


def nuttx_sim_dir() -> Path | None:
    """The directory that holds the NuttX builds, or None when there is none."""
    given = os.environ.get(ENV_DIR)
    if given:
        return Path(given)
    for parent in REPO.parents:
        candidate = parent / "shared" / "nuttx-sim"
        if candidate.is_dir():
            return candidate
    return None


def nuttx_build(name: str) -> Path:
    """The executable of build ``name`` (``apache`` or ``vela``); skips without it, or fails
    under CI (``tests/support/tools.missing``)."""
    where = nuttx_sim_dir()
    path = where / BUILDS[name] if where is not None else None
    if path is not None and path.is_file() and os.access(path, os.X_OK):
        return path
    why = (
        f"the NuttX {name} build is not at {path}"
        if path is not None
        else "no shared/nuttx-sim directory above the repository"
    )
    nuttx_missing(f"{why}: set {ENV_DIR} to the directory holding {BUILDS[name]}")
    raise AssertionError("unreachable")  # skipped or failed


def nuttx_missing(message: str) -> None:
    """A NuttX build is not here: skip, or fail under CI where the builds' directory is known
    (named, or found above the repository) — then a missing build is a broken set-up."""
    __tracebackhide__ = True
    if nuttx_sim_dir() is None:
        pytest.skip(message)
    missing(message)


def symbol_address(elf: Path, name: str) -> int:
    """Where function ``name`` is in ``elf``, from its symbol table (what ``nm`` lists)."""
    from elftools.elf.elffile import ELFFile
    from elftools.elf.sections import SymbolTableSection

    with elf.open("rb") as fh:
        symtab = ELFFile(fh).get_section_by_name(".symtab")
        assert isinstance(symtab, SymbolTableSection), f"{elf} has no symbol table"
        for symbol in symtab.get_symbol_by_name(name) or []:
            if symbol["st_info"]["type"] == "STT_FUNC":
                return int(symbol["st_value"])
    raise LookupError(f"{name} is not a function in {elf}'s symbols")


def process_rig(build: Path, **extra: str) -> str:
    """A process rig file's text for ``build``, with NuttX's real markers and short timeouts;
    ``extra`` adds top-level tables' lines (``{"firmware": 'elf = "…"'}``)."""
    tables = {
        "process": f"command = ['{build}']",
        "serial": f"boot_marker = '{NUTTX_BOOT_MARKER}'\ncrash_marker = '{NUTTX_CRASH_MARKER}'",
        "timeouts": "boot = 5\nshell = 3",
    }
    for table, lines in extra.items():
        tables[table] = f"{tables[table]}\n{lines}" if table in tables else lines
    body = 'kind = "process"\n'
    for table, lines in tables.items():
        body += f"\n[{table}]\n{lines}\n"
    return body


def run_on_nuttx(
    root: Path, rig_name: str, rig_text: str, tests: str, *args: str, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run ``tests`` (a test file's text) with pytest in a process of its own on the process
    rig ``rig_name``, as a user runs it, with every outcome in the summary (``-rA``)."""
    (root / "pytest.ini").write_text("[pytest]\n")
    write_rig(root / "rigs", rig_name, rig_text)
    (root / "test_nuttx.py").write_text(dedent(tests))
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-rA",
            "--rig",
            rig_name,
            "test_nuttx.py",
            *args,
        ],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "COLUMNS": "300"},
    )


def programs_of(build: Path, marker: str) -> list[int]:
    """The running processes of ``build`` whose environment holds ``marker`` (a test's own
    ``VELA_TEST_RUN=…``: other runs of the same build on this machine are not the test's)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if Path(os.readlink(entry / "exe")) != build.resolve():
                continue
            environ = (entry / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if marker.encode() in environ:
            found.append(int(entry.name))
    return found


def transcript_output(name: str) -> bytes:
    """What the build printed in ``transcript-<name>.txt``, as raw bytes: the file holds it
    escaped, broken after each ``\\n``, with the commands typed on ``##>> …`` lines between."""
    where = nuttx_sim_dir()
    path = where / f"transcript-{name}.txt" if where is not None else None
    if path is None or not path.is_file():
        nuttx_build("apache" if name.startswith("apache") else "vela")  # skips or fails
        pytest.fail(f"the builds are there but not {path}")
    kept: list[str] = []
    for line in path.read_text().splitlines():
        if line.startswith("##>>"):
            # The line before a command is the prompt, which ends no line: the "\n" the
            # transcript put after it is its own.
            if kept and kept[-1].endswith("\\n") and not kept[-1].endswith("\\r\\n"):
                kept[-1] = kept[-1][:-2]
            continue
        if line not in ("'", ""):
            kept.append(line)
    text = "".join(kept).replace("''", "").strip("'")
    return text.encode("latin-1").decode("unicode_escape").encode("latin-1")
