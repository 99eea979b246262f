"""Choosing the rigs a run uses, as users run pytest: ``--rig`` repeated or comma-separated,
``VELA_RIG``, ``--rig-dir``; and a rig name, rig file or value that cannot work stops the run at
start-up as a usage error naming the file, the field and the fix."""

from __future__ import annotations

import re

import pytest

from tests.support.plugin_runs import run
from tests.support.rigs import FAST_SIM, write_rig

RIG_ONLY = """
    def test_rig(rig):
        print(f"RIG={rig.name}:{rig.kind}")
"""


@pytest.fixture
def two_rigs(project: pytest.Pytester) -> pytest.Pytester:
    write_rig(project.path / "rigs", "alpha", FAST_SIM)
    write_rig(project.path / "rigs", "beta", FAST_SIM)
    project.makepyfile(test_rigs=RIG_ONLY)
    return project


@pytest.mark.parametrize(
    ("args", "order"),
    [
        (("--rig", "alpha", "--rig", "beta"), ["alpha", "beta"]),
        (("--rig", "alpha,beta"), ["alpha", "beta"]),
        (("--rig=beta,alpha", "--rig", "beta"), ["beta", "alpha"]),
    ],
    ids=["repeated", "comma", "dedup"],
)
def test_rig_option_is_repeatable_and_comma_separated(
    two_rigs: pytest.Pytester, args: tuple[str, ...], order: list[str]
) -> None:
    result = run(two_rigs, "-s", *args)
    result.assert_outcomes(passed=2)
    seen = re.findall(r"RIG=(\w+:\w+)", result.stdout.str())
    assert seen == [f"{name}:sim" for name in order]


def test_vela_rig_environment_variable(
    two_rigs: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VELA_RIG", "beta")
    result = run(two_rigs, "-s")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*RIG=beta:sim*"])


def test_rig_dir_option(project: pytest.Pytester) -> None:
    write_rig(project.path / "farm", "slot3", FAST_SIM)
    project.makepyfile(test_rigs=RIG_ONLY)
    result = run(project, "-s", "--rig-dir", "farm", "--rig", "slot3")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*RIG=slot3:sim*"])


def test_unknown_rig_fails_at_start_up_listing_the_known_rigs(two_rigs: pytest.Pytester) -> None:
    result = run(two_rigs, "--rig", "gamma")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*unknown rig 'gamma'*Known rigs: alpha, beta, sim*"])


def test_rig_names_that_are_paths_are_refused(two_rigs: pytest.Pytester) -> None:
    result = run(two_rigs, "--rig", "rigs/alpha")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*'rigs/alpha' is not a plain name*"])


@pytest.mark.parametrize(
    ("args", "env", "source"),
    [
        (("--rig", ""), None, "--rig ('')"),
        (("--rig", ","), None, "--rig (',')"),
        (("--rig", " , ", "--rig", ""), None, "--rig (' , ', '')"),
        ((), ",", "VELA_RIG (',')"),
        ((), "", "VELA_RIG ('')"),
    ],
    ids=["rig-empty", "rig-comma", "rig-blanks", "env-comma", "env-empty"],
)
def test_a_rig_option_that_names_no_rig_is_a_usage_error(
    two_rigs: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    args: tuple[str, ...],
    env: str | None,
    source: str,
) -> None:
    if env is not None:
        monkeypatch.setenv("VELA_RIG", env)
    result = run(two_rigs, *args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [f"*no rig named in {source}: name one or more rigs*known rigs: alpha, beta, sim*"]
    )
    assert "INTERNALERROR" not in result.stdout.str() + result.stderr.str()


def test_an_ini_setting_that_names_no_rig_is_a_usage_error(two_rigs: pytest.Pytester) -> None:
    two_rigs.makeini("[pytest]\nvela_rig = ,\n")
    result = run(two_rigs)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*no rig named in the ini setting vela_rig (',')*vela_rig = *"])


def test_a_bad_rig_file_stops_the_run_naming_file_and_field(project: pytest.Pytester) -> None:
    write_rig(project.path / "rigs", "bad", FAST_SIM + "\n[serial]\nbaud = 0\n")
    project.makepyfile(test_rigs=RIG_ONLY)
    result = run(project, "--rig", "bad")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*rigs/bad.toml: invalid rig file*", "*field serial.baud*"])


def test_a_rig_file_that_is_not_utf8_stops_the_run_naming_it(project: pytest.Pytester) -> None:
    (project.path / "rigs" / "latin.toml").write_bytes('description = "café"\n'.encode("latin-1"))
    project.makepyfile(test_rigs=RIG_ONLY)
    result = run(project, "--rig", "latin")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*rigs/latin.toml: not UTF-8 text*save the file as UTF-8*"])
    assert "Traceback" not in result.stderr.str()


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ('[app]\nrpk = "agent\\u0000.rpk"\n', "field app.rpk: contains a NUL byte*"),
        ("[ble]\nscan_timeout = inf\n", "field ble.scan_timeout: must be a finite number*"),
        ('[app]\nrpk = ""\n', "field app.rpk: empty path*"),
        ('[serial]\ncrash_marker = ""\n', "field serial.crash_marker: must not be empty*"),
    ],
    ids=["nul", "inf", "empty-path", "no-crash-marker"],
)
def test_a_bad_value_stops_the_run_at_start_up(
    project: pytest.Pytester, body: str, says: str
) -> None:
    write_rig(project.path / "rigs", "odd", FAST_SIM + body)
    project.makepyfile(test_rigs=RIG_ONLY)
    result = run(project, "--rig", "odd")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*rigs/odd.toml: invalid rig file*", f"*{says}"])
