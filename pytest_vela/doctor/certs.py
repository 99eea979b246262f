"""Certificates, keys and the signature algorithms the APK and rpk signing blocks name."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import (
    CertificatePublicKeyTypes,
    PrivateKeyTypes,
)

from pytest_vela.doctor.sigblock import Hasher, sha256, sha512
from pytest_vela.errors import DoctorInputError

# aiot-toolkit falls back to this key (CN=localhost, bundled in @aiot-toolkit/packager) for debug
# builds when sign/debug is missing. No phone app is signed with it, so such an rpk never connects.
TOOLKIT_DEBUG_CERT_SHA256 = "4e8e1ee24968b0dad6d0956a7e14d848b38b22a203f39c389a45d8737bdc4585"


@dataclass(frozen=True)
class SigAlgorithm:
    """A signature algorithm id of the APK v2/v3 (and rpk) signing block."""

    name: str
    hash: type[hashes.SHA256] | type[hashes.SHA512]
    digest: Hasher
    kind: str  # "pkcs1", "pss", "ecdsa" or "dsa"
    chunked: bool = True  # False for the verity variants, whose content digest is not chunked


SIG_ALGORITHMS: dict[int, SigAlgorithm] = {
    0x0101: SigAlgorithm("RSASSA-PSS with SHA-256", hashes.SHA256, sha256, "pss"),
    0x0102: SigAlgorithm("RSASSA-PSS with SHA-512", hashes.SHA512, sha512, "pss"),
    0x0103: SigAlgorithm("RSASSA-PKCS1-v1_5 with SHA-256", hashes.SHA256, sha256, "pkcs1"),
    0x0104: SigAlgorithm("RSASSA-PKCS1-v1_5 with SHA-512", hashes.SHA512, sha512, "pkcs1"),
    0x0201: SigAlgorithm("ECDSA with SHA-256", hashes.SHA256, sha256, "ecdsa"),
    0x0202: SigAlgorithm("ECDSA with SHA-512", hashes.SHA512, sha512, "ecdsa"),
    0x0301: SigAlgorithm("DSA with SHA-256", hashes.SHA256, sha256, "dsa"),
    0x0421: SigAlgorithm("verity RSASSA-PKCS1-v1_5", hashes.SHA256, sha256, "pkcs1", False),
    0x0423: SigAlgorithm("verity ECDSA", hashes.SHA256, sha256, "ecdsa", False),
    0x0425: SigAlgorithm("verity DSA", hashes.SHA256, sha256, "dsa", False),
}


def verify(
    public_key: CertificatePublicKeyTypes, algorithm: SigAlgorithm, sig: bytes, data: bytes
) -> bool:
    """True when ``sig`` is ``public_key``'s signature of ``data`` under ``algorithm``."""
    try:
        if isinstance(public_key, rsa.RSAPublicKey) and algorithm.kind == "pkcs1":
            public_key.verify(sig, data, padding.PKCS1v15(), algorithm.hash())
        elif isinstance(public_key, rsa.RSAPublicKey) and algorithm.kind == "pss":
            pss = padding.PSS(padding.MGF1(algorithm.hash()), algorithm.hash.digest_size)
            public_key.verify(sig, data, pss, algorithm.hash())
        elif isinstance(public_key, ec.EllipticCurvePublicKey) and algorithm.kind in (
            "ecdsa",
            "pkcs1",  # the rpk packager labels every signature 0x0103 and signs with any key
        ):
            public_key.verify(sig, data, ec.ECDSA(algorithm.hash()))
        elif isinstance(public_key, dsa.DSAPublicKey) and algorithm.kind == "dsa":
            public_key.verify(sig, data, algorithm.hash())
        else:
            return False
    except (InvalidSignature, UnsupportedAlgorithm, ValueError):
        return False
    return True


def spki(public_key: CertificatePublicKeyTypes) -> bytes:
    return public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def fingerprint(cert: x509.Certificate) -> str:
    """SHA-256 of the DER certificate, lowercase hex (``keytool -list`` shows it with colons)."""
    return cert.fingerprint(hashes.SHA256()).hex()


def fingerprint_colons(cert: x509.Certificate) -> str:
    """The fingerprint as ``keytool -list`` and the Play Console print it."""
    fp = fingerprint(cert).upper()
    return ":".join(fp[i : i + 2] for i in range(0, len(fp), 2))


def describe(cert: x509.Certificate) -> str:
    """Subject and the start of the fingerprint: enough to tell two certificates apart."""
    short = fingerprint_colons(cert)[:23]
    return f"{cert.subject.rfc4514_string() or '(empty subject)'}, SHA-256 {short}…"


def is_toolkit_default(cert: x509.Certificate) -> bool:
    return fingerprint(cert) == TOOLKIT_DEBUG_CERT_SHA256


def key_matches(key: PrivateKeyTypes, cert: x509.Certificate) -> bool:
    return spki(key.public_key()) == spki(cert.public_key())  # type: ignore[arg-type]


def read_bytes(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise DoctorInputError(f"{path}: no such file ({what})") from None
    except OSError as exc:
        raise DoctorInputError(f"{path}: cannot be read ({exc.strerror})") from None


def load_certificate(path: Path) -> x509.Certificate:
    """The first certificate in a PEM or DER file."""
    data = read_bytes(path, "a certificate")
    try:
        if b"-----BEGIN" in data:
            return x509.load_pem_x509_certificates(data)[0]
        return x509.load_der_x509_certificate(data)
    except ValueError:
        raise DoctorInputError(
            f"{path}: not a PEM or DER X.509 certificate; it should hold a "
            "'-----BEGIN CERTIFICATE-----' block"
        ) from None


def load_private_key(path: Path) -> PrivateKeyTypes:
    """An unencrypted PEM private key, as the toolkit needs it (it cannot ask for a password)."""
    data = read_bytes(path, "a private key")
    try:
        return serialization.load_pem_private_key(data, password=None)
    except TypeError:
        raise DoctorInputError(
            f"{path}: the key is password-protected, but aiot-toolkit needs it unencrypted; "
            "write it again with 'pytest-vela sign import'"
        ) from None
    except (ValueError, UnsupportedAlgorithm):
        raise DoctorInputError(
            f"{path}: not a PEM private key; it should hold a '-----BEGIN PRIVATE KEY-----' block"
        ) from None
