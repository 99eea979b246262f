"""The rpk verifier, on rpks built by aiot-toolkit and on rpks laid out here."""

from __future__ import annotations

import struct
import zipfile
from pathlib import Path

import pytest

from pytest_vela.doctor import certs
from pytest_vela.doctor.rpk import verify_rpk
from pytest_vela.doctor.sigblock import find_eocd, read_signed_zip
from pytest_vela.errors import DoctorInputError
from tests.doctor.conftest import VendorBuild
from tests.doctor.vectors import RPK_MAGIC, Identity, make_rpk, rpk_files


def _write(tmp_path: Path, data: bytes, name: str = "com.example.watchapp.debug.1.0.0.rpk") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _flip(data: bytes, offset: int) -> bytes:
    changed = bytearray(data)
    changed[offset] ^= 0x01
    return bytes(changed)


# --- real toolkit output -------------------------------------------------------------------------


def test_vendor_rpk_verifies_and_names_its_signer(
    vendor_signed: VendorBuild, identity: Identity
) -> None:
    result = verify_rpk(vendor_signed.rpk)
    assert result.problems == []
    assert result.signer is not None
    assert certs.fingerprint(result.signer) == certs.fingerprint(identity.cert)
    with zipfile.ZipFile(vendor_signed.rpk) as zf:
        files = [i for i in zf.infolist() if not i.is_dir()]
    assert result.files_checked == len(files) + 1  # plus hash.json inside META-INF/CERT
    assert result.manifest is not None and result.manifest["package"] == "com.example.watchapp"


def test_vendor_default_key_is_recognised(vendor_default: VendorBuild) -> None:
    result = verify_rpk(vendor_default.rpk)
    assert result.ok
    assert result.signer is not None and certs.is_toolkit_default(result.signer)
    assert result.signer.subject.rfc4514_string() == "CN=localhost"


@pytest.mark.parametrize("region", ["local entries", "signing block", "central directory", "eocd"])
def test_tampered_byte_in_vendor_rpk_is_detected(
    vendor_signed: VendorBuild, tmp_path: Path, region: str
) -> None:
    data = vendor_signed.rpk.read_bytes()
    signed = read_signed_zip(data, RPK_MAGIC)
    assert signed is not None
    offset = {
        "local entries": signed.block_offset // 2,
        # inside the signer's signature bytes, far from any length field
        "signing block": signed.block_offset + 8 + 4 + 4 + 600,
        "central directory": signed.cd_offset + 50,
        "eocd": signed.eocd_offset + 10,  # total entry count
    }[region]
    result = verify_rpk(_write(tmp_path, _flip(data, offset)))
    assert not result.ok
    assert result.problems


def test_stripped_signature_is_reported(vendor_signed: VendorBuild, tmp_path: Path) -> None:
    with zipfile.ZipFile(vendor_signed.rpk) as src:
        copy = tmp_path / "resaved.rpk"
        with zipfile.ZipFile(copy, "w") as dst:
            for info in src.infolist():
                dst.writestr(info, src.read(info))
    result = verify_rpk(copy)
    assert any("unsigned" in p for p in result.problems)


# --- rpks laid out here: one fault at a time ---------------------------------------------------


def test_rpk_made_here_verifies(tmp_path: Path, identity: Identity) -> None:
    result = verify_rpk(_write(tmp_path, make_rpk(rpk_files(), identity)))
    assert result.problems == []
    assert result.signer is not None
    assert certs.fingerprint(result.signer) == certs.fingerprint(identity.cert)


def test_ec_signed_rpk_verifies(tmp_path: Path) -> None:
    from tests.doctor.vectors import make_identity

    ec_identity = make_identity("EC signer", kind="ec")
    result = verify_rpk(_write(tmp_path, make_rpk(rpk_files(), ec_identity)))
    assert result.problems == []


def test_file_changed_after_hash_json_is_named(tmp_path: Path, identity: Identity) -> None:
    """A file swapped before the outer signing but after hash.json was written."""
    files = rpk_files()
    data = make_rpk(files, identity)
    # re-sign the outer zip over a changed app.js, keeping the old META-INF/CERT
    with zipfile.ZipFile(_write(tmp_path, data)) as zf:
        inner = zf.read("META-INF/CERT")
    from tests.doctor.vectors import rpk_sign, zip_bytes

    changed = {**files, "app.js": b"evil()"}
    outer_files = {"META-INF/CERT": inner, **changed}
    resigned = rpk_sign(zip_bytes(outer_files), outer_files, identity)
    result = verify_rpk(_write(tmp_path, resigned, "resigned.rpk"))
    assert result.problems == ["app.js does not match its digest in hash.json"]


def test_inner_cert_zip_signed_by_another_key(
    tmp_path: Path, identity: Identity, stranger: Identity
) -> None:
    result = verify_rpk(_write(tmp_path, make_rpk(rpk_files(), identity, cert_identity=stranger)))
    assert len(result.problems) == 1
    assert "META-INF/CERT: is signed by CN=Someone Else" in result.problems[0]


def test_signature_by_a_key_that_is_not_the_certificates(
    tmp_path: Path, identity: Identity, stranger: Identity
) -> None:
    impostor = Identity(stranger.key, identity.cert)  # claims identity's certificate
    result = verify_rpk(_write(tmp_path, make_rpk(rpk_files(), impostor)))
    assert not result.ok
    assert any("does not verify" in p for p in result.problems)


def test_not_a_zip_names_the_file(tmp_path: Path) -> None:
    path = _write(tmp_path, b"this is no rpk", "broken.rpk")
    with pytest.raises(DoctorInputError, match=r"broken\.rpk: not an rpk"):
        verify_rpk(path)


def test_missing_file_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(DoctorInputError, match=r"nothing\.rpk: no such file"):
        verify_rpk(tmp_path / "nothing.rpk")


def test_damaged_block_size_is_a_problem_not_a_crash(tmp_path: Path, identity: Identity) -> None:
    data = bytearray(make_rpk(rpk_files(), identity))
    eocd = find_eocd(bytes(data))
    (cd,) = struct.unpack_from("<I", data, eocd + 16)
    struct.pack_into("<Q", data, cd - 24, 10**9)  # the trailing block size
    result = verify_rpk(_write(tmp_path, bytes(data)))
    assert any("signing block" in p for p in result.problems)
