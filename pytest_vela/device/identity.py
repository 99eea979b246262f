"""What the watch runs, as its shell says it: ``uname``'s fields and the running image's
SHA-256, for the terminal's header and the report's environment.

``uname -a`` cannot be read by word position: nsh leaves out an empty node name (or prints
it empty, two spaces, where networking is built in) and the build's version holds spaces
(``NuttX 0.0.0 0 Dec  4 2026 14:24:02 sim sim``). So each field is asked for by its flag.
A shell without ``uname``, or a flag it refuses, leaves that field unknown; it never fails.
"""

from __future__ import annotations

from dataclasses import dataclass

from pytest_vela.device import files
from pytest_vela.device.shell_device import ShellDevice
from pytest_vela.errors import VelaError

# The shell's words for "no answer" (nsh: "nsh: uname: command not found", "argument invalid").
_REFUSALS = ("nsh:", "not found", "invalid", "usage", "unknown option")


@dataclass(frozen=True)
class WatchIdentity:
    os_name: str | None = None  # uname -s: "NuttX"
    release: str | None = None  # uname -r: "12.8.0", or "0.0.0" from a source tree
    version: str | None = None  # uname -v: the build, e.g. "0 Dec  4 2026 14:24:02"
    machine: str | None = None  # uname -m: "sim", "arm"
    firmware: str | None = None  # the running image's SHA-256, where the watch tells it

    @property
    def os(self) -> str | None:
        """The system and its release, e.g. "NuttX 0.0.0"."""
        named = " ".join(part for part in (self.os_name, self.release) if part)
        return named or None

    def summary(self) -> str:
        """One phrase for a header: "NuttX 0.0.0 on sim" (what is known of it)."""
        if self.machine:
            return f"{self.os or 'unknown system'} on {self.machine}"
        return self.os or "unknown system"

    def environment(self) -> dict[str, str]:
        """The report's environment entries: ``os``, ``os.version``, ``model`` (the
        machine) where known, and ``firmware`` ("unknown" when the watch cannot tell)."""
        found = {"os": self.os, "os.version": self.version, "model": self.machine}
        entries = {key: value for key, value in found.items() if value}
        entries["firmware"] = self.firmware or "unknown"
        return entries


def read_identity(watch: ShellDevice) -> WatchIdentity:
    """Ask the watch: ``uname -s``, ``-r``, ``-v``, ``-m`` one by one (the rest skipped when
    it has no ``uname``), and the image's digest as the rig's ``firmware.info_command``
    gives it."""
    fields: dict[str, str | None] = {}
    for name, flag in (("os_name", "-s"), ("release", "-r"), ("version", "-v"), ("machine", "-m")):
        answer = _ask(watch, f"uname {flag}")
        if answer is None and name == "os_name":
            break
        fields[name] = answer
    try:
        firmware = files.image_digest(watch)
    except VelaError:
        firmware = None
    return WatchIdentity(**fields, firmware=firmware)


def _ask(watch: ShellDevice, command: str) -> str | None:
    """The one line ``command`` answers, or None for a refusal, silence or no answer."""
    try:
        lines = [line.strip() for line in watch.shell(command).splitlines() if line.strip()]
    except VelaError:
        return None
    if len(lines) != 1 or any(word in lines[0] for word in _REFUSALS):
        return None
    return lines[0]
