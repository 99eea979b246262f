"""Inputs the doctor refuses with a clear message instead of a traceback or a pass: manifests
that are not one JSON object or nest without end, and zip members that inflate without end."""

from __future__ import annotations

import io
import json
import tracemalloc
import zipfile
from pathlib import Path

import pytest

from pytest_vela.doctor import DoctorInput, run_checks
from pytest_vela.doctor.bounded import (
    MIB,
    Inflater,
    json_depth_exceeds,
    load_json_object,
)
from pytest_vela.doctor.rpk import verify_rpk
from pytest_vela.errors import DoctorInputError
from tests.doctor.vectors import PACKAGE, Identity, make_rpk, rpk_files, zip_bytes

RPK_NAME = f"{PACKAGE}.debug.1.0.0.rpk"


def _doctor(project: Path, rpk: Path | None = None, signer: Path | None = None) -> dict[str, str]:
    """Each check's status and text, ``"FAIL: summary | fix: remedy"``."""
    report = run_checks(DoctorInput(project, PACKAGE, android_signer=signer, rpk=rpk))
    return {c.id: f"{c.status.name}: {c.summary} | fix: {c.remedy}" for c in report.checks}


def _bomb(path: Path, name: str, size: int, others: dict[str, bytes] | None = None) -> Path:
    """A zip whose ``name`` inflates to ``size`` bytes, written without holding them."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for other, content in (others or {}).items():
            archive.writestr(other, content)
        with archive.open(name, "w", force_zip64=True) as member:
            block = b" " * MIB
            for _ in range(size // MIB):
                member.write(block)
    return path


# --- the project's manifest -------------------------------------------------------------------


def test_a_manifest_nested_200000_deep_fails_its_check_not_the_doctor(project: Path) -> None:
    (project / "src" / "manifest.json").write_text("[" * 200_000 + "]" * 200_000)
    check = _doctor(project)["manifest.parses"]
    assert check.startswith("FAIL: src/manifest.json nests arrays or objects more than 100 deep")
    assert "fix: flatten src/manifest.json" in check


@pytest.mark.parametrize(
    ("content", "kind"),
    [("[]", "an array"), ('"com.example.app"', "a string"), ("42", "a number"), ("null", "null")],
)
def test_a_manifest_that_is_not_an_object_fails_saying_what_it_is(
    project: Path, content: str, kind: str
) -> None:
    (project / "src" / "manifest.json").write_text(content)
    report = _doctor(project)
    assert report["manifest.parses"] == (
        f"FAIL: src/manifest.json is {kind}, not a JSON object | fix: make src/manifest.json "
        'one JSON object: {"package": "…", "features": […], …}'
    )
    assert "manifest.package" not in report


def test_a_huge_manifest_is_not_read_whole(project: Path) -> None:
    (project / "src" / "manifest.json").write_bytes(b" " * (MIB + 1))
    assert "is larger than 1 MiB" in _doctor(project)["manifest.parses"]


def test_a_manifest_that_is_not_utf8_says_so(project: Path) -> None:
    (project / "src" / "manifest.json").write_bytes('{"name": "café"}'.encode("latin-1"))
    check = _doctor(project)["manifest.parses"]
    assert "src/manifest.json is not UTF-8 text (byte 0xe9 at offset 13)" in check


# --- the rpk's manifest -------------------------------------------------------------------------


def _rpk_with(tmp_path: Path, identity: Identity, manifest: bytes | None) -> Path:
    files = rpk_files()
    if manifest is None:
        del files["manifest.json"]
    else:
        files["manifest.json"] = manifest
    path = tmp_path / RPK_NAME
    path.write_bytes(make_rpk(files, identity))
    return path


@pytest.mark.parametrize(
    ("manifest", "says"),
    [
        (b"[]", "manifest.json inside the rpk is an array, not a JSON object"),
        (b"{}", "manifest.json inside the rpk has no package"),
        (b'{"package": 7}', "manifest.json inside the rpk has no package"),
        (b"{" * 1000, "manifest.json inside the rpk nests arrays or objects more than 100 deep"),
        (b'{"package": ', "manifest.json inside the rpk is not valid JSON"),
        (None, "it has no manifest.json"),
    ],
    ids=["array", "empty", "package-not-text", "deep", "syntax", "missing"],
)
def test_an_rpk_without_a_usable_manifest_fails(
    project: Path, tmp_path: Path, identity: Identity, manifest: bytes | None, says: str
) -> None:
    report = _doctor(project, rpk=_rpk_with(tmp_path, identity, manifest))
    assert report["rpk.signature"].startswith("PASS")  # signed as it is: the manifest is the fault
    assert report["rpk.manifest"].startswith(f"FAIL: {RPK_NAME}: {says}")
    assert "the watch cannot install it" in report["rpk.manifest"]


def test_a_good_rpk_reports_no_manifest_problem(
    project: Path, tmp_path: Path, identity: Identity
) -> None:
    result = verify_rpk(_rpk_with(tmp_path, identity, json.dumps({"package": PACKAGE}).encode()))
    assert result.ok and result.manifest_problem is None


# --- members that inflate without end --------------------------------------------------------


def test_an_rpk_whose_manifest_inflates_to_300_mb_is_refused_in_little_memory(
    tmp_path: Path,
) -> None:
    rpk = _bomb(tmp_path / RPK_NAME, "manifest.json", 300 * MIB, {"app.js": b"//\n"})
    assert rpk.stat().st_size < 400 * 1024
    tracemalloc.start()
    try:
        with pytest.raises(DoctorInputError) as err:
            verify_rpk(rpk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert str(err.value) == (
        f"{rpk}: manifest.json inflates to more than 1 MiB, the most the doctor reads of that "
        "file: this is not an rpk that aiot-toolkit built"
    )
    assert peak < 16 * MIB


def test_the_doctor_reports_an_rpk_bomb_as_a_failed_check(project: Path, tmp_path: Path) -> None:
    rpk = _bomb(tmp_path / RPK_NAME, "manifest.json", 300 * MIB)
    check = _doctor(project, rpk=rpk)["rpk.signature"]
    assert check.startswith(f"FAIL: {rpk}: manifest.json inflates to more than 1 MiB")


def test_any_other_member_is_hashed_within_a_limit(tmp_path: Path) -> None:
    rpk = _bomb(tmp_path / RPK_NAME, "assets/blob.bin", 65 * MIB, {"manifest.json": b"{}"})
    with pytest.raises(DoctorInputError, match=r"assets/blob\.bin inflates to more than 64 MiB"):
        verify_rpk(rpk)


def test_an_apk_signature_block_is_read_within_a_limit(project: Path, tmp_path: Path) -> None:
    apk = _bomb(tmp_path / "phone.apk", "META-INF/CERT.RSA", 2 * MIB, {"classes.dex": b"dex"})
    check = _doctor(project, signer=apk)["android.signer"]
    assert check.startswith(f"FAIL: {apk}: META-INF/CERT.RSA inflates to more than 1 MiB")


def test_an_inflater_bounds_each_member_and_the_archive() -> None:
    archive = zipfile.ZipFile(io.BytesIO(zip_bytes({f"f{i}": b"x" * 1000 for i in range(5)})))
    inflater = Inflater(archive, total=3500)
    infos = archive.infolist()
    assert inflater.read(infos[0], limit=1000) == b"x" * 1000
    with pytest.raises(DoctorInputError, match="f1 inflates to more than 999 bytes"):
        inflater.read(infos[1], limit=999)
    assert len(inflater.sha256(infos[2])) == 32
    with pytest.raises(DoctorInputError, match="more than 3500 bytes in all"):
        for info in infos[3:]:
            inflater.read(info)


def test_a_member_that_lies_about_its_size_is_still_bounded() -> None:
    data = bytearray(zip_bytes({"manifest.json": b"{" + b" " * 5000 + b"}"}, stored=True))
    # Claim 10 bytes in both headers: zipfile reads no more than that, and the CRC then fails.
    for header in (b"PK\x03\x04", b"PK\x01\x02"):
        at = data.index(header)
        offset = 22 if header == b"PK\x03\x04" else 24
        data[at + offset : at + offset + 4] = (10).to_bytes(4, "little")
    archive = zipfile.ZipFile(io.BytesIO(bytes(data)))
    with pytest.raises(zipfile.BadZipFile):
        Inflater(archive).read(archive.infolist()[0], limit=100)


# --- JSON ---------------------------------------------------------------------------------------


def test_depth_is_counted_outside_strings_only() -> None:
    assert not json_depth_exceeds('{"a": "[[[[[[[[", "b": [[1]]}', limit=3)
    assert json_depth_exceeds('{"a": [[[1]]]}', limit=3)
    assert not json_depth_exceeds('["\\"[[[[[["]', limit=1)


def test_load_json_object_refuses_more_than_a_mib() -> None:
    with pytest.raises(DoctorInputError, match="larger than 1 MiB; a quick app manifest is a few"):
        load_json_object(b" " * (MIB + 1) + b"{}", "m.json")
