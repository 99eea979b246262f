"""Where an app's own data lives on the simulated watch: ``/data/appdata/<package>/`` in its
filestore, beside (not inside) the installed package, so that it lasts across launches,
reboots and reinstalls and goes on uninstall.

    /data/appdata/<package>/storage.json   @system.storage (one JSON object of strings)
    /data/appdata/<package>/files/         internal://files/
    /data/appdata/<package>/mass/          internal://mass/
    /data/appdata/<package>/cache/         internal://cache/
    /data/appdata/<package>/tmp/           internal://tmp/ (read-only to the app)

The quick-app host is handed these paths in each start order; the control channel reads and
writes them for tests (``vela_sim.set_storage``, ``put_file``, ``read_file``).
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

from pytest_vela.rigfile.schema import PACKAGE_PATTERN
from pytest_vela.sim.filestore import FileStore
from pytest_vela.wire.control import APP_FILE_URI

DATA_ROOT = "/data/appdata"
PARTITIONS = ("files", "mass", "cache", "tmp")
STORAGE_FILE = "storage.json"


class BadAppData(ValueError):
    """A package name, uri or stored value that names no app data."""


def data_dir(store: FileStore, package: str) -> Path:
    if not re.fullmatch(PACKAGE_PATTERN, package):
        raise BadAppData(f"{package!r} is not a package name (such as com.example.app)")
    return store.resolve(f"{DATA_ROOT}/{package}")


def layout(store: FileStore, package: str) -> dict[str, str]:
    """The start order's ``data``: each partition's directory and the storage file."""
    root = data_dir(store, package)
    found = {part: str(root / part) for part in PARTITIONS}
    found["storage"] = str(root / STORAGE_FILE)
    return found


def remove(store: FileStore, package: str) -> None:
    """Uninstall: the app's data goes with it."""
    shutil.rmtree(data_dir(store, package), ignore_errors=True)


def file_path(store: FileStore, package: str, uri: str) -> Path:
    """The file ``internal://files|mass|cache|tmp/<path>`` of ``package``."""
    match = APP_FILE_URI.match(uri)
    if match is None or ".." in match.group(2).split("/"):
        raise BadAppData(
            f"{uri!r} is not a file of the app's own: give internal://files/<path> (or mass, "
            "cache, tmp), without '..'"
        )
    return data_dir(store, package) / match.group(1) / match.group(2)


def put_file(store: FileStore, package: str, uri: str, data: bytes) -> Path:
    target = file_path(store, package, uri)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    return target


def read_storage(store: FileStore, package: str) -> dict[str, str]:
    try:
        found = json.loads((data_dir(store, package) / STORAGE_FILE).read_text())
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in found.items()} if isinstance(found, dict) else {}


def write_storage(store: FileStore, package: str, values: dict[str, str]) -> None:
    """Replace the app's stored values (as its earlier sessions would have left them)."""
    for key, value in values.items():
        if not isinstance(key, str) or not key or not isinstance(value, str):
            raise BadAppData(
                f"storage holds strings by non-empty string keys: {key!r}: {value!r} is not "
                "one (store str(value), or json.dumps(value) for an object)"
            )
    target = data_dir(store, package) / STORAGE_FILE
    target.parent.mkdir(parents=True, exist_ok=True)
    staged = target.with_name(STORAGE_FILE + ".new")
    staged.write_text(json.dumps(values, ensure_ascii=False))
    os.replace(staged, target)
