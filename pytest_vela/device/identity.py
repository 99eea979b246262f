"""What the watch runs, as its shell says it (the running image's SHA-256, its OS and board),
for the terminal's header and the report's environment; a watch that cannot say is "unknown",
never a failure."""

from __future__ import annotations

from pytest_vela.device import files
from pytest_vela.device.shell_device import ShellDevice
from pytest_vela.errors import VelaError


def read_identity(watch: ShellDevice) -> dict[str, str]:
    identity: dict[str, str] = {}
    try:
        identity["firmware"] = files.image_digest(watch) or "unknown"
    except VelaError:
        identity["firmware"] = "unknown"
    try:
        words = watch.shell("uname -a").strip().splitlines()[0].split()
    except (VelaError, IndexError):
        words = []
    if len(words) >= 3 and "not found" not in " ".join(words):
        identity["os"] = f"{words[0]} {words[2]}"
        identity["model"] = words[-1]
    return identity
