"""The README's example tests run as written against the simulated watch."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.support.rigs import make_rpk

README = Path(__file__).resolve().parents[1] / "README.md"


def test_the_readme_examples_pass(pytester: pytest.Pytester) -> None:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    example = next(block for block in blocks if "def test_link_loss" in block)
    pytester.makepyfile(test_readme_example=example)
    dist = pytester.mkdir("dist")
    make_rpk(dist / "com.example.app.debug.1.0.0.rpk", "com.example.app")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)
