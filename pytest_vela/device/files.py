"""Files, images and firmware over the console: YMODEM into a directory, verified by the
device's size and SHA-256, and flashing an image (skipped when the watch already runs it)."""

from __future__ import annotations

from pathlib import Path

from tenacity import Retrying, retry_if_exception_type, stop_after_attempt

from pytest_vela.device.shell_device import ShellDevice
from pytest_vela.device.transfer import FileDigest, parse_digest, ymodem_send
from pytest_vela.errors import FlashError


class TransferCorrupt(Exception):
    """The device's digest of a received file differs from ours (retried, bounded)."""


def send_file(watch: ShellDevice, path: Path, dest_dir: str) -> FileDigest:
    """Send ``path`` into ``dest_dir`` and verify it by the device's size and SHA-256;
    a corrupted transfer is retried, bounded."""
    if not path.is_file():
        raise FlashError(f"no such file to send: {path}")
    fw = watch.rig.settings.firmware
    local = FileDigest.of(path)
    remote_path = f"{dest_dir.rstrip('/')}/{path.name}"
    progress = watch.progress_for(path.name)
    for attempt in Retrying(
        stop=stop_after_attempt(fw.transfer_attempts),
        retry=retry_if_exception_type(TransferCorrupt),
        reraise=True,
    ):
        with attempt:
            watch.shell(f"cd {dest_dir}")
            try:
                ymodem_send(
                    watch.console,
                    path,
                    fw.receive_command,
                    watch.rig.settings.timeouts.flash,
                    progress,
                )
            finally:
                # Done or cancelled, the receiver hands back to the shell: wait for it, or
                # the next command's characters would go to a receiver winding down.
                watch.expect_prompt(watch.rig.settings.timeouts.shell, "leaving the transfer")
            remote = parse_digest(watch.shell(f"{fw.hash_command} {remote_path}"))
            if remote != local:
                raise TransferCorrupt(f"{remote_path}: device reports {remote}, expected {local}")
    return local


def image_digest(watch: ShellDevice) -> str | None:
    """The SHA-256 of the running image, as the device reports it."""
    found = parse_digest(watch.shell(watch.rig.settings.firmware.info_command))
    return found.sha256 if found else None


def flash(watch: ShellDevice, image: Path, mode: str) -> bool:
    fw = watch.rig.settings.firmware
    if mode == "never":
        return False
    if not image.is_file():
        raise FlashError(f"firmware image not found: {image}")
    want = FileDigest.of(image)
    if mode == "auto" and image_digest(watch) == want.sha256:
        return False
    try:
        send_file(watch, image, fw.dest)
    except TransferCorrupt as exc:
        raise FlashError(
            f"{image.name} arrived corrupted {fw.transfer_attempts} times: "
            f"{exc}; log: {watch.log_shown}"
        ) from None
    out = watch.shell(f"{fw.apply_command} {fw.dest.rstrip('/')}/{image.name}")
    if "No such file" in out or "fail" in out.lower():
        raise FlashError(f"the device refused the image: {out.strip()}; log: {watch.log_shown}")
    watch.reset()
    running = image_digest(watch)
    if running != want.sha256:
        raise FlashError(
            f"after flashing, the watch runs image {running}, not {want.sha256} "
            f"({image.name}); log: {watch.log_shown}"
        )
    return True
