"""The environment's ``serial`` package is whole: labgrid's ``pyserial-labgrid`` installs the
same package as ``pyserial``, so one of the two must own every file of it (whichever pip
installed last), never a mix or a half-removed package."""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata
from pathlib import Path

import serial
import serial.rfc2217
import serial.serialposix
import serial.tools.miniterm


def _owners() -> dict[str, bool]:
    """For each installed distribution that ships ``serial``: do all its files match?"""
    found = {}
    for name in ("pyserial", "pyserial-labgrid"):
        try:
            dist = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            continue
        whole = True
        for entry in dist.files or []:
            if entry.parts[0] != "serial" or entry.hash is None:
                continue
            path = Path(str(dist.locate_file(entry)))
            digest = hashlib.new(entry.hash.mode, path.read_bytes()).digest()
            whole &= base64.urlsafe_b64encode(digest).rstrip(b"=").decode() == entry.hash.value
        found[name] = whole
    return found


def test_one_distribution_owns_the_serial_package() -> None:
    owners = _owners()
    assert owners, "no distribution ships the serial package"
    assert any(owners.values()), f"serial's files match no installed distribution: {owners}"
    assert serial.__version__.startswith("3.5"), serial.__version__
    assert serial.rfc2217.Serial and serial.serialposix.Serial and serial.tools.miniterm.Miniterm
