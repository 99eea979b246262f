"""The simulated shell says what real NuttX says, shape for shape, so that it cannot drift:
each command's output from the simulated shell is held against the shared transcripts of the
real builds (apache's and the Vela fork's), and so are the live builds themselves, run on a
pty (they start in half a second)."""

from __future__ import annotations

import re

import pytest

from tests.support.shells import (
    CRASH_COMMAND,
    Session,
    live_session,
    sim_session,
    transcript_session,
)

COMMANDS = ["uname -a", "ps", "free", "ls /", "help", "frobnicate", CRASH_COMMAND]
DIALECTS = ["apache", "vela"]
UNAME_A = re.compile(
    r"^(?P<sysname>\S+) (?P<release>\d+\.\d+\.\d+) "
    r"(?P<version>\S+ [A-Z][a-z]{2} [ \d]\d \d{4} \d\d:\d\d:\d\d) (?P<machine>\S+) (?P<board>\S+)$"
)
NOT_FOUND = re.compile(r"^nsh: \S+: command not found$")
ASSERTION = re.compile(
    r"^dump_assert_info: Assertion failed .*: at file: \S+:\d+ task: \S+ process: \S+ 0x[0-9a-f]+$"
)
VERSION = re.compile(r"^dump_assert_info: Current Version: NuttX {2}\d+\.\d+\.\d+ .+ \S+$")
BACKTRACE = re.compile(r"^sched_dumpstack: backtrace\|[ \d]\d:( 0x[0-9a-f]{16}){1,8}$")


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Session]:
    return {
        dialect: sim_session(dialect, tmp_path_factory.mktemp(f"sim-{dialect}"), COMMANDS)
        for dialect in DIALECTS
    }


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Session]:
    """Each real build, asked every command (the crash last: it ends the shell). The Vela
    build prints nothing for an assertion (its debug assertions are off): it is not asked."""
    return {
        dialect: live_session(
            dialect,
            tmp_path_factory.mktemp(f"live-{dialect}"),
            COMMANDS if dialect == "apache" else COMMANDS[:-1],
        )
        for dialect in DIALECTS
    }


def _shell(
    kind: str, dialect: str, sim: dict[str, Session], request: pytest.FixtureRequest
) -> Session:
    """The simulated shell, or the live build (started only when a test asks for it)."""
    sessions: dict[str, Session] = sim if kind == "sim" else request.getfixturevalue("live")
    return sessions[dialect]


KINDS = ["sim", "live"]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("dialect", DIALECTS)
def test_the_boot_greeting_is_byte_for_byte_the_real_one(
    kind: str, dialect: str, sim: dict[str, Session], request: pytest.FixtureRequest
) -> None:
    assert _shell(kind, dialect, sim, request).boot == transcript_session(dialect).boot


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("dialect", DIALECTS)
def test_uname_a_has_the_real_field_layout(
    kind: str, dialect: str, sim: dict[str, Session], request: pytest.FixtureRequest
) -> None:
    (real,) = transcript_session(dialect).lines("uname -a")
    (said,) = _shell(kind, dialect, sim, request).lines("uname -a")
    real_fields, said_fields = UNAME_A.match(real), UNAME_A.match(said)
    assert real_fields and said_fields, (real, said)
    for field in ("sysname", "machine", "board"):
        assert said_fields[field] == real_fields[field]


def _column_ends(header: str) -> list[int]:
    return [match.end() for match in re.finditer(r"\S+", header)]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("dialect", DIALECTS)
