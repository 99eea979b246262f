"""The whole path a developer takes: keytool keystore → sign import → aiot build → doctor."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from pytest_vela.doctor import Status
from pytest_vela.doctor.command import main
from pytest_vela.doctor.keystore import read_keystore, write_sign_dirs
from tests.doctor.conftest import KEY_PW, STORE_PW, Stores
from tests.doctor.vectors import PACKAGE, keytool_export_cert, write_project, zip_bytes
from tests.support.aiot import build_project, require_node


def _phone_side(stores: Stores, tmp_path: Path) -> list[str]:
    """``--apk`` signed by apksigner with the keystore when it is installed, else ``--cert``."""
    apksigner = shutil.which("apksigner")
    if apksigner is None:
        cert = tmp_path / "android.pem"
        exported = keytool_export_cert(stores.jks, STORE_PW, "upload")
        cert.write_bytes(exported.public_bytes(serialization.Encoding.PEM))
        return ["--cert", str(cert)]
    unsigned = tmp_path / "phone-unsigned.apk"
    unsigned.write_bytes(zip_bytes({"AndroidManifest.xml": b"m" * 64, "classes.dex": b"d" * 512}))
    apk = tmp_path / "phone.apk"
    subprocess.run(
        [apksigner, "sign", "--min-sdk-version", "21", "--ks", str(stores.jks),
         "--ks-type", "JKS", "--ks-pass", "env:KS_PASS", "--key-pass", "env:KEY_PASS",
         "--out", str(apk), str(unsigned)],
        check=True, capture_output=True, timeout=120,
        env={**os.environ, "KS_PASS": STORE_PW, "KEY_PASS": KEY_PW},
    )  # fmt: skip
    return ["--apk", str(apk)]


def test_keytool_jks_to_vendor_rpk_passes_the_doctor(
    stores: Stores, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    require_node()
    app = write_project(tmp_path / "app")
    entry = read_keystore(stores.jks, STORE_PW, key_password=KEY_PW)
    write_sign_dirs(entry, app / "sign")
    build = build_project(app)
    assert build.ok, build.output
    assert build.rpk_path is not None
    phone = _phone_side(stores, tmp_path)

    code = main(["doctor", str(app), "--android-package", PACKAGE, "--rpk",
                 str(build.rpk_path), "--json", *phone])  # fmt: skip
    report = json.loads(capsys.readouterr().out)
    assert code == 0, report
    statuses = {c["id"]: c["status"] for c in report["checks"]}
    assert statuses["rpk.signer"] == Status.PASS
    assert statuses["android.signer.debug"] == Status.PASS

    # the same rpk against a phone app of another package fails with the fix named
    code = main(["doctor", str(app), "--android-package", "com.example.phone", *phone,
                 "--rpk", str(build.rpk_path)])  # fmt: skip
    text = capsys.readouterr().out
    assert code == 1
    assert 'fix: set "package": "com.example.phone" in src/manifest.json' in text
    assert "was built with package 'com.example.watchapp'" in text
