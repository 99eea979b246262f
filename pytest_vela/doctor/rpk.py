"""Verify an rpk's signature and say which certificate signed it.

An rpk (built by aiot-toolkit) carries a signing block with magic ``RPK Sig Block 42`` laid out
like APK Signature Scheme v2. Pair 0x01000101 signs a digest of the whole zip (one chunk per
section); pair 0x01000201 signs a SHA-256 per file, keyed by the CRC-32 of its name.
``META-INF/CERT`` is a zip of its own holding ``hash.json`` (SHA-256 of every file), signed the
same way. A mismatch anywhere means the watch will refuse the package or see another signer.
"""

from __future__ import annotations

import io
import json
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509

from pytest_vela.doctor import certs
from pytest_vela.doctor.bounded import (
    SMALL_LIMIT,
    UNREADABLE,
    Inflater,
    json_depth_exceeds,
    load_json_object,
)
from pytest_vela.doctor.sigblock import (
    FormatError,
    Reader,
    SignedZip,
    content_digest,
    read_signed_zip,
    sha256,
)
from pytest_vela.errors import DoctorInputError

RPK_MAGIC = b"RPK Sig Block 42"
SIGNER_PAIR = 0x01000101
FILES_PAIR = 0x01000201
CERT_ZIP = "META-INF/CERT"
HASH_JSON = "hash.json"
MANIFEST = "manifest.json"
KEPT = (MANIFEST, CERT_ZIP, HASH_JSON)  # members read whole (within SMALL_LIMIT); others hashed


@dataclass
class RpkSignature:
    """What verifying an rpk found. ``problems`` is empty when everything verified;
    ``manifest_problem`` says why there is no usable ``manifest`` (an object with a package)."""

    signer: x509.Certificate | None = None
    problems: list[str] = field(default_factory=list)
    files_checked: int = 0
    manifest: dict[str, object] | None = None
    manifest_problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.signer is not None and not self.problems


def verify_rpk(path: Path) -> RpkSignature:
    """Verify ``path``; raises :class:`DoctorInputError` only when it is not an rpk at all, or
    when a file in it inflates past what the doctor reads (see ``bounded``)."""
    data = certs.read_bytes(path, "an rpk")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise DoctorInputError(
            f"{path}: not an rpk (not a zip file); pass the .rpk that 'aiot build' wrote to dist/"
        ) from None
    result = RpkSignature()
    try:
        with archive:
            files = _members(Inflater(archive), "", result)
        _verify_zip(data, files, "", result, unsigned_digest_of=None)
        cert_zip = files.get(CERT_ZIP)
        if CERT_ZIP not in files:
            result.problems.append(f"{CERT_ZIP} is missing: the rpk was not signed by aiot-toolkit")
        elif cert_zip is not None and cert_zip.content is not None:
            _verify_cert_zip(cert_zip.content, files, result)
    except DoctorInputError as exc:
        raise DoctorInputError(
            f"{path}: {exc}: this is not an rpk that aiot-toolkit built", fix=exc.fix
        ) from None
    _read_manifest(files, result)
    return result


def _read_manifest(files: Files, result: RpkSignature) -> None:
    shown = f"{MANIFEST} inside the rpk"
    member = files.get(MANIFEST)
    if MANIFEST not in files:
        result.manifest_problem = f"it has no {MANIFEST}"
    elif member is None or member.content is None:
        result.manifest_problem = f"{shown} cannot be read"
    else:
        try:
            manifest = load_json_object(member.content, shown)
        except DoctorInputError as exc:
            result.manifest_problem = str(exc)
            return
        package = manifest.get("package")
        if not isinstance(package, str) or not package:
            result.manifest_problem = f"{shown} has no package"
        result.manifest = manifest


@dataclass(frozen=True)
class Member:
    """One file of a zip: its SHA-256, and its bytes for the few files read whole."""

    digest: bytes
    content: bytes | None = None


Files = dict[str, Member | None]  # None: present but unreadable (already reported)


def _members(inflater: Inflater, where: str, result: RpkSignature) -> Files:
    files: Files = {}
    for info in inflater.archive.infolist():
        if info.is_dir():
            continue
        try:
            if info.filename in KEPT:
                content = inflater.read(info, SMALL_LIMIT)
                files[info.filename] = Member(sha256(content), content)
            else:
                files[info.filename] = Member(inflater.sha256(info))
        except UNREADABLE as exc:
            result.problems.append(f"{where}{info.filename} cannot be read ({exc})")
            files[info.filename] = None
    return files


def _verify_zip(
    data: bytes, files: Files, where: str, result: RpkSignature, unsigned_digest_of: str | None
) -> None:
    """Check one signed zip (the rpk or its META-INF/CERT) and record its signer.

    ``unsigned_digest_of`` names the one file whose per-file digest is taken over the whole
    zip as it was before signing, not over the file (the packager does this for ``hash.json``).
    """
    try:
        signed = read_signed_zip(data, RPK_MAGIC)
    except FormatError as exc:
        result.problems.append(f"{where}signing block is damaged: {exc}")
        return
    if signed is None:
        result.problems.append(f"{where}has no 'RPK Sig Block 42' signing block: it is unsigned")
        return
    try:
        cert = _verify_signer(signed, where, result)
        if cert is not None:
            if unsigned_digest_of is not None:
                files = {unsigned_digest_of: Member(sha256(b"".join(signed.sections())))}
            _verify_file_digests(signed, files, cert, where, result)
    except FormatError as exc:
        result.problems.append(f"{where}signing block is damaged: {exc}")
        return
    if cert is None:
        return
    if result.signer is None:
        result.signer = cert
    elif certs.fingerprint(result.signer) != certs.fingerprint(cert):
        result.problems.append(
            f"{where}is signed by {certs.describe(cert)}, "
            f"the rpk by {certs.describe(result.signer)}"
        )


