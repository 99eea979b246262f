"""The doctor's checks: everything that must hold before a quick app can reach its phone app.

The Vela documentation's preconditions for ``@system.interconnect``: the quick app's manifest
``package`` equals the Android package, and the quick app is signed with the Android app's key.
When either is off the watch only reports 1001 / 1000, so each check here names what it found
and the one change that fixes it.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509

from pytest_vela.doctor import certs
from pytest_vela.doctor.apk import apk_signers
from pytest_vela.doctor.bounded import load_json_object, read_file
from pytest_vela.doctor.keystore import CERT_FILE, KEY_FILE, MODES
from pytest_vela.doctor.machine_paths import FIX, scan
from pytest_vela.doctor.report import Report
from pytest_vela.doctor.rpk import verify_rpk
from pytest_vela.errors import DoctorInputError

FEATURE = "system.interconnect"
IMPORT_PATTERN = re.compile(r"""['"]@system\.interconnect['"]""")
SOURCE_SUFFIXES = {".ux", ".js", ".ts", ".mjs", ".vue"}
SKIP_DIRS = {"node_modules", "build", "dist", ".git"}
EXPIRY_MARGIN = timedelta(days=30)
IMPORT_HINT = "run 'pytest-vela sign import KEYSTORE --out {sign}' with the Android app's keystore"
MISMATCH_EFFECT = (
    "the phone app rejects the watch app ('signature verify failed') and the watch only "
    "reports 1000 (OTHERS)"
)


@dataclass(frozen=True)
class DoctorInput:
    """What to check: the project, the Android package, and optionally the phone side and an rpk.

    ``android_signer`` is an APK or a certificate (PEM or DER) of the Android app's signer.
    """

    app_dir: Path
    android_package: str
    android_signer: Path | None = None
    rpk: Path | None = None
    now: datetime | None = None


def run_checks(inp: DoctorInput) -> Report:
    report = Report(str(inp.app_dir), inp.android_package)
    now = inp.now or datetime.now(UTC)
    if not inp.app_dir.is_dir():
        report.failed(
            "app.dir",
            f"{inp.app_dir} is not a directory",
            "pass the quick app project's root (the folder holding src/ and sign/)",
        )
        return report
    _check_manifest(inp, report)
    sign_certs = {mode: _check_sign_dir(inp.app_dir, mode, now, report) for mode in MODES}
    android = _check_android(inp, sign_certs, report)
    if inp.rpk is not None:
        _check_rpk(inp, sign_certs, android, report)
    return report


# --- manifest ----------------------------------------------------------------------------------


def _check_manifest(inp: DoctorInput, report: Report) -> None:
    candidates = [inp.app_dir / "src" / "manifest.json", inp.app_dir / "manifest.json"]
    path = next((p for p in candidates if p.is_file()), None)
    if path is None:
        report.failed(
            "manifest.found",
            f"no manifest.json in {inp.app_dir}/src or {inp.app_dir}",
            "pass the quick app project's root directory (its manifest is src/manifest.json)",
        )
        return
    shown = path.relative_to(inp.app_dir)
    report.passed("manifest.found", f"manifest: {shown}")
    try:
        manifest = load_json_object(read_file(path), str(shown))
    except DoctorInputError as exc:
        report.failed(
            "manifest.parses", str(exc), exc.fix or f"make {shown} the project's JSON manifest"
        )
        return
    report.passed("manifest.parses", f"{shown} parses")
    _check_package(manifest, shown, inp.android_package, report)
    _check_feature(manifest, shown, inp.app_dir, report)


def _check_package(manifest: dict[str, object], shown: Path, android: str, report: Report) -> None:
    package = manifest.get("package")
    if package == android:
        report.passed("manifest.package", f"package {android} equals the Android package")
        return
    found = f"package is {package!r}" if package else "has no package"
    report.failed(
        "manifest.package",
        f"{shown} {found}, the Android app is {android!r}: the watch finds no phone app of "
        "that name and reports 1001 (APP_UNINSTALLED)",
        f'set "package": "{android}" in {shown}',
    )


def _check_feature(manifest: dict[str, object], shown: Path, app_dir: Path, report: Report) -> None:
    features = manifest.get("features", [])
    names = (
        {f.get("name") for f in features if isinstance(f, dict)}
        if isinstance(features, list)
        else set()
    )
    users = _importers(app_dir)
    used = f"; imported in {', '.join(users[:3])}" if users else "; no code imports it yet"
    if FEATURE in names:
        report.passed("manifest.feature", f"features declares {FEATURE}{used}")
        return
    what = f"{', '.join(users[:3])} import(s) @{FEATURE}, but " if users else ""
    report.failed(
        "manifest.feature",
        f"{what}{shown} does not declare {FEATURE} in features",
        f'add {{ "name": "{FEATURE}" }} to the "features" list of {shown}',
    )


