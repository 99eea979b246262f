"""Everything ``pytest_vela`` names is importable from it, and the codes are the vendor's."""

from __future__ import annotations

import subprocess
import sys

import pytest

import pytest_vela


@pytest.mark.parametrize("name", pytest_vela.__all__)
def test_every_public_name_resolves(name: str) -> None:
    assert getattr(pytest_vela, name) is not None


def test_unknown_names_are_attribute_errors() -> None:
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        pytest_vela.Nope  # noqa: B018


def test_importing_the_package_does_not_pull_in_bleak() -> None:
    code = "import sys, pytest_vela, pytest_vela.rigfile.schema; print('bleak' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_codes_are_the_documented_values() -> None:
    from pytest_vela import DiagnosisStatus, ErrorCode, ReadyState

    assert (ReadyState.CONNECTED, ReadyState.DISCONNECTED) == (1, 2)
    assert [int(s) for s in DiagnosisStatus] == [0, 204, 1000, 1001]
    assert {200, 201, 202, 203, 204, 205, 207, 300, 1000, 1001, 1006} == {int(c) for c in ErrorCode}