def _verify_signer(signed: SignedZip, where: str, result: RpkSignature) -> x509.Certificate | None:
    value = signed.pairs.get(SIGNER_PAIR)
    if value is None:
        result.problems.append(f"{where}signing block has no signer (pair 0x{SIGNER_PAIR:08x})")
        return None
    signers = list(Reader(value, "signer pair").items("signer"))
    if len(signers) != 1:
        result.problems.append(f"{where}signing block has {len(signers)} signers, expected 1")
        return None
    signer = signers[0]
    signed_data = signer.prefixed()
    signatures = [(s.u32(), s.prefixed()) for s in signer.items("signature")]
    public_key = signer.prefixed()

    body = Reader(signed_data, "signed data")
    digests = {d.u32(): d.prefixed() for d in body.items("digest")}
    cert_ders = [c.take(c.remaining) for c in body.items("certificate")]
    if not cert_ders:
        result.problems.append(f"{where}signer has no certificate")
        return None
    try:
        cert = x509.load_der_x509_certificate(cert_ders[0])
    except ValueError:
        result.problems.append(f"{where}signer certificate is not valid DER X.509")
        return None
    if certs.spki(cert.public_key()) != public_key:
        result.problems.append(f"{where}signer public key does not match its certificate")

    if not any(
        alg in certs.SIG_ALGORITHMS
        and certs.verify(cert.public_key(), certs.SIG_ALGORITHMS[alg], sig, signed_data)
        for alg, sig in signatures
    ):
        result.problems.append(
            f"{where}signature over the signed data does not verify with {certs.describe(cert)}"
        )
    expected = digests.get(0x0103)
    if expected is None:
        result.problems.append(f"{where}signed data has no SHA-256 content digest")
    elif expected != content_digest(signed.sections(), sha256, None):
        result.problems.append(
            f"{where}content digest does not match: bytes changed after signing; rebuild the rpk"
        )
    return cert


def _verify_file_digests(
    signed: SignedZip, files: Files, cert: x509.Certificate, where: str, result: RpkSignature
) -> None:
    value = signed.pairs.get(FILES_PAIR)
    if value is None:
        result.problems.append(f"{where}signing block has no per-file digests")
        return
    table = Reader(value, "file digests pair").sub("file digests")
    chunk = table.sub("digest table")
    signature = table.sub("signature")
    algorithm = certs.SIG_ALGORITHMS.get(signature.u32())
    if algorithm is None or not certs.verify(
        cert.public_key(), algorithm, signature.prefixed(), chunk.data
    ):
        result.problems.append(f"{where}per-file digest table signature does not verify")
    chunk.u32()  # the digest algorithm id (always SHA-256, 0x0103)
    expected: dict[int, bytes] = {}
    while chunk.remaining:
        name_crc = chunk.u32()
        expected[name_crc] = chunk.take(chunk.u16())

    for name, member in files.items():
        want = expected.pop(zlib.crc32(name.encode()), None)
        if member is None:
            continue
        if want is None:
            result.problems.append(f"{where}{name} is not covered by the signature")
        elif want != member.digest:
            result.problems.append(f"{where}{name} changed after signing (digest differs)")
        else:
            result.files_checked += 1
    if expected:
        result.problems.append(f"{where}{len(expected)} signed file(s) are missing from the zip")


def _verify_cert_zip(data: bytes, outer: Files, result: RpkSignature) -> None:
    where = f"{CERT_ZIP}: "
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as inner:
            files = _members(Inflater(inner), where, result)
    except zipfile.BadZipFile:
        result.problems.append(f"{CERT_ZIP} is not a zip file")
        return
    _verify_zip(data, files, where, result, unsigned_digest_of=HASH_JSON)
    member = files.get(HASH_JSON)
    if member is None or member.content is None:
        if HASH_JSON not in files:
            result.problems.append(f"{where}{HASH_JSON} is missing")
        return
    try:
        text = member.content.decode("utf-8")
        if json_depth_exceeds(text):
            raise ValueError("nested too deeply")
        digests = json.loads(text)["digests"]
        if not isinstance(digests, dict):
            raise TypeError
    except (ValueError, KeyError, TypeError):
        result.problems.append(f"{where}{HASH_JSON} has no 'digests' object")
        return
    for name, hex_digest in digests.items():
        if name not in outer:
            result.problems.append(f"{HASH_JSON} lists {name}, which is not in the rpk")
            continue
        content = outer[name]
        if content is not None and content.digest.hex() != str(hex_digest).lower():
            result.problems.append(f"{name} does not match its digest in {HASH_JSON}")
