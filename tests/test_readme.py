"""The README's example tests run as written: all of them against the simulated watch, and
the shell example against real NuttX too (both shared sim builds, on a pty)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pytest_vela.device.watch import Watch
from tests.support.nuttx_pty import watch_on_nuttx
from tests.support.rigs import make_rpk

README = Path(__file__).resolve().parents[1] / "README.md"


def _example() -> str:
    blocks: list[str] = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    return next(block for block in blocks if "def test_link_loss" in block)


def test_the_readme_examples_pass(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_readme_example=_example())
    dist = pytester.mkdir("dist")
    make_rpk(dist / "com.example.app.debug.1.0.0.rpk", "com.example.app")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=3)


@pytest.mark.parametrize("dialect", ["apache", "vela"])
def test_the_readme_shell_example_holds_on_real_nuttx(tmp_path: Path, dialect: str) -> None:
    namespace: dict[str, Any] = {}
    exec(compile(_example(), str(README), "exec"), namespace)
    test_shell: Callable[[Watch], None] = namespace["test_shell"]
    with watch_on_nuttx(dialect, tmp_path) as watch:
        test_shell(watch)
