"""Make a buildable copy of the on-watch agent for a given phone app.

The agent's quick-app source ships inside the plugin (``pytest_vela/agent``). On a real watch
the interconnect link only comes up when the quick app's ``package`` equals the companion
Android app's package name and the rpk is signed with that app's key, so the agent is always
built from a copy that carries the user's package name (and, optionally, their pems)::

    from pytest_vela.agent.project import materialize

    project = materialize(Path("build/agent"), "com.example.myphoneapp", sign_dir=Path("keys"))
    # then, in `project`: npx -p aiot-toolkit@1.1.4 aiot build   (see agent/README.md)
"""

from __future__ import annotations

import importlib.resources
import importlib.resources.abc
import json
import re
import shutil
from pathlib import Path

__all__ = [
    "AGENT_MANIFEST",
    "PEM_FILES",
    "agent_source",
    "materialize",
    "shipped_rpk",
    "validate_package",
]

#: The manifest inside an agent project, relative to its root.
AGENT_MANIFEST = Path("src") / "manifest.json"
#: What the toolkit reads from ``sign/debug`` and ``sign/release``.
PEM_FILES = ("private.pem", "certificate.pem")

# Android application ids: at least two dot-separated segments, each starting with a letter.
_PACKAGE_RE = re.compile(r"[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)+")
# Output of a build run inside the packaged source tree, never part of a copy.
_NOT_SOURCE = ("build", "dist", "node_modules", "sign", "__pycache__", "*.rpk", "*.py", "*.pyc")


def validate_package(package: str) -> str:
    """Return ``package`` if it is a valid Android-style package name, else raise ``ValueError``."""
    if not _PACKAGE_RE.fullmatch(package):
        raise ValueError(
            f"invalid package name {package!r}: expected the phone app's Android package name, "
            "dot-separated segments of letters, digits and '_', each starting with a letter "
            "(e.g. com.example.app)"
        )
    return package


def agent_source() -> importlib.resources.abc.Traversable:
    """The agent's quick-app source as shipped with the plugin."""
    return importlib.resources.files("pytest_vela").joinpath("agent")


def shipped_rpk() -> Path | None:
    """The agent as built from this source and shipped with the plugin (``agent/dist/``), which
    the simulated watch comes with; None in a source tree where it was never built."""
    found = sorted(Path(__file__).with_name("dist").glob("*.rpk"))
    return found[-1] if found else None


def materialize(dest: Path, package: str, *, sign_dir: Path | None = None) -> Path:
    """Copy the agent's source to ``dest`` with its manifest ``package`` set; return ``dest``.

    ``dest`` must not exist yet or be an empty directory. With ``sign_dir`` (a directory
    holding ``private.pem`` and ``certificate.pem``, e.g. extracted from the phone app's
    keystore) the pems are copied to ``sign/debug`` and ``sign/release``; without it, debug
    builds are signed with the toolkit's built-in key, which a phone app will not accept.
    """
    validate_package(package)
    dest = Path(dest)
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise FileExistsError(f"{dest} already exists and is not an empty directory")
    pems: list[Path] = []
    if sign_dir is not None:
        pems = [Path(sign_dir) / name for name in PEM_FILES]
        missing = [str(p) for p in pems if not p.is_file()]
        if missing:
            raise FileNotFoundError(f"signing files not found: {', '.join(missing)}")

    with importlib.resources.as_file(agent_source()) as source:
        shutil.copytree(
            source, dest, ignore=shutil.ignore_patterns(*_NOT_SOURCE), dirs_exist_ok=True
        )

    manifest_path = dest / AGENT_MANIFEST
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest["package"] = package
    manifest_path.write_text(
        json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )

    for kind in ("debug", "release"):
        for pem in pems:
            target = dest / "sign" / kind / pem.name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(pem, target)
    return dest
