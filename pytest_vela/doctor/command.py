"""``pytest-vela doctor`` and ``pytest-vela sign import``.

Passwords are read from ``VELA_KEYSTORE_PASSWORD`` / ``VELA_KEY_PASSWORD`` or a prompt, never
from the command line (where ``ps`` and shell history would keep them), and are never printed.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path
from typing import Any

from pytest_vela.doctor import certs
from pytest_vela.doctor.checks import DoctorInput, run_checks
from pytest_vela.doctor.keystore import KeyPasswordNeeded, read_keystore, write_sign_dirs
from pytest_vela.errors import DoctorInputError

STORE_PASSWORD_ENV = "VELA_KEYSTORE_PASSWORD"
KEY_PASSWORD_ENV = "VELA_KEY_PASSWORD"
EXIT_FAILED = 1
EXIT_USAGE = 2


def register(sub: Any) -> None:
    """Add ``doctor`` and ``sign`` to the ``pytest-vela`` command's subparsers."""
    doctor = sub.add_parser(
        "doctor",
        help="check that a quick app can reach its Android app (package, keys, rpk)",
        description="Check the preconditions of @system.interconnect: the manifest package "
        "equals the Android package and the quick app is signed with the Android app's key. "
        "Exit code 0 only when no check fails.",
    )
    doctor.add_argument("app_dir", type=Path, metavar="APP_DIR", help="the quick app project")
    doctor.add_argument(
        "--android-package",
        required=True,
        metavar="PKG",
        help="the phone app's Android package (the quick app's package must equal it)",
    )
    signer = doctor.add_mutually_exclusive_group()
    signer.add_argument("--apk", type=Path, help="the Android app, to read its signer")
    signer.add_argument("--cert", type=Path, help="the Android app's signing certificate")
    doctor.add_argument("--rpk", type=Path, help="a built rpk, to verify its signature")
    doctor.add_argument("--json", action="store_true", help="print the report as JSON")
    doctor.set_defaults(run=run_doctor)

    sign = sub.add_parser("sign", help="signing keys of the quick app")
    sign_sub = sign.add_subparsers(dest="sign_command", required=True, metavar="ACTION")
    imp = sign_sub.add_parser(
        "import",
        help="write sign/debug and sign/release from the Android app's keystore",
        description="Write private.pem (mode 0600) and certificate.pem into OUT/debug and "
        f"OUT/release from a JKS or PKCS#12 keystore. The keystore password is read from "
        f"{STORE_PASSWORD_ENV} or asked for; a separate key password from {KEY_PASSWORD_ENV}.",
    )
    imp.add_argument("keystore", type=Path, metavar="KEYSTORE", help=".jks, .p12 or .pfx")
    imp.add_argument("--alias", help="the key entry to use (needed when there are several)")
    imp.add_argument("--out", type=Path, default=Path("sign"), help="default: ./sign")
    imp.add_argument("--force", action="store_true", help="replace existing different files")
    imp.set_defaults(run=run_sign_import)


def run_doctor(args: argparse.Namespace) -> int:
    try:
        report = run_checks(
            DoctorInput(
                app_dir=args.app_dir,
                android_package=args.android_package,
                android_signer=args.apk or args.cert,
                rpk=args.rpk,
            )
        )
    except DoctorInputError as exc:
        print(f"pytest-vela doctor: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(report.to_json() if args.json else report.render())
    return 0 if report.ok else EXIT_FAILED


def run_sign_import(args: argparse.Namespace) -> int:
    try:
        store_password = _password(STORE_PASSWORD_ENV, f"Password of {args.keystore.name}: ")
        key_password = os.environ.get(KEY_PASSWORD_ENV)
        try:
            entry = read_keystore(args.keystore, store_password, args.alias, key_password)
        except KeyPasswordNeeded:
            if key_password is not None or not sys.stdin.isatty():
                raise
            key_password = getpass.getpass("Password of the key: ")
            entry = read_keystore(args.keystore, store_password, args.alias, key_password)
        written = write_sign_dirs(entry, args.out, force=args.force)
    except DoctorInputError as exc:
        print(f"pytest-vela sign import: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except (KeyboardInterrupt, EOFError):
        print("pytest-vela sign import: cancelled", file=sys.stderr)
        return EXIT_FAILED
    cert = entry.certificate
    print(f"key entry {entry.alias or '(unnamed)'}: {cert.subject.rfc4514_string()}")
    print(f"  SHA-256 {certs.fingerprint_colons(cert)}")
    print(f"  valid until {cert.not_valid_after_utc:%Y-%m-%d}")
    for path in written:
        print(f"wrote {path} ({path.stat().st_mode & 0o777:04o})")
    return 0


def _password(env: str, prompt: str) -> str:
    value = os.environ.get(env)
    if value is not None:
        return value
    if not sys.stdin.isatty():
        raise DoctorInputError(f"no password: set {env}, or run in a terminal to be asked")
    return getpass.getpass(prompt)


def main(argv: list[str] | None = None) -> int:
    """Run ``doctor`` or ``sign`` on their own (``python -m pytest_vela.doctor.command``)."""
    parser = argparse.ArgumentParser(prog="pytest-vela")
    register(parser.add_subparsers(dest="command", required=True, metavar="COMMAND"))
    args = parser.parse_args(argv)
    result: int = args.run(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
