"""Test vectors made on the spot: keys, certificates, quick app projects, APKs and rpks.

The APK and rpk writers here follow the public formats (APK Signature Scheme v2/v3, JAR
signing, and the aiot-toolkit packager's rpk layout) so that the readers under test can be
checked without Java or Node; tests that have those tools also use real keytool keystores and
real ``aiot build`` output.
"""

from __future__ import annotations

import io
import json
import struct
import subprocess
import zipfile
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import NameOID

from pytest_vela.doctor.sigblock import content_digest, sha256
from tests.support.tools import required_tool

PACKAGE = "com.example.watchapp"


@dataclass(frozen=True)
class Identity:
    """A private key and its self-signed certificate."""

    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
    cert: x509.Certificate

    @property
    def key_pem(self) -> bytes:
        return self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    @property
    def cert_pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    @property
    def cert_der(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.DER)

    @property
    def spki(self) -> bytes:
        return self.key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def sign(self, data: bytes) -> bytes:
        if isinstance(self.key, rsa.RSAPrivateKey):
            return self.key.sign(data, padding.PKCS1v15(), hashes.SHA256())
        return self.key.sign(data, ec.ECDSA(hashes.SHA256()))


def make_identity(
    cn: str,
    *,
    valid_from: timedelta = timedelta(days=-1),
    valid_for: timedelta = timedelta(days=3650),
    kind: str = "rsa",
) -> Identity:
    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
    if kind == "rsa":
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    else:
        key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    start = datetime.now(UTC) + valid_from
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + valid_for)
        .sign(key, hashes.SHA256())
    )
    return Identity(key, cert)


# --- quick app projects --------------------------------------------------------------------------

PAGE = """<template>
  <div><text>{{ state }}</text></div>
</template>
<script>
import interconnect from '@system.interconnect'
export default {
  data: { state: 'idle' },
  onInit() {
    const connect = interconnect.instance()
    connect.onopen = () => { this.state = 'open' }
  }
}
</script>
"""


def manifest(package: str = PACKAGE, features: list[str] | None = None) -> dict[str, object]:
    names = ["system.interconnect"] if features is None else features
    return {
        "package": package,
        "name": "watchapp",
        "versionName": "1.0.0",
        "versionCode": 1,
        "minPlatformVersion": 1000,
        "icon": "/common/logo.png",
        "deviceTypeList": ["watch"],
        "features": [{"name": n} for n in names],
        "config": {"logLevel": "log", "designWidth": 480},
        "router": {"entry": "pages/index", "pages": {"pages/index": {"component": "index"}}},
    }


def png_1x1() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\x00\x00\x00"))
        + chunk(b"IEND", b"")
    )


def write_project(
    root: Path,
    *,
    package: str = PACKAGE,
    features: list[str] | None = None,
    identity: Identity | None = None,
    page: str = PAGE,
) -> Path:
    """A buildable watch quick app project; ``identity`` goes into sign/debug and sign/release."""
    src = root / "src"
    (src / "pages" / "index").mkdir(parents=True)
    (src / "common").mkdir()
    (src / "manifest.json").write_text(json.dumps(manifest(package, features), indent=2))
    (src / "app.ux").write_text("<script>\nexport default { onCreate() {} }\n</script>\n")
    (src / "pages" / "index" / "index.ux").write_text(page)
    (src / "common" / "logo.png").write_bytes(png_1x1())
    (root / "package.json").write_text(json.dumps({"name": "watchapp", "version": "1.0.0"}))
    if identity is not None:
        write_sign(root, identity)
    return root


def write_sign(
    root: Path, identity: Identity, modes: tuple[str, ...] = ("debug", "release")
) -> None:
    for mode in modes:
        folder = root / "sign" / mode
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "private.pem").write_bytes(identity.key_pem)
        (folder / "certificate.pem").write_bytes(identity.cert_pem)


# --- signing blocks ---------------------------------------------------------------------------


def u32(n: int) -> bytes:
    return struct.pack("<I", n)


def lp(data: bytes) -> bytes:
    """u32-length-prefixed."""
    return u32(len(data)) + data


