"""``--flash`` as users run it: a new image is flashed, with its progress on the terminal, the
image the watch already runs is left alone under ``auto``, and ``never`` never flashes."""

from __future__ import annotations

import os

import pytest

from tests.support.plugin_runs import console_log, run
from tests.support.rigs import FAST_SIM, write_rig

FLASH_TEST = "def test_up(watch):\n    assert watch.shell('echo up') == 'up\\n'\n"


def _flash_rig(project: pytest.Pytester, image: bytes) -> None:
    (project.path / "rigs" / "fw.bin").write_bytes(image)
    write_rig(project.path / "rigs", "sim", FAST_SIM + '\n[firmware]\nimage = "fw.bin"\n')
    project.makepyfile(test_up=FLASH_TEST)


@pytest.mark.parametrize("mode", ["auto", "always"])
def test_flash_option_flashes_a_new_image(project: pytest.Pytester, mode: str) -> None:
    _flash_rig(project, os.urandom(10_000))
    result = run(project, "--flash", mode)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*sim: flashed fw.bin*"])
    assert "> ota /data/fw.bin" in console_log(project)


def test_flash_auto_skips_the_image_the_watch_already_runs(project: pytest.Pytester) -> None:
    _flash_rig(project, b"vela-sim factory image\n")  # what the simulated watch boots with
    result = run(project, "--flash", "auto")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*sim: already runs fw.bin*"])
    assert "> rb" not in console_log(project)


def test_flash_progress_reaches_the_terminal_without_dash_s(project: pytest.Pytester) -> None:
    _flash_rig(project, os.urandom(10_000))
    result = run(project, "--flash", "always")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*sim: flashed fw.bin*"])


def test_flash_never_leaves_the_watch_alone(project: pytest.Pytester) -> None:
    _flash_rig(project, os.urandom(10_000))
    result = run(project, "--flash", "never")
    result.assert_outcomes(passed=1)
    assert "fw.bin" not in result.stdout.str()
    assert "> rb" not in console_log(project)
