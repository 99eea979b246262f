"""Reading an APK's signer from its v2/v3 signing block or its v1 JAR signature."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from pytest_vela.doctor import certs
from pytest_vela.doctor.apk import apk_signers
from pytest_vela.doctor.sigblock import read_signed_zip
from pytest_vela.errors import DoctorInputError
from tests.doctor.vectors import (
    APK_MAGIC,
    Identity,
    apk_unsigned,
    keytool_export_cert,
    keytool_genkey,
    make_identity,
    sign_apk_v1,
    sign_apk_v2,
    zip_bytes,
)
from tests.support.tools import required_tool


def _apk(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "app-release.apk"
    path.write_bytes(data)
    return path


def test_v2_signer_is_read_and_verified(tmp_path: Path, identity: Identity) -> None:
    result = apk_signers(_apk(tmp_path, sign_apk_v2(apk_unsigned(), identity)))
    assert result.problems == []
    assert [scheme for scheme, _ in result.signers] == ["v2"]
    assert result.certificate is not None
    assert certs.fingerprint(result.certificate) == certs.fingerprint(identity.cert)


def test_multi_chunk_apk_content_digest_verifies(tmp_path: Path, identity: Identity) -> None:
    result = apk_signers(_apk(tmp_path, sign_apk_v2(apk_unsigned(big=True), identity)))
    assert result.problems == []


def test_v3_signer_comes_first(tmp_path: Path, identity: Identity, stranger: Identity) -> None:
    """v3 and v2 signers differ (as after a key rotation, lineage not modelled): both count."""
    result = apk_signers(_apk(tmp_path, sign_apk_v2(apk_unsigned(), stranger, v3=identity)))
    assert result.problems == []
    assert [scheme for scheme, _ in result.signers] == ["v3", "v2"]
    assert result.certificate is not None
    assert certs.fingerprint(result.certificate) == certs.fingerprint(identity.cert)
    assert len(result.distinct()) == 2


def test_ec_key_apk(tmp_path: Path) -> None:
    ec_identity = make_identity("EC app", kind="ec")
    result = apk_signers(_apk(tmp_path, sign_apk_v2(apk_unsigned(), ec_identity)))
    assert result.problems == []


def test_v1_signer_is_read(tmp_path: Path, identity: Identity) -> None:
    files = {"AndroidManifest.xml": b"manifest", "classes.dex": b"dex\n035\x00"}
    result = apk_signers(_apk(tmp_path, sign_apk_v1(files, identity)))
    assert result.problems == []
    assert [scheme for scheme, _ in result.signers] == ["v1"]
    assert result.certificate is not None
    assert certs.fingerprint(result.certificate) == certs.fingerprint(identity.cert)


def test_changed_apk_content_is_detected(tmp_path: Path, identity: Identity) -> None:
    data = bytearray(sign_apk_v2(apk_unsigned(), identity))
    data[40] ^= 0xFF  # inside the first local entry
    result = apk_signers(_apk(tmp_path, bytes(data)))
    assert result.problems == ["v2 content digest does not match: the APK was changed"]


def test_forged_signature_is_detected(
    tmp_path: Path, identity: Identity, stranger: Identity
) -> None:
    forged = Identity(stranger.key, identity.cert)
    result = apk_signers(_apk(tmp_path, sign_apk_v2(apk_unsigned(), forged)))
    assert result.problems == ["v2 signature does not verify with its certificate"]


def test_unsigned_apk(tmp_path: Path) -> None:
    result = apk_signers(_apk(tmp_path, apk_unsigned()))
    assert result.signers == []
    assert result.problems == ["the APK is not signed (no v1, v2 or v3 signature)"]


def test_truncated_signing_block_is_a_problem(tmp_path: Path, identity: Identity) -> None:
    data = bytearray(sign_apk_v2(apk_unsigned(), identity))
    signed = read_signed_zip(bytes(data), APK_MAGIC)
    assert signed is not None
    # claim a signer longer than the pair that holds it
    pair_value = signed.block_offset + 8 + 8 + 4
    data[pair_value + 4 : pair_value + 8] = (10**6).to_bytes(4, "little")
    result = apk_signers(_apk(tmp_path, bytes(data)))
    assert any(p.startswith("v2 signature is damaged") for p in result.problems)


def test_not_an_apk(tmp_path: Path) -> None:
    with pytest.raises(DoctorInputError, match="not an APK"):
        apk_signers(_apk(tmp_path, b"\x7fELF not a zip"))


def test_apk_signed_by_apksigner(tmp_path: Path) -> None:
    """An APK signed by Android's own apksigner (v1 + v2 + v3) with a keytool keystore."""
    apksigner = required_tool("apksigner", package="apksigner")
    store = tmp_path / "release.p12"
    keytool_genkey(store, "PKCS12", "store-pass-1", "release")
    unsigned = tmp_path / "unsigned.apk"
    unsigned.write_bytes(zip_bytes({"AndroidManifest.xml": b"m" * 64, "classes.dex": b"d" * 512}))
    signed = tmp_path / "signed.apk"
    subprocess.run(
        [apksigner, "sign", "--min-sdk-version", "21", "--ks", str(store),
         "--ks-pass", "env:APK_STORE_PASS", "--v1-signing-enabled", "true",
         "--v2-signing-enabled", "true", "--v3-signing-enabled", "true",
         "--out", str(signed), str(unsigned)],
        check=True, capture_output=True, timeout=120,
        env={**os.environ, "APK_STORE_PASS": "store-pass-1"},
    )  # fmt: skip
    result = apk_signers(signed)
    assert result.problems == []
    assert [scheme for scheme, _ in result.signers] == ["v3", "v2", "v1"]
    expected = keytool_export_cert(store, "store-pass-1", "release")
    assert {certs.fingerprint(c) for _, c in result.signers} == {certs.fingerprint(expected)}
