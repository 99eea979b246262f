"""Paths of the building machine inside a built rpk.

aiot-toolkit's default build (webpack in development mode, with path info) names every module by
the loaders that made it: ``…/node_modules/@aiot-toolkit/dsl-xvm/lib/loaders/script-loader.js!…
?cwd=<the project>&plugins[]=<the toolkit>…``, in module ids and in comments, several times per
page. The bundle then tells whoever installs it where and by whom it was built, and its bytes
change with the machine. A ``quickapp.config.js`` whose ``postHook`` sets webpack's
``output.pathinfo = false`` and ``optimization.moduleIds = chunkIds = 'natural'`` keeps them out
(``pytest_vela/agent/quickapp.config.js`` does, for the shipped agent).

What counts as such a path: an absolute path under a home directory (``/home/<user>/``,
``/Users/<user>/``, ``/root/``), one through a ``node_modules`` directory, one given to a
loader (``cwd=``, ``configFile=``, ``plugins[]=``, ``context=``), and a Windows drive path
(``C:\\…``). A page's own absolute uris (``/pages/detail``, ``/common/icon.png``) are none of
these.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from pytest_vela.doctor.bounded import MEMBER_LIMIT, UNREADABLE, Inflater
from pytest_vela.errors import DoctorInputError

SCANNED = (".js", ".map", ".json", ".css", ".txt")
FIX = (
    "keep them out of the bundles: put a quickapp.config.js beside package.json whose "
    "postHook(webpackConf) sets webpackConf.output.pathinfo = false and "
    "webpackConf.optimization.moduleIds = chunkIds = 'natural' (as "
    "pytest_vela/agent/quickapp.config.js does), then rebuild"
)
_CHARS = r"[\w.@+%~-]"
_POSIX = re.compile(rf"(?<![\w.~%/-])/(?:{_CHARS}+/)+{_CHARS}*")
_WINDOWS = re.compile(rf"(?<![\w])[A-Za-z]:(?:\\\\|\\|/)(?:{_CHARS}+(?:\\\\|\\|/))+{_CHARS}*")
_HOMES = ("home", "Users", "root")
_OPTIONS = re.compile(r"(?:cwd|configFile|context|plugins\[\]|presets\[\])=$")
SHOWN = 120  # characters of a path shown in the report


@dataclass
class MachinePaths:
    """What the scan found: the paths by member (the first few each), how many different
    ones in all, the members read, and the members that could not be read."""

    found: dict[str, list[str]] = field(default_factory=dict)
    count: int = 0
    scanned: int = 0
    unreadable: list[str] = field(default_factory=list)


def is_machine_path(path: str, before: str) -> bool:
    """Whether ``path`` (an absolute POSIX path, ``before`` the text just before it) names a
    place on the building machine."""
    parts = path.strip("/").split("/")
    home = parts[0] in _HOMES and len(parts) >= 3  # /home/<user>/…, not a page's /home/x
    return home or "node_modules" in parts or bool(_OPTIONS.search(before))


def paths_in(text: str) -> list[str]:
    """The building machine's paths in one bundle's text, each once, in order."""
    found: dict[str, None] = {}
    for match in _POSIX.finditer(text):
        before = text[max(0, match.start() - 16) : match.start()]
        if is_machine_path(match.group(0), before):
            found[match.group(0)] = None
    for match in _WINDOWS.finditer(text):
        found[match.group(0)] = None
    return list(found)


def scan(rpk: Path, keep: int = 3) -> MachinePaths:
    """Every text member of ``rpk`` searched; :class:`DoctorInputError` when it is no zip."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(rpk.read_bytes()))
    except (OSError, zipfile.BadZipFile) as exc:
        raise DoctorInputError(f"{rpk}: cannot be read as an rpk ({exc})") from None
    result = MachinePaths()
    with archive:
        inflater = Inflater(archive)
        for info in archive.infolist():
            if info.is_dir() or not info.filename.endswith(SCANNED):
                continue
            try:
                text = inflater.read(info, MEMBER_LIMIT).decode("utf-8", "replace")
            except (DoctorInputError, *UNREADABLE):
                result.unreadable.append(info.filename)
                continue
            result.scanned += 1
            paths = paths_in(text)
            result.count += len(paths)
            if paths:
                result.found[info.filename] = [p[:SHOWN] for p in paths[:keep]]
    return result