def zip_bytes(files: dict[str, bytes], stored: bool = False) -> bytes:
    buf = io.BytesIO()
    method = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(buf, "w", method) as zf:
        for name, content in files.items():
            zf.writestr(name, content)
    return buf.getvalue()


def _layout(data: bytes) -> tuple[int, int]:
    eocd = data.rindex(b"PK\x05\x06")
    (cd,) = struct.unpack_from("<I", data, eocd + 16)
    return cd, eocd


def insert_block(data: bytes, pairs: list[tuple[int, bytes]], magic: bytes) -> bytes:
    """``data`` with a signing block of ``pairs`` before its central directory."""
    cd, eocd = _layout(data)
    body = b"".join(struct.pack("<QI", len(v) + 4, pid) + v for pid, v in pairs)
    size = len(body) + 8 + 16
    block = struct.pack("<Q", size) + body + struct.pack("<Q", size) + magic
    footer = bytearray(data[eocd:])
    struct.pack_into("<I", footer, 16, cd + len(block))
    return data[:cd] + block + data[cd:eocd] + bytes(footer)


def sections(data: bytes) -> list[bytes]:
    cd, eocd = _layout(data)
    return [data[:cd], data[cd:eocd], data[eocd:]]


# --- rpk, as the aiot-toolkit packager lays it out -----------------------------------------------

RPK_MAGIC = b"RPK Sig Block 42"


def rpk_sign(unsigned: bytes, files: dict[str, bytes], identity: Identity) -> bytes:
    digest = content_digest(sections(unsigned), sha256, None)
    signed_data = lp(lp(u32(0x0103) + lp(digest))) + lp(lp(identity.cert_der)) + u32(0)
    signer = (
        lp(signed_data) + lp(lp(u32(0x0103) + lp(identity.sign(signed_data)))) + lp(identity.spki)
    )
    table = u32(0x0103) + b"".join(
        u32(zlib.crc32(name.encode())) + struct.pack("<H", 32) + sha256(content)
        for name, content in files.items()
    )
    file_pair = lp(lp(table) + lp(u32(0x0103) + lp(identity.sign(table))))
    return insert_block(
        unsigned, [(0x01000101, lp(lp(signer))), (0x01000201, file_pair)], RPK_MAGIC
    )


def make_rpk(
    files: dict[str, bytes], identity: Identity, cert_identity: Identity | None = None
) -> bytes:
    """An rpk of ``files`` plus META-INF/CERT, signed like ``aiot build`` signs it.

    ``cert_identity`` signs the inner META-INF/CERT zip (default: the same identity).
    """
    hash_json = json.dumps(
        {"algorithm": "SHA-256", "digests": {n: sha256(c).hex() for n, c in files.items()}}
    ).encode()
    inner_unsigned = zip_bytes({"hash.json": hash_json})
    inner = rpk_sign(inner_unsigned, {"hash.json": inner_unsigned}, cert_identity or identity)
    # the file table holds sha256(content); for hash.json the packager takes the unsigned zip
    all_files = {"META-INF/CERT": inner, **files}
    unsigned = zip_bytes(all_files)
    return rpk_sign(unsigned, all_files, identity)


def rpk_files(package: str = PACKAGE) -> dict[str, bytes]:
    return {
        "manifest.json": json.dumps(manifest(package)).encode(),
        "app.js": b"(function(){ /* app */ })();\n" * 20,
        "pages/index/index.js": b"(function(){ /* page */ })();\n" * 40,
        "common/logo.png": png_1x1(),
    }


# --- APK -----------------------------------------------------------------------------------------

APK_MAGIC = b"APK Sig Block 42"
V2_ID = 0x7109871A
V3_ID = 0xF05368C0


def apk_unsigned(big: bool = False) -> bytes:
    """A small APK-like zip; ``big`` adds 1.5 MiB of stored data to span several 1 MiB chunks."""
    files = {
        "AndroidManifest.xml": b"\x03\x00\x08\x00binary xml stand-in",
        "classes.dex": b"dex\n035\x00" + bytes(range(256)) * 8,
    }
    if big:
        files["assets/blob.bin"] = bytes((i * 7919) % 251 for i in range(1_536_000))
    return zip_bytes(files, stored=big)