def _importers(app_dir: Path) -> list[str]:
    """Source files (relative) that import @system.interconnect; build output is not walked."""
    root = app_dir / "src" if (app_dir / "src").is_dir() else app_dir
    found: list[str] = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
        for name in sorted(files):
            path = Path(folder) / name
            if path.suffix not in SOURCE_SUFFIXES:
                continue
            try:
                text = path.read_text(encoding="utf-8", errors="replace")
            except OSError:
                continue
            if IMPORT_PATTERN.search(text):
                found.append(str(path.relative_to(app_dir)))
    return found


# --- sign/debug, sign/release ------------------------------------------------------------------


def _check_sign_dir(
    app_dir: Path, mode: str, now: datetime, report: Report
) -> x509.Certificate | None:
    folder = app_dir / "sign" / mode
    rel = Path("sign") / mode
    check = f"sign.{mode}"
    fix = IMPORT_HINT.format(sign=app_dir / "sign")
    missing = [name for name in (KEY_FILE, CERT_FILE) if not (folder / name).is_file()]
    if missing:
        effect = (
            "debug builds fall back to aiot-toolkit's bundled key (CN=localhost), which no "
            "phone app has"
            if mode == "debug"
            else "'aiot release' fails without it"
        )
        report.failed(f"{check}.files", f"{rel} lacks {' and '.join(missing)}: {effect}", fix)
        return None
    try:
        key = certs.load_private_key(folder / KEY_FILE)
        cert = certs.load_certificate(folder / CERT_FILE)
    except DoctorInputError as exc:
        report.failed(f"{check}.files", str(exc), fix)
        return None
    report.passed(f"{check}.files", f"{rel} holds {KEY_FILE} and {CERT_FILE}")
    if certs.is_toolkit_default(cert):
        report.failed(
            f"{check}.toolkit-key",
            f"{rel} holds aiot-toolkit's bundled debug key (CN=localhost): no phone app is "
            "signed with it",
            fix,
        )
    if certs.key_matches(key, cert):
        report.passed(f"{check}.keypair", f"{rel}/{KEY_FILE} is the key of {CERT_FILE}")
    else:
        report.failed(
            f"{check}.keypair",
            f"{rel}/{KEY_FILE} is not the private key of {rel}/{CERT_FILE}: "
            "the rpk's signature will not verify",
            f"write both files from the same keystore entry ({fix})",
        )
    _check_validity(cert, f"{rel}/{CERT_FILE}", f"{check}.validity", now, report)
    return cert


def _check_validity(
    cert: x509.Certificate, shown: str, check: str, now: datetime, report: Report
) -> None:
    start, end = cert.not_valid_before_utc, cert.not_valid_after_utc
    if now < start:
        report.failed(
            check,
            f"{shown} is not valid before {start:%Y-%m-%d}",
            "check this machine's clock, or import the key that is in use today",
        )
    elif now > end:
        report.failed(
            check,
            f"{shown} expired on {end:%Y-%m-%d}",
            "sign with the Android app's current certificate (re-import its keystore)",
        )
    elif end - now < EXPIRY_MARGIN:
        report.warned(
            check,
            f"{shown} expires on {end:%Y-%m-%d}, in {(end - now).days} day(s)",
            "renew the Android app's certificate and re-import it before then",
        )
    else:
        report.passed(check, f"{shown} is valid until {end:%Y-%m-%d}")


# --- the Android app's signer ------------------------------------------------------------------


def _check_android(
    inp: DoctorInput, sign_certs: dict[str, x509.Certificate | None], report: Report
) -> list[x509.Certificate]:
    """Compare sign/ with the Android app's signer; returns the signer's certificate(s)."""
    source = inp.android_signer
    if source is None:
        report.warned(
            "android.signer",
            "the Android app's signer was not checked",
            "pass --apk APP.apk (or --cert CERT.pem) so the doctor can compare keys",
        )
        return []
    try:
        expected = _android_certs(source, report)
    except DoctorInputError as exc:
        report.failed("android.signer", str(exc), "pass the Android app's .apk or certificate")
        return []
    if not expected:
        return []
    names = " or ".join(certs.describe(c) for c in expected)
    wanted = {certs.fingerprint(c) for c in expected}
    for mode, cert in sign_certs.items():
        if cert is None:
            continue
        shown = f"sign/{mode}/{CERT_FILE}"
        if certs.fingerprint(cert) in wanted:
            report.passed(f"android.signer.{mode}", f"{shown} is the Android app's signer")
        else:
            report.failed(
                f"android.signer.{mode}",
                f"{shown} is {certs.describe(cert)}, but {source.name} is signed by {names}: "
                f"{MISMATCH_EFFECT}",
                IMPORT_HINT.format(sign=inp.app_dir / "sign"),
            )
    return expected


