"""Each doctor check passes on a good project and fails for the right reason on a bad one."""

from __future__ import annotations

import json
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from pytest_vela.doctor import DoctorInput, Report, Status, run_checks
from tests.doctor.conftest import VendorBuild
from tests.doctor.vectors import (
    PACKAGE,
    PAGE,
    Identity,
    apk_unsigned,
    make_identity,
    make_rpk,
    rpk_files,
    sign_apk_v2,
    write_project,
    write_sign,
)
from tests.support.aiot import toolkit_prefix

ANDROID = PACKAGE


def _run(
    app: Path, *, signer: Path | None = None, rpk: Path | None = None, package: str = ANDROID
) -> Report:
    return run_checks(DoctorInput(app, package, android_signer=signer, rpk=rpk))


def _statuses(report: Report) -> dict[str, Status]:
    return {c.id: c.status for c in report.checks}


def _apk(tmp_path: Path, identity: Identity) -> Path:
    path = tmp_path / "phone.apk"
    path.write_bytes(sign_apk_v2(apk_unsigned(), identity))
    return path


def _rpk(
    tmp_path: Path,
    identity: Identity,
    package: str = PACKAGE,
    name: str = f"{PACKAGE}.debug.1.0.0.rpk",
) -> Path:
    path = tmp_path / name
    path.write_bytes(make_rpk(rpk_files(package), identity))
    return path


# --- everything right --------------------------------------------------------------------------


def test_good_project_passes_every_check(project: Path, tmp_path: Path, identity: Identity) -> None:
    report = _run(project, signer=_apk(tmp_path, identity), rpk=_rpk(tmp_path, identity))
    assert report.ok, report.render()
    assert set(_statuses(report).values()) == {Status.PASS}
    assert set(_statuses(report)) == {
        "manifest.found", "manifest.parses", "manifest.package", "manifest.feature",
        "sign.debug.files", "sign.debug.keypair", "sign.debug.validity",
        "sign.release.files", "sign.release.keypair", "sign.release.validity",
        "android.apk", "android.signer.debug", "android.signer.release",
        "rpk.signature", "rpk.paths", "rpk.signer",
    }  # fmt: skip
    assert "imported in src/pages/index/index.ux" in report.get("manifest.feature").summary


def test_vendor_built_project_passes(
    vendor_signed: VendorBuild, tmp_path: Path, identity: Identity
) -> None:
    report = _run(vendor_signed.project, signer=_apk(tmp_path, identity), rpk=vendor_signed.rpk)
    assert report.ok, report.render()
    assert report.get("rpk.signer").status is Status.PASS


# --- manifest ----------------------------------------------------------------------------------


def test_missing_app_dir(tmp_path: Path) -> None:
    report = _run(tmp_path / "nowhere")
    assert [c.id for c in report.checks] == ["app.dir"]
    assert not report.ok


def test_manifest_at_project_root_is_accepted(project: Path) -> None:
    (project / "src" / "manifest.json").rename(project / "manifest.json")
    report = _run(project)
    assert report.get("manifest.found").status is Status.PASS
    assert report.get("manifest.found").summary == "manifest: manifest.json"


def test_missing_manifest(project: Path) -> None:
    (project / "src" / "manifest.json").unlink()
    check = _run(project).get("manifest.found")
    assert check.status is Status.FAIL
    assert "src/manifest.json" in check.remedy


def test_manifest_that_does_not_parse(project: Path) -> None:
    (project / "src" / "manifest.json").write_text('{"package": "x",\n  oops }')
    check = _run(project).get("manifest.parses")
    assert check.status is Status.FAIL
    assert "line 2" in check.summary


def test_package_mismatch_says_what_the_watch_reports_and_what_to_set(project: Path) -> None:
    report = _run(project, package="com.example.phone")
    check = report.get("manifest.package")
    assert check.status is Status.FAIL
    assert "'com.example.watchapp'" in check.summary and "1001" in check.summary
    assert check.remedy == 'set "package": "com.example.phone" in src/manifest.json'
    assert not report.ok


def test_feature_missing_while_code_imports_it(tmp_path: Path, identity: Identity) -> None:
    app = write_project(tmp_path / "app", identity=identity, features=[])
    check = _run(app).get("manifest.feature")
    assert check.status is Status.FAIL
    assert check.summary.startswith("src/pages/index/index.ux import(s) @system.interconnect")
    assert '{ "name": "system.interconnect" }' in check.remedy


def test_feature_missing_and_unused(tmp_path: Path, identity: Identity) -> None:
    page = PAGE.replace("import interconnect from '@system.interconnect'\n", "")
    app = write_project(tmp_path / "app", identity=identity, features=["system.vibrator"],
                        page=page)  # fmt: skip
    check = _run(app).get("manifest.feature")
    assert check.status is Status.FAIL
    assert check.summary == "src/manifest.json does not declare system.interconnect in features"


