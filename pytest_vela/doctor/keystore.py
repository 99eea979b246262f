"""Turn the Android app's keystore into the PEM files aiot-toolkit signs rpks with.

Replaces the documented keytool → openssl → copy-by-hand steps: one key entry is read from a
JKS or PKCS#12 file (the extension says nothing: keytool has written PKCS#12 into ``.jks`` files
since Java 9) and written as ``private.pem`` (PKCS#8, unencrypted, mode 0600) and
``certificate.pem`` into ``sign/debug`` and ``sign/release``. Passwords are arguments of these
functions only; no message here contains one, or any key material.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.hazmat.primitives.serialization import pkcs12

from pytest_vela.doctor import certs, jks
from pytest_vela.errors import DoctorInputError

MODES = ("debug", "release")
KEY_FILE = "private.pem"
CERT_FILE = "certificate.pem"

T = TypeVar("T")


class KeystoreError(DoctorInputError):
    """The keystore cannot be read as asked."""


class KeyPasswordNeeded(KeystoreError):
    """The store opened but the key has a password of its own (JKS allows that)."""


@dataclass(frozen=True)
class KeyEntry:
    alias: str
    key: PrivateKeyTypes
    certificate: x509.Certificate

    def key_pem(self) -> bytes:
        return self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    def certificate_pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)


def read_keystore(
    path: Path, password: str, alias: str | None = None, key_password: str | None = None
) -> KeyEntry:
    """The key entry ``alias`` (or the only one) of a JKS or PKCS#12 keystore."""
    data = certs.read_bytes(path, "a keystore")
    if jks.is_jceks(data):
        raise KeystoreError(
            f"{path}: a JCEKS keystore; convert it first with: keytool -importkeystore "
            f"-srckeystore {path.name} -srcstoretype jceks -destkeystore app.p12 "
            "-deststoretype pkcs12"
        )
    if jks.is_jks(data):
        return _from_jks(path, data, password, alias, key_password)
    return _from_pkcs12(path, data, password, alias)


def _from_jks(
    path: Path, data: bytes, password: str, alias: str | None, key_password: str | None
) -> KeyEntry:
    try:
        entries = jks.read_jks(data, password)
    except jks.JksError as exc:
        raise KeystoreError(f"{path}: {exc}") from None
    entry = _pick(path, {e.alias: e for e in entries}, alias)
    if not entry.chain:
        raise KeystoreError(f"{path}: key {entry.alias!r} has no certificate")
    try:
        der = jks.decrypt_key(entry, password if key_password is None else key_password)
    except jks.WrongPassword:
        raise KeyPasswordNeeded(
            f"{path}: key {entry.alias!r} has its own password, and it is not the one given; "
            "give it in VELA_KEY_PASSWORD or at the prompt"
        ) from None
    except jks.JksError as exc:
        raise KeystoreError(f"{path}: {exc}") from None
    try:
        key = serialization.load_der_private_key(der, password=None)
    except (ValueError, UnsupportedAlgorithm):
        raise KeystoreError(f"{path}: key {entry.alias!r} is not a PKCS#8 private key") from None
    return KeyEntry(entry.alias, key, entry.chain[0])


def _from_pkcs12(path: Path, data: bytes, password: str, alias: str | None) -> KeyEntry:
    try:
        p12 = pkcs12.load_pkcs12(data, password.encode() if password else None)
    except (ValueError, UnsupportedAlgorithm):
        raise KeystoreError(
            f"{path}: cannot open: the password is wrong, or the file is neither JKS nor "
            "PKCS#12 (.jks, .p12, .pfx)"
        ) from None
    if p12.key is None or p12.cert is None:
        raise KeystoreError(f"{path}: holds no private key with a certificate")
    name = p12.cert.friendly_name.decode("utf-8", "replace") if p12.cert.friendly_name else ""
    _pick(path, {name or "(unnamed)": None}, alias)
    return KeyEntry(name, p12.key, p12.cert.certificate)


def _pick(path: Path, entries: dict[str, T], alias: str | None) -> T:
    names = ", ".join(sorted(entries)) or "none"
    if alias is not None:
        # keytool lower-cases JKS aliases; accept the alias as the user typed it
        for name, value in entries.items():
            if name == alias or name.lower() == alias.lower():
                return value
        raise KeystoreError(f"{path}: no key entry {alias!r}; its key entries are: {names}")
    if len(entries) != 1:
        raise KeystoreError(
            f"{path}: holds {len(entries)} key entries ({names}); choose one with --alias"
        )
    return next(iter(entries.values()))


def write_sign_dirs(entry: KeyEntry, out: Path, force: bool = False) -> list[Path]:
    """Write the entry into ``out/debug`` and ``out/release``; refuse to replace another key."""
    planned = {
        out / mode / name: (content, mode_bits)
        for mode in MODES
        for name, content, mode_bits in (
            (KEY_FILE, entry.key_pem(), 0o600),
            (CERT_FILE, entry.certificate_pem(), 0o644),
        )
    }
    if not force:
        for target, (content, _) in planned.items():
            if target.exists() and _differs(target, content):
                raise KeystoreError(
                    f"{target} already exists with other contents; pass --force to replace it"
                )
    for target, (content, mode_bits) in planned.items():
        _write(target, content, mode_bits)
    return list(planned)


def _differs(path: Path, content: bytes) -> bool:
    try:
        return path.read_bytes() != content
    except OSError:
        return True


def _write(path: Path, content: bytes, mode_bits: int) -> None:
    """Write atomically, the file created with its final mode so a key is never world-readable."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        try:
            os.fchmod(fd, mode_bits)
            with os.fdopen(fd, "wb") as fh:
                fh.write(content)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise KeystoreError(f"{path}: cannot write ({exc.strerror})") from None