def _android_certs(source: Path, report: Report) -> list[x509.Certificate]:
    if certs.read_bytes(source, "the Android app's APK or certificate")[:4] != b"PK\x03\x04":
        return [certs.load_certificate(source)]
    signers = apk_signers(source)
    for problem in signers.problems:
        report.failed(
            "android.apk",
            f"{source.name}: {problem}",
            "pass the APK exactly as the build signed it (for example from app/build/outputs)",
        )
    if not signers.signers:
        return []
    if not signers.problems:
        schemes = ", ".join(s for s, _ in signers.signers)
        report.passed("android.apk", f"{source.name} is signed ({schemes})")
    return signers.distinct()


# --- a built rpk -------------------------------------------------------------------------------


def _check_rpk(
    inp: DoctorInput,
    sign_certs: dict[str, x509.Certificate | None],
    android: list[x509.Certificate],
    report: Report,
) -> None:
    assert inp.rpk is not None
    name = inp.rpk.name
    rebuild = f"rebuild it with 'aiot build' (or 'aiot release') in {inp.app_dir}"
    try:
        result = verify_rpk(inp.rpk)
    except DoctorInputError as exc:
        report.failed("rpk.signature", str(exc), rebuild)
        return
    if result.ok:
        report.passed(
            "rpk.signature", f"{name}: signature and all {result.files_checked} file digests verify"
        )
    else:
        report.failed(
            "rpk.signature",
            f"{name}: " + "; ".join(result.problems) + ": the watch will refuse to install it",
            rebuild,
        )
    _check_machine_paths(inp.rpk, report)
    if result.manifest_problem is not None:
        report.failed(
            "rpk.manifest",
            f"{name}: {result.manifest_problem}: the watch cannot install it as the app",
            rebuild,
        )
    package = (result.manifest or {}).get("package")
    if package is not None and package != inp.android_package:
        report.failed(
            "rpk.package",
            f"{name} was built with package {package!r}, the Android app is "
            f"{inp.android_package!r}: the watch reports 1001 (APP_UNINSTALLED)",
            f"fix the manifest's package, then {rebuild}",
        )
    signer = result.signer
    if signer is None:
        return
    if certs.is_toolkit_default(signer):
        report.failed(
            "rpk.signer",
            f"{name} is signed by aiot-toolkit's bundled debug key (CN=localhost), used when "
            f"sign/debug is missing: {MISMATCH_EFFECT}",
            f"{IMPORT_HINT.format(sign=inp.app_dir / 'sign')}, then {rebuild}",
        )
        return
    mode = "release" if ".release." in name else "debug"
    local = sign_certs.get(mode)
    if android and certs.fingerprint(signer) not in {certs.fingerprint(c) for c in android}:
        report.failed(
            "rpk.signer",
            f"{name} is signed by {certs.describe(signer)}, not by the Android app's key "
            f"({certs.describe(android[0])}): {MISMATCH_EFFECT}",
            f"put the Android app's key in sign/{mode}, then {rebuild}",
        )
    elif local is not None and certs.fingerprint(signer) != certs.fingerprint(local):
        report.failed(
            "rpk.signer",
            f"{name} is signed by {certs.describe(signer)}, not by sign/{mode}/{CERT_FILE} "
            f"({certs.describe(local)}): it was built before the key changed",
            rebuild,
        )
    else:
        report.passed("rpk.signer", f"{name} is signed by {certs.describe(signer)}")


def _check_machine_paths(rpk: Path, report: Report) -> None:
    """A WARN: paths of the building machine in the bundles (the toolkit's default build)."""
    try:
        found = scan(rpk)
    except DoctorInputError:
        return  # rpk.signature has said why it cannot be read
    if not found.found:
        report.passed(
            "rpk.paths", f"{rpk.name}: no build-machine paths in its {found.scanned} text files"
        )
        return
    member, paths = next(iter(found.found.items()))
    report.warned(
        "rpk.paths",
        f"{rpk.name} holds {found.count} absolute paths of the machine that built it, in "
        f"{len(found.found)} of its files (e.g. {member}: {paths[0]}): whoever installs it "
        "learns where and by whom it was built, and its bytes change with the machine",
        FIX,
    )
