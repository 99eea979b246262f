"""Fixtures for the doctor's tests: identities, projects, and rpks built by the real toolkit."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from tests.doctor.vectors import (
    Identity,
    keytool,
    keytool_export_cert,
    keytool_genkey,
    make_identity,
    write_project,
)
from tests.support.aiot import build_project, node_missing_reason


@pytest.fixture(scope="session", autouse=True)
def _java_without_perf_data() -> None:
    """keytool and apksigner run on Java, whose HotSpot writes a performance-data file into
    <tmp>/hsperfdata_<user> (a directory left behind); the tests' Java writes none."""
    os.environ["JAVA_TOOL_OPTIONS"] = "-XX:-UsePerfData"


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


STORE_PW = "st0re-Pa55-9xq"
KEY_PW = "k3y-Pa55-7wz"


@dataclass(frozen=True)
class Stores:
    jks: Path  # JKS, key password differs from the store password
    p12: Path  # PKCS#12
    p12_named_jks: Path  # keytool's default type (PKCS#12) in a file called .jks
    multi: Path  # JKS with two key entries and a trusted certificate
    jceks: Path


@pytest.fixture(scope="session")
def stores(tmp_path_factory: pytest.TempPathFactory) -> Stores:
    keytool()  # skips when there is no JDK
    root = tmp_path_factory.mktemp("keystores")
    s = Stores(root / "a.jks", root / "b.p12", root / "keystore.jks", root / "m.jks",
               root / "c.jceks")  # fmt: skip
    keytool_genkey(s.jks, "JKS", STORE_PW, "upload", key_password=KEY_PW)
    keytool_genkey(s.p12, "PKCS12", STORE_PW, "release", keyalg="EC")
    subprocess.run(
        [keytool(), "-genkeypair", "-keystore", str(s.p12_named_jks), "-storepass", STORE_PW,
         "-alias", "key0", "-keyalg", "RSA", "-keysize", "2048", "-dname", "CN=Default Type",
         "-validity", "3650"],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    keytool_genkey(s.multi, "JKS", STORE_PW, "First", cn="First")
    keytool_genkey(s.multi, "JKS", STORE_PW, "second", cn="Second")
    exported = root / "trusted.pem"
    exported.write_bytes(
        keytool_export_cert(s.p12, STORE_PW, "release").public_bytes(serialization.Encoding.PEM)
    )
    subprocess.run(
        [keytool(), "-importcert", "-noprompt", "-keystore", str(s.multi), "-storetype", "JKS",
         "-storepass", STORE_PW, "-alias", "ca", "-file", str(exported)],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    keytool_genkey(s.jceks, "JCEKS", STORE_PW, "old")
    return s
