"""Code addresses of a firmware ELF as function and file:line, for a crash's backtrace.

Decoded with pyelftools, not binutils' ``addr2line``. Both were measured on NuttX's
``sim:nsh`` build (x86-64, DWARF 5) for the 20 addresses of a crash's three backtrace lines
(``tests/benchmarks/bench_process_rig.py`` prints both figures):

- the same function and line for every address (functions named as their compilation unit
  names them, as ``addr2line -f`` does: the Vela fork's ``NXexit`` is ``exit``); the file
  paths differ only where ``addr2line`` (binutils 2.40) joins a DWARF-5 compilation directory
  to itself (``apps/nshlib/apps/nshlib/nsh_proccmds.c`` for ``apps/nshlib/nsh_proccmds.c``),
  and where it names the unit's own source for DWARF-5 file 1 (a header's static inline
  function copied into a unit: ``up_current_regs`` shows as ``fs_write.c:129``, which its
  ``DW_AT_decl_file`` says is ``irq.h``); here the line table's file is taken as it is;
- ``addr2line``: 36 ms a crash (median of 7), a program to find; pyelftools: 0.6 s (0.4 to
  1.0) for the first crash of a run (reading the symbol table, the address ranges and the
  units' functions), 0.4 ms for each later one, since all of it stays loaded.

pyelftools wins on being there: a pure-Python dependency of the plugin, installed with it on
any machine a developer or a CI job runs on (binutils is absent from macOS, Windows and
slim containers, and a host's ``addr2line`` may not know a watch's architecture), with no
process per crash. A crash happens rarely enough that its first decoding's 0.3 s does not
matter against the tens of seconds a watch takes to reboot after it; it is paid only when a
crash has a backtrace and the rig names ``firmware.elf``.

Addresses are looked up as printed, as ``addr2line`` does: a backtrace's return address can
name the line after the call.
"""

from __future__ import annotations

import bisect
import threading
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any


@dataclass(frozen=True)
class Frame:
    """One decoded backtrace address: the function that holds it and its source line."""

    address: int
    function: str | None = None
    file: str | None = None
    line: int | None = None

    @property
    def location(self) -> str:
        if self.file is None:
            return "??"
        return f"{self.file}:{self.line}" if self.line else self.file

    def render(self) -> str:
        return f"0x{self.address:x} {self.function or '??'} at {self.location}"


Row = tuple[int, int, int, int]  # a line table row: address, file, end of sequence, line


class SymbolError(Exception):
    """The ELF cannot be read (not an ELF, no symbols)."""