def test_feature_declared_but_not_imported_passes_with_a_note(
    tmp_path: Path, identity: Identity
) -> None:
    page = PAGE.replace("import interconnect from '@system.interconnect'\n", "")
    app = write_project(tmp_path / "app", identity=identity, page=page)
    check = _run(app).get("manifest.feature")
    assert check.status is Status.PASS
    assert "no code imports it yet" in check.summary


# --- sign/ ---------------------------------------------------------------------------------------


def test_missing_sign_debug_names_the_fallback_key(tmp_path: Path) -> None:
    app = write_project(tmp_path / "app")
    report = _run(app)
    debug = report.get("sign.debug.files")
    assert debug.status is Status.FAIL
    assert "bundled key (CN=localhost)" in debug.summary
    assert "pytest-vela sign import" in debug.remedy
    assert "'aiot release' fails" in report.get("sign.release.files").summary


def test_key_that_is_not_the_certificates(project: Path, stranger: Identity) -> None:
    (project / "sign" / "release" / "private.pem").write_bytes(stranger.key_pem)
    report = _run(project)
    assert report.get("sign.release.keypair").status is Status.FAIL
    assert report.get("sign.debug.keypair").status is Status.PASS


def test_encrypted_private_key(project: Path, identity: Identity) -> None:
    encrypted = identity.key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"secret-pw"),
    )
    (project / "sign" / "debug" / "private.pem").write_bytes(encrypted)
    check = _run(project).get("sign.debug.files")
    assert check.status is Status.FAIL
    assert "password-protected" in check.summary and "private.pem" in check.summary


def test_certificate_file_that_is_not_a_certificate(project: Path) -> None:
    (project / "sign" / "debug" / "certificate.pem").write_text("copied the wrong block\n")
    check = _run(project).get("sign.debug.files")
    assert check.status is Status.FAIL
    assert "certificate.pem: not a PEM or DER X.509 certificate" in check.summary


@pytest.mark.parametrize(
    ("valid_from", "valid_for", "status", "words"),
    [
        (timedelta(days=-400), timedelta(days=365), Status.FAIL, "expired on"),
        (timedelta(days=-300), timedelta(days=310), Status.WARN, "expires on"),
        (timedelta(days=5), timedelta(days=365), Status.FAIL, "not valid before"),
        (timedelta(days=-1), timedelta(days=32), Status.PASS, "valid until"),
    ],
)
def test_certificate_validity(
    tmp_path: Path, valid_from: timedelta, valid_for: timedelta, status: Status, words: str
) -> None:
    app = write_project(
        tmp_path / "app",
        identity=make_identity("Dated", valid_from=valid_from, valid_for=valid_for),
    )
    report = _run(app)
    check = report.get("sign.debug.validity")
    assert check.status is status
    assert words in check.summary
    assert report.ok is (status is not Status.FAIL)


def test_toolkit_default_key_in_sign_debug_is_called_out(
    vendor_default: VendorBuild, project: Path
) -> None:
    pem = toolkit_prefix() / "node_modules/@aiot-toolkit/packager/lib/signature/pem"
    for name in ("private.pem", "certificate.pem"):
        shutil.copy(pem / name, project / "sign" / "debug" / name)
    check = _run(project).get("sign.debug.toolkit-key")
    assert check.status is Status.FAIL
    assert "aiot-toolkit's bundled debug key" in check.summary


# --- the Android app's signer ------------------------------------------------------------------


def test_android_signer_unknown_is_a_warning(project: Path) -> None:
    report = _run(project)
    assert report.get("android.signer").status is Status.WARN
    assert report.ok


def test_matching_certificate_file(project: Path, tmp_path: Path, identity: Identity) -> None:
    cert = tmp_path / "android.pem"
    cert.write_bytes(identity.cert_pem)
    report = _run(project, signer=cert)
    assert report.get("android.signer.debug").status is Status.PASS
    assert report.ok


def test_der_certificate_file(project: Path, tmp_path: Path, identity: Identity) -> None:
    cert = tmp_path / "android.cer"
    cert.write_bytes(identity.cert_der)
    assert _run(project, signer=cert).get("android.signer.release").status is Status.PASS


def test_wrong_certificate_is_detected(project: Path, tmp_path: Path, stranger: Identity) -> None:
    cert = tmp_path / "android.pem"
    cert.write_bytes(stranger.cert_pem)
    report = _run(project, signer=cert)
    for mode in ("debug", "release"):
        check = report.get(f"android.signer.{mode}")
        assert check.status is Status.FAIL
        assert "CN=Android App Signer" in check.summary and "CN=Someone Else" in check.summary
        assert "signature verify failed" in check.summary
        assert "pytest-vela sign import" in check.remedy


