"""Quick apps on the watch: install (uninstalling first: overwriting keeps the old bytecode
cache), uninstall and launch, each judged by what the device prints."""

from __future__ import annotations

import hashlib
import json
import re
import zipfile
from pathlib import Path
from typing import Any

from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_fixed

from pytest_vela.device.files import TransferCorrupt, send_file
from pytest_vela.device.shell_device import ShellDevice
from pytest_vela.errors import (
    AppLoadFailed,
    AppNotInstalled,
    ExpectTimeout,
    FlashError,
    InstallError,
)


class InstallerBusy(Exception):
    """ "installation is running, please wait": retried after a pause, bounded."""


def install(watch: ShellDevice, rpk: Path) -> str:
    package = rpk_package(rpk)
    install_dir = watch.rig.settings.app.install_dir
    try:
        send_file(watch, rpk, install_dir)
    except TransferCorrupt as exc:
        raise FlashError(f"{rpk.name} arrived corrupted: {exc}; log: {watch.log_shown}") from None
    uninstall(watch, package, missing_ok=True)
    timeouts = watch.rig.settings.timeouts
    try:
        for attempt in Retrying(
            stop=stop_after_attempt(timeouts.install_attempts),
            wait=wait_fixed(timeouts.install_retry_wait),
            retry=retry_if_exception_type(InstallerBusy),
            reraise=True,
        ):
            with attempt:
                pm_install(watch, package, f"{install_dir.rstrip('/')}/{rpk.name}")
    except InstallerBusy as exc:
        raise InstallError(
            f"installing {package}: the installer was still busy after "
            f"{timeouts.install_attempts} attempts {timeouts.install_retry_wait:g} s apart; "
            f"the device said {str(exc)!r}; log: {watch.log_shown}"
        ) from None
    return package


def pm_install(watch: ShellDevice, package: str, remote: str) -> None:
    timeouts = watch.rig.settings.timeouts
    watch.console.discard_pending()
    watch.console.write_line(f"pm install {remote}")
    outcome = re.compile(
        rf"onInstallResult: {re.escape(package)}\((?P<result>[^)]*)\)"
        r"|(?P<busy>installation is running, please wait)"
        r"|(?P<failed>install prepare failed|No such file[^\n]*)"
    )
    try:
        match = watch.console.expect(outcome, timeouts.install)
    except ExpectTimeout as exc:
        raise InstallError(
            f"no install result for {package} within {timeouts.install:g} s; "
            f"last output:\n{exc.seen}\nlog: {watch.log_shown}"
        ) from None
    watch.expect_prompt(timeouts.shell, f"installing {package}")
    if match["busy"]:
        raise InstallerBusy(match.group(0))
    if match["failed"] or match["result"] != "success 0":
        raise InstallError(
            f"installing {package} failed: the device said {match.group(0)!r}; "
            f"log: {watch.log_shown}"
        )


def uninstall(watch: ShellDevice, package: str, missing_ok: bool = False) -> None:
    """``pm uninstall``; the app stops, if it ran."""
    out = watch.shell(f"pm uninstall {package}", watch.rig.settings.timeouts.install)
    watch.app_stopped(package)
    if f"uninstalled app: {package}" not in out and not missing_ok:
        raise InstallError(
            f"uninstalling {package} failed: {out.strip()!r}; log: {watch.log_shown}"
        )


LAUNCHED = re.compile(r"(?P<ok>Start main loop)|(?P<failed>Failed to open: [^\r\n]*)")


def launch(watch: ShellDevice, package: str) -> None:
    """``am start`` and wait for the app's main loop. The wait reads lines as they pass and
    consumes nothing: what the app printed while starting, before or after its main loop,
    stays for the test's ``console.expect``. An app that is not there is ``AppNotInstalled``
    (a rig fault); one whose bundles fail to load is ``AppLoadFailed`` (the app's own)."""
    timeout = watch.rig.settings.timeouts.launch
    seen: list[str] = []

    def listener(line: str, _ts: float) -> None:
        seen.append(line)

    console = watch.console
    console.discard_pending()
    console.watch_lines(LAUNCHED, listener)
    try:
        console.write_line(f"am start {package}")
        if not console.wait_until(lambda: bool(seen), timeout):
            raise InstallError(
                f"{package} did not reach 'Start main loop' within {timeout:g} s; "
                f"last output:\n{console.recent}\nlog: {watch.log_shown}"
            )
    finally:
        console.unwatch_lines(listener)
    match = LAUNCHED.search(seen[0])
    assert match is not None, "the listener saw it"
    failed = match["failed"]
    if failed is None:
        return
    if failed.endswith("manifest.json"):
        raise AppNotInstalled(
            f"launching {package} failed: {failed!r} (is it installed?); log: {watch.log_shown}"
        )
    raise AppLoadFailed(f"{package} cannot start: {failed!r}; log: {watch.log_shown}")


def rpk_package(rpk: Path) -> str:
    """The ``package`` of an rpk's manifest, with a clear error for anything else."""
    return str(rpk_manifest(rpk)["package"])


def rpk_identity(rpk: Path) -> dict[str, str]:
    """What the report says of an app it tested: its package, its version and the SHA-256 of
    the rpk file (the one that tells two builds of one version apart)."""
    manifest = rpk_manifest(rpk)
    with rpk.open("rb") as built:
        digest = hashlib.file_digest(built, "sha256").hexdigest()
    version = manifest.get("versionName")
    code = manifest.get("versionCode")
    shown = f"{version} ({code})" if version is not None and code is not None else version or code
    return {
        "app": str(manifest["package"]),
        "app.version": str(shown if shown is not None else "unknown"),
        "app.sha256": digest,
    }


def rpk_manifest(rpk: Path) -> dict[str, Any]:
    """An rpk's ``manifest.json``, with a clear error for anything that is not one."""
    try:
        with zipfile.ZipFile(rpk) as archive:
            manifest = json.loads(archive.read("manifest.json"))
        if not isinstance(manifest, dict) or "package" not in manifest:
            raise KeyError("package")
        return manifest
    except FileNotFoundError:
        raise InstallError(f"no such package file: {rpk}") from None
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise InstallError(
            f"{rpk} is not a quick app package (.rpk with a manifest.json "
            f"naming its package): {exc}"
        ) from None