def _apk_signer_block(unsigned: bytes, identity: Identity, v3: bool) -> bytes:
    # unsigned, the EOCD's directory offset is where the block will start, as the digest needs
    digest = content_digest(sections(unsigned), sha256, 1024 * 1024)
    alg = 0x0103 if isinstance(identity.key, rsa.RSAPrivateKey) else 0x0201
    sdk = struct.pack("<II", 24, 0x7FFFFFFF) if v3 else b""
    signed_data = lp(lp(u32(alg) + lp(digest))) + lp(lp(identity.cert_der)) + sdk + lp(b"")
    signer = lp(signed_data) + sdk + lp(lp(u32(alg) + lp(identity.sign(signed_data))))
    return lp(lp(signer + lp(identity.spki)))


def sign_apk_v2(unsigned: bytes, identity: Identity, v3: Identity | None = None) -> bytes:
    """Sign with APK Signature Scheme v2 (and v3 with another or the same identity)."""
    pairs = [(V2_ID, _apk_signer_block(unsigned, identity, v3=False))]
    if v3 is not None:
        pairs.append((V3_ID, _apk_signer_block(unsigned, v3, v3=True)))
    return insert_block(unsigned, pairs, APK_MAGIC)


def sign_apk_v1(files: dict[str, bytes], identity: Identity) -> bytes:
    """A JAR-signed APK: MANIFEST.MF, CERT.SF and a PKCS#7 CERT.RSA over the .SF."""
    import base64

    def b64(data: bytes) -> str:
        return base64.b64encode(sha256(data)).decode()

    mf = "Manifest-Version: 1.0\r\n\r\n" + "".join(
        f"Name: {n}\r\nSHA-256-Digest: {b64(c)}\r\n\r\n" for n, c in files.items()
    )
    sf = f"Signature-Version: 1.0\r\nSHA-256-Digest-Manifest: {b64(mf.encode())}\r\n\r\n"
    assert isinstance(identity.key, rsa.RSAPrivateKey)
    block = (
        pkcs7.PKCS7SignatureBuilder()
        .set_data(sf.encode())
        .add_signer(identity.cert, identity.key, hashes.SHA256())
        .sign(serialization.Encoding.DER, [pkcs7.PKCS7Options.DetachedSignature])
    )
    return zip_bytes(
        {
            **files,
            "META-INF/MANIFEST.MF": mf.encode(),
            "META-INF/CERT.SF": sf.encode(),
            "META-INF/CERT.RSA": block,
        }
    )


# --- keytool -------------------------------------------------------------------------------------


def keytool() -> str:
    return required_tool("keytool", package="openjdk-17-jre-headless")


def keytool_genkey(
    store: Path,
    store_type: str,
    store_password: str,
    alias: str,
    *,
    key_password: str | None = None,
    cn: str = "Android Debug",
    keyalg: str = "RSA",
) -> None:
    """Add a key pair to ``store`` with ``keytool -genkeypair`` (never via a shell)."""
    argv = [
        keytool(),
        "-genkeypair",
        "-keystore", str(store),
        "-storetype", store_type,
        "-storepass", store_password,
        "-alias", alias,
        "-keyalg", keyalg,
        "-dname", f"CN={cn}, O=Example",
        "-validity", "3650",
    ]  # fmt: skip
    if keyalg == "RSA":
        argv += ["-keysize", "2048"]
    if key_password is not None:
        argv += ["-keypass", key_password]
    subprocess.run(argv, check=True, capture_output=True, timeout=120)


def keytool_export_cert(store: Path, store_password: str, alias: str) -> x509.Certificate:
    out = subprocess.run(
        [keytool(), "-exportcert", "-rfc", "-keystore", str(store), "-storepass",
         store_password, "-alias", alias],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    return x509.load_pem_x509_certificate(out.stdout)
