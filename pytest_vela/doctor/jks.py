"""Read private keys from a Java KeyStore (JKS) file without Java.

Android signing keys often live in ``.jks`` files, and developers running the doctor may have no
JDK. The JKS format is small and public: big-endian, magic ``0xFEEDFEED``, entries (private key
with its certificate chain, or trusted certificate), then a SHA-1 integrity digest over
``password (UTF-16BE) + "Mighty Aphrodite" + everything before``. A private key is a PKCS#8
``EncryptedPrivateKeyInfo`` under Sun's "KeyProtector" scheme: ``salt(20) | data | check(20)``,
where data is XORed with the stream ``SHA1(password + salt)``, ``SHA1(password + previous)``, …
and ``check = SHA1(password + plain key)``.
"""

from __future__ import annotations

import hashlib
import hmac
import struct
from dataclasses import dataclass, field

from cryptography import x509

from pytest_vela.doctor.binary import Cursor

JKS_MAGIC = 0xFEEDFEED
JCEKS_MAGIC = 0xCECECECE
KEY_PROTECTOR_OID = bytes.fromhex("2b060104012a02110101")  # 1.3.6.1.4.1.42.2.17.1.1
WHITENER = b"Mighty Aphrodite"
PRIVATE_KEY_TAG = 1
TRUSTED_CERT_TAG = 2


class JksError(ValueError):
    """The file is not a readable JKS keystore; the message never contains a password."""


class WrongPassword(JksError):
    """A password did not unlock the keystore or one of its keys."""


@dataclass
class JksPrivateKey:
    """A private key entry, still encrypted until :func:`decrypt_key` is called."""

    alias: str
    protected: bytes
    chain: list[x509.Certificate] = field(default_factory=list)


class _In(Cursor):
    """Big-endian, as Java's DataInputStream writes a keystore."""

    ORDER = ">"

    def overrun(self, n: int) -> JksError:
        return JksError("the file ends in the middle of an entry (truncated?)")

    def utf(self) -> str:
        # Java's modified UTF-8 differs from UTF-8 only for NUL and astral characters.
        return self.take(self.u16()).decode("utf-8", errors="replace")


def is_jks(data: bytes) -> bool:
    return len(data) >= 4 and struct.unpack(">I", data[:4])[0] == JKS_MAGIC


def is_jceks(data: bytes) -> bool:
    return len(data) >= 4 and struct.unpack(">I", data[:4])[0] == JCEKS_MAGIC


def _password_bytes(password: str) -> bytes:
    return password.encode("utf-16-be")


def read_jks(data: bytes, store_password: str) -> list[JksPrivateKey]:
    """The private key entries of a JKS file, after checking its integrity with the password."""
    if len(data) < 32 or not is_jks(data):
        raise JksError("not a JKS keystore (no 0xFEEDFEED magic)")
    body, digest = data[:-20], data[-20:]
    expected = hashlib.sha1(_password_bytes(store_password) + WHITENER + body).digest()
    if not hmac.compare_digest(expected, digest):
        raise WrongPassword("the keystore password is wrong (or the file is damaged)")
    src = _In(body)
    src.take(4)
    version = src.u32()
    if version not in (1, 2):
        raise JksError(f"unknown JKS version {version}")
    entries: list[JksPrivateKey] = []
    for _ in range(src.u32()):
        tag = src.u32()
        alias = src.utf()
        src.take(8)  # creation time
        if tag == PRIVATE_KEY_TAG:
            entry = JksPrivateKey(alias, src.take(src.u32()))
            for _ in range(src.u32()):
                entry.chain.append(_read_cert(src, version))
            entries.append(entry)
        elif tag == TRUSTED_CERT_TAG:
            _read_cert(src, version)
        else:
            raise JksError(f"entry {alias!r} has unknown type {tag}")
    return entries


def _read_cert(src: _In, version: int) -> x509.Certificate:
    if version == 2:
        kind = src.utf()
        if kind != "X.509":
            raise JksError(f"certificate type {kind!r} is not X.509")
    try:
        return x509.load_der_x509_certificate(src.take(src.u32()))
    except ValueError:
        raise JksError("a certificate in the keystore is not valid DER X.509") from None


def decrypt_key(entry: JksPrivateKey, key_password: str) -> bytes:
    """The PKCS#8 ``PrivateKeyInfo`` DER of ``entry``."""
    algorithm, encrypted = _encrypted_private_key_info(entry.protected)
    if algorithm != KEY_PROTECTOR_OID:
        raise JksError(
            f"key {entry.alias!r} is protected by an algorithm other than JKS's own; "
            "convert the keystore with: keytool -importkeystore -deststoretype pkcs12"
        )
    if len(encrypted) < 41:
        raise JksError(f"key {entry.alias!r} is too short to be a protected key")
    salt, data, check = encrypted[:20], encrypted[20:-20], encrypted[-20:]
    password = _password_bytes(key_password)
    stream = bytearray()
    block = salt
    while len(stream) < len(data):
        block = hashlib.sha1(password + block).digest()
        stream += block
    plain = bytes(a ^ b for a, b in zip(data, stream, strict=False))
    if not hmac.compare_digest(hashlib.sha1(password + plain).digest(), check):
        raise WrongPassword(f"the password of key {entry.alias!r} is wrong")
    return plain


def _der(data: bytes, pos: int) -> tuple[int, bytes, int]:
    """One DER element at ``pos``: (tag, contents, position after it)."""
    if pos + 2 > len(data):
        raise JksError("protected key is not DER")
    tag, length = data[pos], data[pos + 1]
    pos += 2
    if length & 0x80:
        count = length & 0x7F
        if count == 0 or count > 4 or pos + count > len(data):
            raise JksError("protected key has a bad DER length")
        length = int.from_bytes(data[pos : pos + count], "big")
        pos += count
    if pos + length > len(data):
        raise JksError("protected key is truncated")
    return tag, data[pos : pos + length], pos + length


def _encrypted_private_key_info(der: bytes) -> tuple[bytes, bytes]:
    """(algorithm OID contents, encrypted data) of an ``EncryptedPrivateKeyInfo``."""
    tag, outer, _ = _der(der, 0)
    if tag != 0x30:
        raise JksError("protected key is not a DER SEQUENCE")
    tag, algorithm_id, pos = _der(outer, 0)
    _, oid, _ = _der(algorithm_id, 0)
    tag2, encrypted, _ = _der(outer, pos)
    if tag != 0x30 or tag2 != 0x04:
        raise JksError("protected key is not an EncryptedPrivateKeyInfo")
    return oid, encrypted