def test_ps_has_the_dialects_header_and_rows_in_its_columns(
    kind: str, dialect: str, sim: dict[str, Session], request: pytest.FixtureRequest
) -> None:
    real = transcript_session(dialect).lines("ps")
    said = _shell(kind, dialect, sim, request).lines("ps")
    assert said[0] == real[0]
    header = real[0]
    fixed = ("SIGMASK", "STACK", "COMMAND")
    starts = {name: header.index(name) for name in fixed}
    for row in [*real[1:], *said[1:]]:
        numbers = re.match(r"^ *(\d+ +){3}", row)
        assert numbers, row
        assert re.fullmatch(r"[0-9a-f]{16}", row[starts["SIGMASK"] : starts["SIGMASK"] + 16])
        stack_end = starts["STACK"] + len("STACK")
        assert re.fullmatch(r"\d{7}", row[stack_end - 7 : stack_end]), row
        assert row[starts["COMMAND"] - 1] == " " and row[starts["COMMAND"]] != " ", row
    assert said[1].split()[-1] == "Idle_Task"
    assert any(row[starts["COMMAND"] :] == "nsh_main" for row in said[1:])


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("dialect", DIALECTS)
def test_free_is_a_table_whose_row_ends_umem(
    kind: str, dialect: str, sim: dict[str, Session], request: pytest.FixtureRequest
) -> None:
    real = transcript_session(dialect).lines("free")
    said = _shell(kind, dialect, sim, request).lines("free")
    assert said[0] == real[0]
    ends = _column_ends(real[0])
    for row in (real[1], said[1]):
        assert row.endswith(" Umem")
        assert _column_ends(row)[:-1] == ends[:-1], row  # numbers right-aligned under names
        assert all(word.isdigit() for word in row.split()[:-1])


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("dialect", DIALECTS)
def test_ls_root_names_the_folder_then_its_entries(
    kind: str, dialect: str, sim: dict[str, Session], request: pytest.FixtureRequest
) -> None:
    real = transcript_session(dialect).lines("ls /")
    said = _shell(kind, dialect, sim, request).lines("ls /")
    assert said[0] == real[0] == "/:"
    assert all(re.fullmatch(r" \S+/", entry) for entry in said[1:])
    # The simulated watch has /data on either build: a watch keeps its apps there.
    assert set(real[1:]) <= set(said[1:]) <= {*real[1:], " data/"}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("dialect", DIALECTS)
def test_help_is_laid_out_as_nsh_lays_it_out(
    kind: str, dialect: str, sim: dict[str, Session], request: pytest.FixtureRequest
) -> None:
    real = transcript_session("apache").lines("help")  # the one transcript of help
    said = _shell(kind, dialect, sim, request).lines("help")
    for lines in (real, said):
        assert lines[:2] == ["help usage:  help [-v] [<cmd>]", ""]
        apps = lines.index("Builtin Apps:")
        assert lines[apps - 1] == ""
        for table in (lines[2 : apps - 1], lines[apps + 1 :]):
            names = " ".join(table).split()
            width = max(len(name) for name in names) + 4
            for row in table:
                assert row.startswith("    ") and len(row) % width == 4, (row, width)
                cells = [row[i : i + width] for i in range(4, len(row), width)]
                assert all(cell.rstrip() in names and " " not in cell.rstrip() for cell in cells)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("dialect", DIALECTS)
def test_an_unknown_command_is_said_as_nsh_says_it(
    kind: str, dialect: str, sim: dict[str, Session], request: pytest.FixtureRequest
) -> None:
    (real,) = transcript_session("vela").lines("reboot")  # the Vela build has no reboot
    assert NOT_FOUND.match(real)
    assert _shell(kind, dialect, sim, request).lines("frobnicate") == [
        "nsh: frobnicate: command not found"
    ]


@pytest.mark.parametrize(
    ("kind", "dialect"), [("sim", "apache"), ("sim", "vela"), ("live", "apache")]
)
def test_a_crash_prints_the_real_lines_in_the_real_order(
    kind: str, dialect: str, sim: dict[str, Session], request: pytest.FixtureRequest
) -> None:
    real = transcript_session("apache").lines(CRASH_COMMAND)
    said = _shell(kind, dialect, sim, request).lines(CRASH_COMMAND)
    if "" in said:  # the simulated watch boots again after its crash: "", the greeting
        said = said[: said.index("")]
    for lines in (real, said):
        assert lines[0] == "Calling 0x400042e2"
        assert VERSION.match(lines[1]) and ASSERTION.match(lines[2]), lines
        assert lines[3:] and all(BACKTRACE.match(line) for line in lines[3:]), lines
