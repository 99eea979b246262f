"""``pytest-vela doctor`` as a command: output, --json, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_vela.doctor.command import main
from tests.doctor.vectors import PACKAGE, Identity


def _cert(tmp_path: Path, who: Identity) -> Path:
    path = tmp_path / "android.pem"
    path.write_bytes(who.cert_pem)
    return path


def test_passing_project_exits_0(project: Path, tmp_path: Path, identity: Identity,
                                 capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    code = main(["doctor", str(project), "--android-package", PACKAGE,
                 "--cert", str(_cert(tmp_path, identity))])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0, out
    assert out.splitlines()[0] == f"pytest-vela doctor: {project} (Android package {PACKAGE})"
    assert "FAIL" not in out
    assert out.splitlines()[-1].startswith("0 failed, 0 warning(s), ")


def test_failing_project_exits_1_with_json(project: Path, tmp_path: Path, stranger: Identity,
                                           capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    code = main(["doctor", str(project), "--android-package", "com.other.app", "--json",
                 "--cert", str(_cert(tmp_path, stranger))])  # fmt: skip
    data = json.loads(capsys.readouterr().out)
    assert code == 1
    assert data["ok"] is False
    failed = {c["id"] for c in data["checks"] if c["status"] == "fail"}
    assert failed == {"manifest.package", "android.signer.debug", "android.signer.release"}


def test_missing_app_dir_is_a_message_not_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["doctor", str(tmp_path / "nope"), "--android-package", PACKAGE])
    captured = capsys.readouterr()
    assert code == 1
    assert "nope is not a directory" in captured.out
    assert "Traceback" not in captured.out + captured.err


def test_apk_and_cert_are_exclusive(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["doctor", str(project), "--android-package", PACKAGE, "--apk", "a", "--cert", "b"])
    assert info.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err
