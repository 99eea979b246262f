"""Programs some tests need beyond Python (a JDK's keytool, Android's apksigner, binutils'
addr2line, Chromium): where one is missing such a test skips, naming the package to install;
under CI (``VELA_CI=1``, set by ``.ci/run``, which installs them) it fails instead, so that
nothing is skipped there unseen."""

from __future__ import annotations

import os
import shutil

import pytest

CI = "VELA_CI"


def under_ci() -> bool:
    return os.environ.get(CI) == "1"


def missing(message: str) -> None:
    """A test cannot run here: it skips, or fails under CI."""
    __tracebackhide__ = True
    if under_ci():
        pytest.fail(f"{message} ({CI}=1: this test must run here)")
    pytest.skip(message)


def required_tool(*names: str, package: str) -> str:
    """The path of the first of ``names`` on PATH; see the module docstring otherwise."""
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    missing(f"{names[0]} is not installed (Debian package {package!r}; .ci/run installs it)")
    raise AssertionError("unreachable")  # missing() skipped or failed
