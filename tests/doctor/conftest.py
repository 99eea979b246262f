"""Fixtures for the doctor's tests: identities, projects, and rpks built by the real toolkit."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.doctor.vectors import Identity, make_identity, write_project
from tests.support.aiot import build_project, node_missing_reason


@pytest.fixture(scope="session")
def identity() -> Identity:
    """The Android app's signing identity."""
    return make_identity("Android App Signer")


@pytest.fixture(scope="session")
def stranger() -> Identity:
    """Some other key: the wrong one to sign with."""
    return make_identity("Someone Else")


@pytest.fixture
def project(tmp_path: Path, identity: Identity) -> Path:
    """A quick app project set up correctly for the Android app."""
    return write_project(tmp_path / "app", identity=identity)


@dataclass(frozen=True)
class VendorBuild:
    project: Path
    rpk: Path


def _vendor_build(root: Path, identity: Identity | None) -> VendorBuild:
    reason = node_missing_reason()
    if reason is not None:
        pytest.skip(reason)
    project = write_project(root, identity=identity)
    result = build_project(project)
    assert result.ok, f"aiot build failed (exit {result.returncode}):\n{result.output}"
    assert result.rpk_path is not None
    return VendorBuild(project, result.rpk_path)


@pytest.fixture(scope="session")
def vendor_signed(tmp_path_factory: pytest.TempPathFactory, identity: Identity) -> VendorBuild:
    """An rpk built by ``aiot build`` with the Android app's key in sign/debug."""
    return _vendor_build(tmp_path_factory.mktemp("vendor") / "app", identity)


@pytest.fixture(scope="session")
def vendor_default(tmp_path_factory: pytest.TempPathFactory) -> VendorBuild:
    """An rpk built by ``aiot build`` without sign/debug: the toolkit's bundled key signs it."""
    return _vendor_build(tmp_path_factory.mktemp("vendor-default") / "app", None)
