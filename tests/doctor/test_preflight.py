"""The plugin's entry point: the doctor run from a hardware rig file's [app] section."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_vela.doctor import Report, Status, preflight, require_preflight
from pytest_vela.errors import PreflightFailed, RigConfigError, RigError
from pytest_vela.rigfile.loader import load_rig
from pytest_vela.rigfile.schema import AppSettings
from tests.doctor.vectors import (
    PACKAGE,
    Identity,
    apk_unsigned,
    make_rpk,
    rpk_files,
    sign_apk_v2,
)


def _rig_file(rig_dir: Path, app_dir: str, package: str, extra: str = "") -> None:
    rig_dir.mkdir(parents=True, exist_ok=True)
    (rig_dir / "desk.toml").write_text(
        f"""
kind = "hardware"
[serial]
port = "/dev/ttyUSB0"
[ble]
name = "Watch"
[app]
package = "{PACKAGE}"
dir = "{app_dir}"
android_package = "{package}"
{extra}
"""
    )


def test_rig_file_with_relative_paths_passes(
    project: Path, tmp_path: Path, identity: Identity
) -> None:
    (tmp_path / "phone.apk").write_bytes(sign_apk_v2(apk_unsigned(), identity))
    (tmp_path / "app.rpk").write_bytes(make_rpk(rpk_files(), identity))
    _rig_file(tmp_path / "rigs", "../app", PACKAGE,
              'android_cert = "../phone.apk"\nrpk = "../app.rpk"')  # fmt: skip
    rig = load_rig("desk", tmp_path / "rigs")
    report = require_preflight(rig.settings.app)
    assert report.ok
    assert report.get("android.signer.debug").status is Status.PASS
    assert report.get("rpk.signer").status is Status.PASS


def test_failing_check_stops_with_the_report(
    project: Path, tmp_path: Path, stranger: Identity
) -> None:
    (tmp_path / "phone.apk").write_bytes(sign_apk_v2(apk_unsigned(), stranger))
    app = AppSettings(dir=project, android_package=PACKAGE, android_cert=tmp_path / "phone.apk")
    assert not preflight(app).ok
    with pytest.raises(PreflightFailed) as info:
        require_preflight(app)
    assert isinstance(info.value, RigError)
    assert isinstance(info.value.report, Report)
    assert [c.id for c in info.value.report.failures] == [
        "android.signer.debug",
        "android.signer.release",
    ]
    message = str(info.value)
    assert message.startswith("preflight checks failed; nothing was flashed or installed.")
    assert "  FAIL  sign/debug/certificate.pem is CN=Android App Signer" in message
    assert "fix: run 'pytest-vela sign import KEYSTORE" in message


def test_warnings_do_not_stop(project: Path) -> None:
    report = require_preflight(AppSettings(dir=project, android_package=PACKAGE))
    assert report.get("android.signer").status is Status.WARN


@pytest.mark.parametrize("missing", ["dir", "android_package"])
def test_preflight_needs_dir_and_package(project: Path, missing: str) -> None:
    fields = {"dir": project, "android_package": PACKAGE}
    del fields[missing]
    with pytest.raises(RigConfigError, match=r"app\.dir and app\.android_package"):
        preflight(AppSettings.model_validate(fields))
