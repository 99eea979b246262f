"""Link profiles in rig files: what a profile sets, what a rig expects, the errors that name
the fix, and a user's app tested under both profiles in one run (``--rig sim,sim-openvela``)."""

from __future__ import annotations

import re
import shutil
import tomllib
from pathlib import Path

import pytest

from pytest_vela.errors import RigConfigError
from pytest_vela.rigfile.loader import load_rig
from tests.support.rigs import write_rig
from tests.test_quickapps import EXAMPLE, pingpong

__all__ = ["pingpong"]  # the example app, built once for this module

ROOT = Path(__file__).resolve().parents[1]


def test_a_rig_files_profile_sets_its_rules_and_a_written_rule_wins(tmp_path: Path) -> None:
    write_rig(
        tmp_path,
        "ov",
        """
        kind = "sim"
        [sim.interconnect]
        profile = "openvela"
        later_open_reconnected = true
        """,
    )
    rules = load_rig("ov", tmp_path).settings.sim.interconnect
    assert (rules.profile, rules.first_open_reconnected, rules.loss_events) == (
        "openvela",
        True,
        ["close"],
    )
    assert rules.later_open_reconnected is True  # written: it wins over the profile's false


def test_an_unknown_profile_is_refused_naming_the_field_and_the_choices(tmp_path: Path) -> None:
    path = write_rig(tmp_path, "bad", 'kind = "sim"\n[sim.interconnect]\nprofile = "openvla"\n')
    with pytest.raises(RigConfigError) as err:
        load_rig("bad", tmp_path)
    message = str(err.value)
    assert message.startswith(f"{path}: invalid rig file")
    assert "field sim.interconnect.profile" in message
    assert "'documented' or 'openvela'" in message


def test_a_simulated_rig_of_another_name_is_told_it_needs_kind_sim(tmp_path: Path) -> None:
    write_rig(tmp_path, "sim-openvela", '[sim.interconnect]\nprofile = "openvela"\n')
    with pytest.raises(RigConfigError, match=r'unless it says kind = "sim"'):
        load_rig("sim-openvela", tmp_path)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('kind = "sim"', "documented"),
        ('kind = "sim"\n[sim.interconnect]\nprofile = "openvela"', "openvela"),
        ('kind = "sim"\n[conformance]\nprofile = "any"', None),
        ('kind = "sim"\n[conformance]\nprofile = "openvela"', "openvela"),
        ('serial.port = "/dev/x"\nble.name = "w"', None),
        ('serial.port = "/dev/x"\nble.name = "w"\n[conformance]\nprofile = "openvela"', "openvela"),
    ],
    ids=["sim", "sim-openvela", "sim-any", "sim-expects-other", "hardware", "hardware-declared"],
)
def test_the_profile_a_rig_expects(tmp_path: Path, body: str, expected: str | None) -> None:
    write_rig(tmp_path, "r", body)
    assert load_rig("r", tmp_path).settings.expected_link_profile == expected


def test_the_readme_shows_the_shipped_openvela_rig() -> None:
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"```toml\n# rigs/sim-openvela.toml\n(.*?)```", readme, re.S)
    assert block is not None
    shown = tomllib.loads(block.group(1))
    shipped = tomllib.loads((ROOT / "rigs" / "sim-openvela.toml").read_text())
    assert shown["kind"] == shipped["kind"] == "sim"
    assert shown["sim"]["interconnect"] == shipped["sim"]["interconnect"] == {"profile": "openvela"}


def test_an_app_test_runs_under_both_profiles_in_one_run(
    pytester: pytest.Pytester, pingpong: Path
) -> None:
    """The README's example: the ping-pong app's own tests, once per rig; the two that rely on
    the documented isReconnected and loss events fail on the openvela simulator, as quoted."""
    rigs = pytester.path / "rigs"
    rigs.mkdir()
    shutil.copy(ROOT / "rigs" / "sim-openvela.toml", rigs)
    shutil.copy(EXAMPLE / "tests" / "test_pingpong.py", pytester.path)
    app = pytester.mkdir("dist") / pingpong.name  # in the project, as a user builds it
    shutil.copy(pingpong, app)
    result = pytester.runpytest_subprocess(
        f"--vela-app={app}", "--rig", "sim,sim-openvela", "-p", "no:cacheprovider"
    )
    result.assert_outcomes(passed=8, failed=2)
    readme = (ROOT / "README.md").read_text()
    for test in ["test_reconnects_are_counted", "test_the_app_logs_the_link_loss"]:
        assert f"FAILED tests/test_pingpong.py::{test}[sim-openvela]" in readme
        result.stdout.re_match_lines([rf"FAILED test_pingpong.py::{test}\[sim-openvela\].*"])
    assert "assert 1 == (1 + 1)" in readme
    result.stdout.re_match_lines([r"E\s+assert 1 == \(1 \+ 1\)"])
    result.stdout.no_re_match_line(r"FAILED .*\[sim\]")