class Symbols:
    """An ELF's functions (symbol table) and line tables (DWARF), loaded on first use and
    kept; ``decode`` is safe to call from any thread."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._loaded = False
        self._starts: list[int] = []
        self._functions: list[tuple[int, int, str]] = []  # (start, size, name), sorted
        self._dwarf: Any = None
        self._aranges: Any = None
        self._lines: dict[int, tuple[Any, list[int], list[Row]]] = {}
        self._file: Any = None
        self._cu_functions: dict[int, list[tuple[int, int, str]]] = {}

    def decode(self, addresses: list[int]) -> list[Frame]:
        with self._lock:
            self._load()
            return [self._frame(address) for address in addresses]

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None

    # --- loading ---------------------------------------------------------------------------

    def _load(self) -> None:
        if self._loaded:
            return
        from elftools.common.exceptions import ELFError
        from elftools.elf.elffile import ELFFile
        from elftools.elf.sections import SymbolTableSection

        try:
            self._file = self.path.open("rb")
            elf = ELFFile(self._file)
            symtab = elf.get_section_by_name(".symtab")
            if not isinstance(symtab, SymbolTableSection):
                raise SymbolError(f"{self.path} has no symbol table (stripped?)")
            functions = [
                (sym["st_value"], sym["st_size"], sym.name)
                for sym in symtab.iter_symbols()
                if sym["st_info"]["type"] == "STT_FUNC" and sym["st_value"]
            ]
            functions.sort()
            self._functions = functions
            self._starts = [start for start, _, _ in functions]
            if elf.has_dwarf_info():
                self._dwarf = elf.get_dwarf_info()
                self._aranges = self._dwarf.get_aranges()
        except (OSError, ELFError) as exc:
            raise SymbolError(f"{self.path} cannot be read as an ELF: {exc}") from None
        self._loaded = True

    # --- lookups -------------------------------------------------------------------------

    def _frame(self, address: int) -> Frame:
        function = self._dwarf_function(address) or self._function(address)
        where = self._source(address)
        if where is None:
            return Frame(address, function)
        return Frame(address, function, where[0], where[1])

    def _dwarf_function(self, address: int) -> str | None:
        """The function as its compilation unit names it (two symbols can share an address:
        the Vela fork's ``NXexit`` is ``exit``), as ``addr2line -f`` names it."""
        if self._aranges is None:
            return None
        offset = self._aranges.cu_offset_at_addr(address)
        if offset is None:
            return None
        functions = self._cu_functions.get(offset)
        if functions is None:
            functions = self._cu_functions[offset] = _subprograms(self._dwarf.get_CU_at(offset))
        for low, high, name in functions:
            if low <= address < high:
                return name
        return None

    def _function(self, address: int) -> str | None:
        i = bisect.bisect_right(self._starts, address) - 1
        if i < 0:
            return None
        start, size, name = self._functions[i]
        return name if address < start + max(size, 1) else None

    def _source(self, address: int) -> tuple[str, int] | None:
        if self._aranges is None:
            return None
        offset = self._aranges.cu_offset_at_addr(address)
        if offset is None:
            return None
        program, keys, rows = self._line_table(offset)
        i = bisect.bisect_right(keys, address) - 1
        if i < 0 or rows[i][2]:  # before the table, or past the end of a sequence
            return None
        _, file_index, _, line = rows[i]
        return self._file_name(program, file_index, offset), line

    def _line_table(self, offset: int) -> tuple[Any, list[int], list[Row]]:
        """A compilation unit's line table as rows (address, file, end of sequence, line),
        sorted by address; at one address an end of sequence comes before the rows of the
        sequence that starts there, so the last row at or below an address is the one that
        covers it."""
        cached = self._lines.get(offset)
        if cached is not None:
            return cached
        program = self._dwarf.line_program_for_CU(self._dwarf.get_CU_at(offset))
        rows: list[Row] = [
            (state.address, state.file, int(state.end_sequence), state.line)
            for state in (entry.state for entry in program.get_entries())
            if state is not None
        ]
        rows.sort(key=lambda row: (row[0], -row[2]))
        table = (program, [row[0] for row in rows], rows)
        self._lines[offset] = table
        return table

    def _file_name(self, program: Any, index: int, offset: int) -> str:
        """A line table's file as a path: its directory joined to the compilation directory
        (DWARF 5 numbers files and directories from 0, which is the compilation unit's own;
        earlier versions from 1)."""
        version = program.header["version"]
        entries = program["file_entry"]
        entry = entries[index if version >= 5 else index - 1]
        name = _text(entry.name)
        directories = program["include_directory"]
        if version >= 5:
            directory = _text(directories[entry.dir_index]) if directories else ""
            base = _text(directories[0]) if directories else ""
            if entry.dir_index and not directory.startswith("/"):
                directory = str(PurePosixPath(base, directory))
        else:
            directory = _text(directories[entry.dir_index - 1]) if entry.dir_index else ""
            if not directory.startswith("/"):
                directory = str(PurePosixPath(self._comp_dir(offset), directory))
        return str(PurePosixPath(directory, name)) if directory else name

    def _comp_dir(self, offset: int) -> str:
        top = self._dwarf.get_CU_at(offset).get_top_DIE()
        comp_dir = top.attributes.get("DW_AT_comp_dir")
        return _text(comp_dir.value) if comp_dir is not None else ""


def _subprograms(cu: Any) -> list[tuple[int, int, str]]:
    """A compilation unit's functions with code: (low, high, name)."""
    found = []
    for die in cu.get_top_DIE().iter_children():
        attrs = die.attributes
        if die.tag != "DW_TAG_subprogram" or "DW_AT_low_pc" not in attrs:
            continue
        if "DW_AT_name" not in attrs or "DW_AT_high_pc" not in attrs:
            continue
        low = attrs["DW_AT_low_pc"].value
        high = attrs["DW_AT_high_pc"]
        # DWARF 4 on: a high_pc of a constant class is the length.
        end = high.value if high.form == "DW_FORM_addr" else low + high.value
        found.append((low, end, _text(attrs["DW_AT_name"].value)))
    return found


def _text(value: bytes | str) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else value
