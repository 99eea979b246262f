"""Which certificate signed an Android APK.

The quick app must be signed with the same key as its phone app, so the doctor needs the APK's
signer. It is read from the APK Signing Block (scheme v3, then v2), whose signature over the
signed data and whose content digest are checked, else from the v1 JAR signature
(``META-INF/*.RSA|DSA|EC``, a PKCS#7 SignedData whose certificates are read, not verified).
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.serialization import pkcs7

from pytest_vela.doctor import certs
from pytest_vela.doctor.bounded import SMALL_LIMIT, UNREADABLE, Inflater
from pytest_vela.doctor.sigblock import (
    FormatError,
    Reader,
    SignedZip,
    content_digest,
    read_signed_zip,
)
from pytest_vela.errors import DoctorInputError

APK_MAGIC = b"APK Sig Block 42"
CHUNK = 1024 * 1024
SCHEMES = {0x1B93AD61: "v3.1", 0xF05368C0: "v3", 0x7109871A: "v2"}  # most recent first
V1_SUFFIXES = (".RSA", ".DSA", ".EC")


@dataclass
class ApkSigners:
    """Signer certificates per scheme, most recent scheme first; ``problems`` if any."""

    signers: list[tuple[str, x509.Certificate]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def certificate(self) -> x509.Certificate | None:
        """The signer a phone reports for the app: the most recent scheme's."""
        return self.signers[0][1] if self.signers else None

    def distinct(self) -> list[x509.Certificate]:
        seen: dict[str, x509.Certificate] = {}
        for _, cert in self.signers:
            seen.setdefault(certs.fingerprint(cert), cert)
        return list(seen.values())


def apk_signers(path: Path) -> ApkSigners:
    """Read (and where possible verify) every signer of ``path``."""
    data = certs.read_bytes(path, "an APK")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise DoctorInputError(f"{path}: not an APK (not a zip file)") from None
    result = ApkSigners()
    try:
        signed = read_signed_zip(data, APK_MAGIC)
    except FormatError as exc:
        result.problems.append(f"APK Signing Block is damaged: {exc}")
        signed = None
    if signed is not None:
        for pair_id, scheme in SCHEMES.items():
            if pair_id in signed.pairs:
                try:
                    _read_scheme(signed, pair_id, scheme, result)
                except (FormatError, ValueError) as exc:
                    result.problems.append(f"{scheme} signature is damaged: {exc}")
    with archive:
        try:
            _read_v1(archive, result)
        except DoctorInputError as exc:
            raise DoctorInputError(f"{path}: {exc}") from None
    if not result.signers and not result.problems:
        result.problems.append("the APK is not signed (no v1, v2 or v3 signature)")
    return result


def _read_scheme(signed: SignedZip, pair_id: int, scheme: str, result: ApkSigners) -> None:
    for signer in Reader(signed.pairs[pair_id], scheme).items("signer"):
        signed_data = signer.prefixed()
        if scheme != "v2":
            signer.take(8)  # min and max SDK
        signatures = [(s.u32(), s.prefixed()) for s in signer.items("signature")]
        body = Reader(signed_data, f"{scheme} signed data")
        digests = {d.u32(): d.prefixed() for d in body.items("digest")}
        ders = [c.take(c.remaining) for c in body.items("certificate")]
        if not ders:
            result.problems.append(f"{scheme} signer has no certificate")
            continue
        cert = x509.load_der_x509_certificate(ders[0])
        verified = [
            alg
            for alg, sig in signatures
            if alg in certs.SIG_ALGORITHMS
            and certs.verify(cert.public_key(), certs.SIG_ALGORITHMS[alg], sig, signed_data)
        ]
        if not verified:
            result.problems.append(f"{scheme} signature does not verify with its certificate")
        _check_content(signed, digests, scheme, result)
        result.signers.append((scheme, cert))


def _check_content(
    signed: SignedZip, digests: dict[int, bytes], scheme: str, result: ApkSigners
) -> None:
    """Compare the first chunked content digest we can compute; verity digests are skipped."""
    for alg, expected in digests.items():
        algorithm = certs.SIG_ALGORITHMS.get(alg)
        if algorithm is None or not algorithm.chunked:
            continue
        if content_digest(signed.sections(), algorithm.digest, CHUNK) != expected:
            result.problems.append(f"{scheme} content digest does not match: the APK was changed")
        return


def _read_v1(archive: zipfile.ZipFile, result: ApkSigners) -> None:
    inflater = Inflater(archive)
    for info in archive.infolist():
        name = info.filename
        upper = name.upper()
        if not (upper.startswith("META-INF/") and upper.endswith(V1_SUFFIXES)):
            continue
        try:
            block = inflater.read(info, SMALL_LIMIT)
        except UNREADABLE as exc:
            result.problems.append(f"{name} cannot be read ({exc})")
            continue
        try:
            found = pkcs7.load_der_pkcs7_certificates(block)
        except ValueError:
            result.problems.append(f"{name} is not a PKCS#7 signature block")
            continue
        leaf = _leaf(found)
        if leaf is not None:
            result.signers.append(("v1", leaf))


def _leaf(found: list[x509.Certificate]) -> x509.Certificate | None:
    """The certificate that issued no other one in the list (the signer, in practice)."""
    issuers = {c.issuer for c in found if c.issuer != c.subject}
    leaves = [c for c in found if c.subject not in issuers]
    candidates = leaves or found
    return candidates[0] if candidates else None
