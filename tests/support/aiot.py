"""Build Vela quick-app projects with the vendor toolkit (npm ``aiot-toolkit``) from tests.

Usage::

    from tests.support.aiot import build_project, require_node

    def test_my_rpk(tmp_path):
        require_node()                       # skips the test when node/npm are missing
        result = build_project(project_dir)  # installs the toolkit on first use
        assert result.returncode == 0, result.output
        rpk = result.rpk_path                # dist/<package>.debug.<versionName>.rpk

Importing ``tests.support`` works from test modules inside packages (``tests/__init__.py``
and an ``__init__.py`` in the test's own directory): pytest then puts the repository root on
``sys.path``.

The toolkit is installed once, with ``npm install``, into ``<repo>/build/aiot-toolkit``
(``build/`` is git-ignored) and reused by later runs. A file lock makes parallel workers
(pytest-xdist) wait for one install instead of racing. Set ``VELA_AIOT_PREFIX`` to install it
elsewhere. The first install downloads about 264 MB from the npm registry and takes ~30 s;
a build takes ~1-2 s.

``aiot build`` exits 1 on a compile error **but still writes an rpk**. ``build_project``
therefore reports ``rpk_path`` only for a build that exited 0; the stray package of a failed
build is reported as ``stray_rpk``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from filelock import FileLock

AIOT_TOOLKIT_VERSION = "1.1.4"
REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_PREFIX = REPO_ROOT / "build" / "aiot-toolkit"

INSTALL_TIMEOUT_S = 900.0
BUILD_TIMEOUT_S = 300.0


class ToolkitInstallError(RuntimeError):
    """``npm install`` of the toolkit failed; the message holds npm's output."""


@dataclass(frozen=True)
class BuildResult:
    """The outcome of one ``aiot build`` / ``aiot release``.

    ``rpk_path`` is the package the toolkit wrote, and is set only when it exited 0.
    ``stray_rpk`` is a package a *failed* build wrote anyway (the toolkit does that);
    never install it. ``output`` is stdout and stderr, interleaved.
    """

    returncode: int
    rpk_path: Path | None
    output: str
    stray_rpk: Path | None = None

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and self.rpk_path is not None

    @property
    def error_lines(self) -> list[str]:
        """The toolkit's ``[ERROR]`` lines. Some (e.g. a manifest without ``icon`` or
        ``config``) do not change the exit code, so a clean build should also have none."""
        return [line for line in self.output.splitlines() if line.startswith("[ERROR]")]


def node_missing_reason() -> str | None:
    """Why the toolkit cannot run here, or ``None`` when ``node`` and ``npm`` are on PATH."""
    missing = [tool for tool in ("node", "npm") if shutil.which(tool) is None]
    if missing:
        return f"{' and '.join(missing)} not found on PATH: the aiot-toolkit needs Node.js"
    return None


def require_node() -> None:
    """Skip the calling test when Node.js (``node`` and ``npm``) is not installed."""
    reason = node_missing_reason()
    if reason is not None:
        pytest.skip(reason)


def toolkit_prefix() -> Path:
    override = os.environ.get("VELA_AIOT_PREFIX")
    return Path(override) if override else DEFAULT_PREFIX


def _installed_version(prefix: Path) -> str | None:
    manifest = prefix / "node_modules" / "aiot-toolkit" / "package.json"
    try:
        version = json.loads(manifest.read_text(encoding="utf-8")).get("version")
    except (OSError, ValueError):
        return None
    return version if isinstance(version, str) else None


def ensure_toolkit(prefix: Path | None = None) -> Path:
    """Install ``aiot-toolkit`` into ``prefix`` unless it is already there; return the ``aiot`` bin.

    An install is only considered done once ``npm install`` exited 0 and wrote a marker file,
    so an interrupted install is redone rather than reused half-finished.
    """
    prefix = prefix or toolkit_prefix()
    aiot = prefix / "node_modules" / ".bin" / "aiot"
    marker = prefix / ".installed"
    prefix.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(prefix) + ".lock"):
        if (
            marker.is_file()
            and aiot.exists()
            and _installed_version(prefix) == AIOT_TOOLKIT_VERSION
        ):
            return aiot
        marker.unlink(missing_ok=True)
        prefix.mkdir(parents=True, exist_ok=True)
        npm = shutil.which("npm")
        if npm is None:
            raise ToolkitInstallError("npm not found on PATH")
        proc = subprocess.run(
            [
                npm,
                "install",
                "--prefix",
                str(prefix),
                "--save-exact",
                "--no-audit",
                "--no-fund",
                "--loglevel=error",
                f"aiot-toolkit@{AIOT_TOOLKIT_VERSION}",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=INSTALL_TIMEOUT_S,
            check=False,
        )
        if proc.returncode != 0 or not aiot.exists():
            raise ToolkitInstallError(
                f"npm install aiot-toolkit@{AIOT_TOOLKIT_VERSION} into {prefix} failed "
                f"(exit {proc.returncode}):\n{proc.stdout}"
            )
        marker.write_text(AIOT_TOOLKIT_VERSION + "\n", encoding="utf-8")
        return aiot


def expected_rpk(project_dir: Path, release: bool = False) -> Path | None:
    """``dist/<package>.<debug|release>.<versionName>.rpk`` as named by ``src/manifest.json``."""
    try:
        manifest = json.loads((project_dir / "src" / "manifest.json").read_text(encoding="utf-8"))
        kind = "release" if release else "debug"
        name = f"{manifest['package']}.{kind}.{manifest['versionName']}"
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return project_dir / "dist" / f"{name}.rpk"


def build_project(
    project_dir: Path,
    release: bool = False,
    *,
    prefix: Path | None = None,
    timeout: float = BUILD_TIMEOUT_S,
) -> BuildResult:
    """Run ``aiot build`` (or ``aiot release``) in ``project_dir`` and report what it produced.

    The project needs no ``node_modules`` of its own: the shared toolkit install is used.
    Packages left in ``dist/`` by earlier builds are removed first, so an old rpk can never be
    taken for this build's. The toolkit also writes ``build/`` inside the project.
    Raises ``subprocess.TimeoutExpired`` if the toolkit runs longer than ``timeout`` seconds.
    """
    project_dir = Path(project_dir)
    aiot = ensure_toolkit(prefix)
    dist = project_dir / "dist"
    if dist.is_dir():
        for old in dist.glob("*.rpk"):
            old.unlink()
    proc = subprocess.run(
        [str(aiot), "release" if release else "build"],
        cwd=project_dir,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=timeout,
        check=False,
        env={**os.environ, "CI": "1"},
    )
    written = expected_rpk(project_dir, release)
    if written is None or not written.is_file():
        # Name not derivable (e.g. a broken manifest): take whatever package appeared.
        found = sorted(dist.glob("*.rpk")) if dist.is_dir() else []
        written = found[0] if len(found) == 1 else None
    if proc.returncode == 0:
        return BuildResult(proc.returncode, written, proc.stdout)
    return BuildResult(proc.returncode, None, proc.stdout, stray_rpk=written)
