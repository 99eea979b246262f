"""Reading what the doctor is handed, within bounds: zip members and JSON documents.

An rpk or APK is someone else's zip. A member may claim any size and inflate to far more than
the file itself (a 300 KB rpk can hold a manifest of 300 MB); a JSON document may nest deeper
than any parser recurses. So every member is read with a limit on what it inflates to (and one
on all members of an archive together), and JSON is parsed only when small and shallow enough.
"""

from __future__ import annotations

import hashlib
import json
import lzma
import re
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path

from pytest_vela.errors import DoctorInputError

MIB = 1024 * 1024
SMALL_LIMIT = 1 * MIB  # manifest.json, hash.json, META-INF/CERT, a v1 signature block
MEMBER_LIMIT = 64 * MIB  # any other one member the doctor reads (to hash it)
ARCHIVE_LIMIT = 256 * MIB  # all members of one archive together
JSON_DEPTH_LIMIT = 100  # quick app manifests nest 4 or 5 deep
CHUNK = 64 * 1024

# What reading a damaged member can raise, whatever its compression method.
UNREADABLE = (
    zipfile.BadZipFile,
    zlib.error,
    lzma.LZMAError,
    EOFError,
    OSError,
    NotImplementedError,  # a compression method zipfile lacks
    RuntimeError,  # an encrypted member
)


def size_text(n: int) -> str:
    return f"{n // MIB} MiB" if n >= MIB and n % MIB == 0 else f"{n} bytes"


class Inflater:
    """Reads members of one zip, each within its limit and all within ``total``."""

    def __init__(self, archive: zipfile.ZipFile, total: int = ARCHIVE_LIMIT) -> None:
        self.archive = archive
        self.total = total
        self._left = total

    def chunks(self, info: zipfile.ZipInfo, limit: int) -> Iterator[bytes]:
        """The member's bytes; :class:`DoctorInputError` once it inflates past ``limit``
        (or the archive past ``total``). Reading errors are the ``UNREADABLE`` ones."""
        if info.file_size > limit:
            raise self._too_large(info, limit)
        read = 0
        with self.archive.open(info) as member:
            while chunk := member.read(CHUNK):
                read += len(chunk)
                self._left -= len(chunk)
                if read > limit:
                    raise self._too_large(info, limit)
                if self._left < 0:
                    raise DoctorInputError(
                        f"its files inflate to more than {size_text(self.total)} in all, the "
                        "most the doctor reads of one package"
                    )
                yield chunk

    def read(self, info: zipfile.ZipInfo, limit: int = SMALL_LIMIT) -> bytes:
        return b"".join(self.chunks(info, limit))

    def sha256(self, info: zipfile.ZipInfo, limit: int = MEMBER_LIMIT) -> bytes:
        digest = hashlib.sha256()
        for chunk in self.chunks(info, limit):
            digest.update(chunk)
        return digest.digest()

    @staticmethod
    def _too_large(info: zipfile.ZipInfo, limit: int) -> DoctorInputError:
        return DoctorInputError(
            f"{info.filename} inflates to more than {size_text(limit)}, the most the doctor "
            "reads of that file"
        )


def read_file(path: Path, limit: int = SMALL_LIMIT) -> bytes:
    """A small file's bytes; :class:`DoctorInputError` when it is larger than ``limit``."""
    try:
        with path.open("rb") as fh:
            data = fh.read(limit + 1)
    except OSError as exc:
        raise DoctorInputError(f"{path}: cannot be read ({exc.strerror})") from None
    if len(data) > limit:
        raise DoctorInputError(
            f"{path} is larger than {size_text(limit)}, the most the doctor reads of it",
            fix=f"check that {path} is the file meant",
        )
    return data


_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def json_depth_exceeds(text: str, limit: int = JSON_DEPTH_LIMIT) -> bool:
    """Whether arrays and objects in ``text`` nest deeper than ``limit`` (strings skipped)."""
    depth = 0
    for token in _TOKENS.finditer(text):
        bracket = token.group()
        if bracket in ("[", "{"):
            depth += 1
            if depth > limit:
                return True
        elif bracket in ("]", "}"):
            depth -= 1
    return False


def load_json_object(data: bytes, shown: str) -> dict[str, object]:
    """``data`` as a JSON object, or :class:`DoctorInputError` saying why it is not one:
    too large, not UTF-8, nested too deep, not JSON, or JSON but not an object.

    The error's ``fix`` is set for a syntax error (fix it at that spot) and for the others."""
    if len(data) > SMALL_LIMIT:
        raise DoctorInputError(
            f"{shown} is larger than {size_text(SMALL_LIMIT)}; a quick app manifest is a few KB",
            fix=f"check that {shown} is the manifest aiot-toolkit reads",
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DoctorInputError(
            f"{shown} is not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start})",
            fix=f"save {shown} as UTF-8",
        ) from None
    if json_depth_exceeds(text):
        raise DoctorInputError(
            f"{shown} nests arrays or objects more than {JSON_DEPTH_LIMIT} deep",
            fix=f"flatten {shown}: a manifest nests a few levels",
        )
    try:
        loaded = json.loads(text)
    except ValueError as exc:
        raise DoctorInputError(
            f"{shown} is not valid JSON: {exc}", fix=f"fix the JSON syntax of {shown} at that spot"
        ) from None
    if not isinstance(loaded, dict):
        kind = {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}.get(
            type(loaded), "a number"
        )
        raise DoctorInputError(
            f"{shown} is {kind}, not a JSON object",
            fix=f'make {shown} one JSON object: {{"package": "…", "features": […], …}}',
        )
    return loaded
