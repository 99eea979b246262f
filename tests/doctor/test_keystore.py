"""``sign import`` on keystores made by keytool: JKS, PKCS#12, and PKCS#12 named ``.jks``."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from pytest_vela.doctor import DoctorInput, Status, certs, run_checks
from pytest_vela.doctor.keystore import KeystoreError, read_keystore
from tests.doctor.conftest import KEY_PW, STORE_PW, Stores
from tests.doctor.vectors import keytool, keytool_export_cert, write_project

REPO = Path(__file__).resolve().parents[2]


def _cli(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """``pytest-vela sign …`` in a child process without a terminal, output captured."""
    return subprocess.run(
        [sys.executable, "-m", "pytest_vela.doctor.command", *args],
        cwd=cwd,
        env={**os.environ, **env, "PYTHONPATH": str(REPO)},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _secret_lines(pem: bytes) -> list[str]:
    """The base64 body of a PEM file, line by line."""
    return [line for line in pem.decode().splitlines() if line and not line.startswith("-----")]


def _assert_no_secrets(text: str, key_pem: bytes) -> None:
    assert STORE_PW not in text
    assert KEY_PW not in text
    for line in _secret_lines(key_pem):
        assert line not in text


# --- reading -------------------------------------------------------------------------------------


def test_jks_with_own_key_password(stores: Stores) -> None:
    entry = read_keystore(stores.jks, STORE_PW, key_password=KEY_PW)
    assert entry.alias == "upload"
    exported = keytool_export_cert(stores.jks, STORE_PW, "upload")
    assert certs.fingerprint(entry.certificate) == certs.fingerprint(exported)
    assert certs.key_matches(entry.key, entry.certificate)


def test_jks_key_equals_what_the_documented_keytool_route_gives(
    stores: Stores, tmp_path: Path
) -> None:
    """Same key as keytool -importkeystore to PKCS#12 (the vendor's documented first step)."""
    converted = tmp_path / "converted.p12"
    subprocess.run(
        [keytool(), "-importkeystore", "-srckeystore", str(stores.jks), "-srcstoretype", "JKS",
         "-srcstorepass", STORE_PW, "-srckeypass", KEY_PW, "-srcalias", "upload",
         "-destkeystore", str(converted), "-deststoretype", "PKCS12",
         "-deststorepass", STORE_PW, "-destkeypass", STORE_PW],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    reference = pkcs12.load_pkcs12(converted.read_bytes(), STORE_PW.encode())
    assert reference.key is not None
    ours = read_keystore(stores.jks, STORE_PW, key_password=KEY_PW)
    pkcs8 = (serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
             serialization.NoEncryption())  # fmt: skip
    assert ours.key.private_bytes(*pkcs8) == reference.key.private_bytes(*pkcs8)


@pytest.mark.parametrize("which", ["p12", "p12_named_jks"])
def test_pkcs12(stores: Stores, which: str) -> None:
    path = getattr(stores, which)
    alias = {"p12": "release", "p12_named_jks": "key0"}[which]
    entry = read_keystore(path, STORE_PW)
    assert entry.alias == alias
    exported = keytool_export_cert(path, STORE_PW, alias)
    assert certs.fingerprint(entry.certificate) == certs.fingerprint(exported)
    assert certs.key_matches(entry.key, entry.certificate)


def test_several_entries_need_an_alias(stores: Stores) -> None:
    with pytest.raises(KeystoreError, match=r"holds 2 key entries \(first, second\).*--alias"):
        read_keystore(stores.multi, STORE_PW)
    entry = read_keystore(stores.multi, STORE_PW, alias="Second")
    assert entry.certificate.subject.rfc4514_string() == "CN=Second,O=Example"


def test_unknown_alias(stores: Stores) -> None:
    with pytest.raises(KeystoreError, match=r"no key entry 'third'; its key entries are: first"):
        read_keystore(stores.multi, STORE_PW, alias="third")


@pytest.mark.parametrize("which", ["jks", "p12"])
def test_wrong_store_password(stores: Stores, which: str) -> None:
    with pytest.raises(KeystoreError, match="password is wrong") as info:
        read_keystore(getattr(stores, which), "not-the-password")
    assert "not-the-password" not in str(info.value)


def test_jceks_gets_a_conversion_command(stores: Stores) -> None:
    with pytest.raises(KeystoreError, match=r"JCEKS.*-deststoretype pkcs12"):
        read_keystore(stores.jceks, STORE_PW)


def test_not_a_keystore(tmp_path: Path) -> None:
    junk = tmp_path / "notes.jks"
    junk.write_text("not a keystore")
    with pytest.raises(KeystoreError, match=r"notes\.jks: cannot open"):
        read_keystore(junk, STORE_PW)


# --- the command ---------------------------------------------------------------------------------


def test_import_round_trips_and_doctor_passes(stores: Stores, tmp_path: Path) -> None:
    app = write_project(tmp_path / "app")
    result = _cli(
        ["sign", "import", str(stores.jks), "--out", str(app / "sign")],
        {"VELA_KEYSTORE_PASSWORD": STORE_PW, "VELA_KEY_PASSWORD": KEY_PW},
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    exported = keytool_export_cert(stores.jks, STORE_PW, "upload")
    for mode in ("debug", "release"):
        folder = app / "sign" / mode
        assert (folder / "private.pem").stat().st_mode & 0o777 == 0o600
        assert (folder / "certificate.pem").stat().st_mode & 0o777 == 0o644
        cert = certs.load_certificate(folder / "certificate.pem")
        assert certs.fingerprint(cert) == certs.fingerprint(exported)
        assert (folder / "private.pem").read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
        assert certs.key_matches(certs.load_private_key(folder / "private.pem"), cert)
    assert certs.fingerprint_colons(exported) in result.stdout
    _assert_no_secrets(result.stdout + result.stderr, (app / "sign/debug/private.pem").read_bytes())

    exported_pem = tmp_path / "android.pem"
    exported_pem.write_bytes(exported.public_bytes(serialization.Encoding.PEM))
    report = run_checks(DoctorInput(app, "com.example.watchapp", android_signer=exported_pem))
    assert report.ok, report.render()
    assert report.get("android.signer.debug").status is Status.PASS


def test_import_refuses_to_replace_another_key_without_force(
    stores: Stores, tmp_path: Path
) -> None:
    env = {"VELA_KEYSTORE_PASSWORD": STORE_PW}
    out = tmp_path / "sign"
    assert (
        _cli(["sign", "import", str(stores.p12), "--out", str(out)], env, tmp_path).returncode == 0
    )
    first = (out / "debug" / "certificate.pem").read_bytes()
    again = _cli(["sign", "import", str(stores.p12_named_jks), "--out", str(out)], env, tmp_path)
    assert again.returncode == 1
    assert "already exists with other contents; pass --force" in again.stderr
    assert (out / "debug" / "certificate.pem").read_bytes() == first
    forced = _cli(
        ["sign", "import", str(stores.p12_named_jks), "--out", str(out), "--force"], env, tmp_path
    )
    assert forced.returncode == 0, forced.stderr
    assert (out / "debug" / "certificate.pem").read_bytes() != first
    assert (out / "debug" / "private.pem").stat().st_mode & 0o777 == 0o600


def test_import_without_password_and_terminal_explains(stores: Stores, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VELA_")}
    result = subprocess.run(
        [sys.executable, "-m", "pytest_vela.doctor.command", "sign", "import", str(stores.p12)],
        cwd=tmp_path, env={**env, "PYTHONPATH": str(REPO)}, stdin=subprocess.DEVNULL,
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 1
    assert "set VELA_KEYSTORE_PASSWORD" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "sign").exists()


def test_import_with_wrong_key_password_explains(stores: Stores, tmp_path: Path) -> None:
    result = _cli(
        ["sign", "import", str(stores.jks), "--out", str(tmp_path / "sign")],
        {"VELA_KEYSTORE_PASSWORD": STORE_PW, "VELA_KEY_PASSWORD": "guess"},
        tmp_path,
    )
    assert result.returncode == 1
    assert "has its own password" in result.stderr and "VELA_KEY_PASSWORD" in result.stderr
    assert "Traceback" not in result.stderr
    assert STORE_PW not in result.stderr + result.stdout


def test_passwords_typed_at_the_prompt_are_not_echoed(stores: Stores, tmp_path: Path) -> None:
    """Run on a pseudo-terminal: asked for both passwords, the transcript holds no secret."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("VELA_")}
    env["PYTHONPATH"] = str(REPO)
    out = tmp_path / "sign"
    argv = [sys.executable, "-m", "pytest_vela.doctor.command", "sign", "import",
            str(stores.jks), "--out", str(out)]  # fmt: skip
    pid, fd = pty.fork()
    if pid == 0:  # the child: becomes the command, its terminal is the pty
        os.chdir(tmp_path)
        os.execve(sys.executable, argv, env)
    transcript = b""
    answers = [STORE_PW, KEY_PW]
    try:
        while True:
            ready, _, _ = select.select([fd], [], [], 60)
            if not ready:
                raise AssertionError(f"no output for 60 s; so far: {transcript!r}")
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            transcript += chunk
            if transcript.rstrip().endswith(b":") and answers and b"Password" in chunk:
                os.write(fd, answers.pop(0).encode() + b"\n")
    finally:
        _, status = os.waitpid(pid, 0)
    text = transcript.decode(errors="replace")
    assert os.waitstatus_to_exitcode(status) == 0, text
    assert answers == []  # both prompts were shown
    assert "Password of a.jks:" in text and "Password of the key:" in text
    _assert_no_secrets(text, (out / "debug" / "private.pem").read_bytes())