def test_apk_signed_by_another_key(project: Path, tmp_path: Path, stranger: Identity) -> None:
    report = _run(project, signer=_apk(tmp_path, stranger))
    assert report.get("android.apk").status is Status.PASS
    assert report.get("android.signer.debug").status is Status.FAIL
    assert "phone.apk is signed by CN=Someone Else" in report.get("android.signer.debug").summary


def test_damaged_apk(project: Path, tmp_path: Path, identity: Identity) -> None:
    apk = _apk(tmp_path, identity)
    data = bytearray(apk.read_bytes())
    data[40] ^= 0xFF
    apk.write_bytes(bytes(data))
    report = _run(project, signer=apk)
    checks = [c for c in report.checks if c.id == "android.apk"]
    assert [c.status for c in checks] == [Status.FAIL]
    assert "content digest does not match" in checks[0].summary


def test_missing_android_file(project: Path, tmp_path: Path) -> None:
    check = _run(project, signer=tmp_path / "gone.apk").get("android.signer")
    assert check.status is Status.FAIL
    assert "gone.apk: no such file" in check.summary


# --- a built rpk ---------------------------------------------------------------------------------


def test_tampered_rpk(project: Path, tmp_path: Path, identity: Identity) -> None:
    rpk = _rpk(tmp_path, identity)
    data = bytearray(rpk.read_bytes())
    data[len(data) // 3] ^= 0x01
    rpk.write_bytes(bytes(data))
    check = _run(project, rpk=rpk).get("rpk.signature")
    assert check.status is Status.FAIL
    assert "refuse to install" in check.summary
    assert "aiot build" in check.remedy


def test_rpk_signed_by_another_key_than_the_android_app(
    project: Path, tmp_path: Path, identity: Identity, stranger: Identity
) -> None:
    report = _run(project, signer=_apk(tmp_path, identity), rpk=_rpk(tmp_path, stranger))
    assert report.get("rpk.signature").status is Status.PASS
    check = report.get("rpk.signer")
    assert check.status is Status.FAIL
    assert "not by the Android app's key" in check.summary


def test_rpk_built_before_the_key_changed(
    project: Path, tmp_path: Path, stranger: Identity
) -> None:
    check = _run(project, rpk=_rpk(tmp_path, stranger)).get("rpk.signer")
    assert check.status is Status.FAIL
    assert "built before the key changed" in check.summary


def test_release_rpk_is_compared_with_sign_release(
    project: Path, tmp_path: Path, identity: Identity, stranger: Identity
) -> None:
    write_sign(project, stranger, modes=("release",))
    rpk = _rpk(tmp_path, identity, name=f"{PACKAGE}.release.1.0.0.rpk")
    check = _run(project, rpk=rpk).get("rpk.signer")
    assert check.status is Status.FAIL
    assert "sign/release/certificate.pem" in check.summary


def test_rpk_with_another_package(project: Path, tmp_path: Path, identity: Identity) -> None:
    check = _run(project, rpk=_rpk(tmp_path, identity, package="com.old.name")).get("rpk.package")
    assert check.status is Status.FAIL
    assert "'com.old.name'" in check.summary and "1001" in check.summary


def test_rpk_signed_by_the_toolkit_default_key(vendor_default: VendorBuild, project: Path) -> None:
    check = _run(project, rpk=vendor_default.rpk).get("rpk.signer")
    assert check.status is Status.FAIL
    assert "aiot-toolkit's bundled debug key (CN=localhost)" in check.summary
    assert "pytest-vela sign import" in check.remedy


def test_missing_rpk(project: Path, tmp_path: Path) -> None:
    check = _run(project, rpk=tmp_path / "dist" / "none.rpk").get("rpk.signature")
    assert check.status is Status.FAIL
    assert "none.rpk: no such file" in check.summary


# --- the report ----------------------------------------------------------------------------------


def test_report_json_round_trips(project: Path) -> None:
    report = _run(project, package="com.other")
    data = json.loads(report.to_json())
    assert data["ok"] is False
    assert data["android_package"] == "com.other"
    ids = [c["id"] for c in data["checks"]]
    assert ids == [c.id for c in report.checks]
    failing = [c for c in data["checks"] if c["status"] == "fail"]
    assert [c["id"] for c in failing] == ["manifest.package"]
    assert failing[0]["remedy"]


def test_human_report_shows_remedies_and_counts(project: Path) -> None:
    text = _run(project, package="com.other").render()
    assert "  FAIL  src/manifest.json package is" in text
    assert '        fix: set "package": "com.other" in src/manifest.json' in text
    assert text.splitlines()[-1].startswith("1 failed, 1 warning(s), ")
