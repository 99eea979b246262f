"""Quick apps on the watch: install (uninstalling first: overwriting keeps the old bytecode
cache), uninstall and launch, each judged by what the device prints."""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_fixed

from pytest_vela.device.files import TransferCorrupt, send_file
from pytest_vela.device.shell_device import ShellDevice
from pytest_vela.errors import AppNotInstalled, ExpectTimeout, FlashError, InstallError


class InstallerBusy(Exception):
    """ "installation is running, please wait": retried after a pause, bounded."""


def install(watch: ShellDevice, rpk: Path) -> str:
    package = rpk_package(rpk)
    install_dir = watch.rig.settings.app.install_dir
    try:
        send_file(watch, rpk, install_dir)
    except TransferCorrupt as exc:
        raise FlashError(f"{rpk.name} arrived corrupted: {exc}; log: {watch.log_path}") from None
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
            f"the device said {str(exc)!r}; log: {watch.log_path}"
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
            f"last output:\n{exc.seen}\nlog: {watch.log_path}"
        ) from None
    watch.expect_prompt(timeouts.shell, f"installing {package}")
    if match["busy"]:
        raise InstallerBusy(match.group(0))
    if match["failed"] or match["result"] != "success 0":
        raise InstallError(
            f"installing {package} failed: the device said {match.group(0)!r}; "
            f"log: {watch.log_path}"
        )


def uninstall(watch: ShellDevice, package: str, missing_ok: bool = False) -> None:
    """``pm uninstall``; the app stops, if it ran."""
    out = watch.shell(f"pm uninstall {package}", watch.rig.settings.timeouts.install)
    watch.app_stopped(package)
    if f"uninstalled app: {package}" not in out and not missing_ok:
        raise InstallError(f"uninstalling {package} failed: {out.strip()!r}; log: {watch.log_path}")


def launch(watch: ShellDevice, package: str) -> None:
    timeout = watch.rig.settings.timeouts.launch
    watch.console.discard_pending()
    watch.console.write_line(f"am start {package}")
    try:
        match = watch.console.expect(
            re.compile(r"(?P<ok>Start main loop)|(?P<failed>Failed to open: [^\r\n]*)"), timeout
        )
    except ExpectTimeout as exc:
        raise InstallError(
            f"{package} did not reach 'Start main loop' within {timeout:g} s; "
            f"last output:\n{exc.seen}\nlog: {watch.log_path}"
        ) from None
    watch.expect_prompt(watch.rig.settings.timeouts.shell, f"launching {package}")
    if match["failed"]:
        if match["failed"].endswith("manifest.json"):
            raise AppNotInstalled(
                f"launching {package} failed: {match['failed']!r} (is it installed?); "
                f"log: {watch.log_path}"
            )
        raise InstallError(
            f"launching {package} failed: {match['failed']!r}; log: {watch.log_path}"
        )


def rpk_package(rpk: Path) -> str:
    """The ``package`` of an rpk's manifest, with a clear error for anything else."""
    try:
        with zipfile.ZipFile(rpk) as archive:
            manifest = json.loads(archive.read("manifest.json"))
        return str(manifest["package"])
    except FileNotFoundError:
        raise InstallError(f"no such package file: {rpk}") from None
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise InstallError(
            f"{rpk} is not a quick app package (.rpk with a manifest.json "
            f"naming its package): {exc}"
        ) from None
