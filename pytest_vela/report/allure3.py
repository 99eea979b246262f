"""Allure 3 (the npm package ``allure``, no Java), pinned, installed on first use.

The pinned version is installed with npm into a cache directory (``$VELA_CACHE_DIR``, else
``$XDG_CACHE_HOME/pytest-vela``, else ``~/.cache/pytest-vela``) without asking, once per
machine (a file lock keeps two runs from installing it at once); ``VELA_ALLURE`` or
``--allure`` name an Allure 3 command to use instead. The report's configuration is written as
``allurerc.mjs``: its per-rig environments need functions (a matcher on the ``rig`` label),
which the declarative formats cannot hold.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from filelock import FileLock

from pytest_vela.errors import VelaError
from pytest_vela.report.categories import allure3_categories

VERSION = "3.18.0"
PACKAGE = f"allure@{VERSION}"
# allure 3.18 declares no engines; its directory watcher's chokidar 5 and readdirp 5 ask for
# node >= 20.19.0.
NODE_MIN = (20, 19)
NODE_NEEDED = "Node.js 20.19 or later"
NODE_WHERE = (
    "Debian 13: apt-get install nodejs npm; Debian 12's nodejs is 18, too old: take Node.js 20 "
    "or 22 from nodejs.org or NodeSource"
)
INSTALL_TIMEOUT = 600.0
GENERATE_TIMEOUT = 900.0


class ReportError(VelaError):
    """The report could not be built; the message says why and what to do."""


def cache_dir() -> Path:
    explicit = os.environ.get("VELA_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "pytest-vela"


def _installed(prefix: Path) -> Path | None:
    cli = prefix / "node_modules" / "allure" / "cli.js"
    try:
        meta = json.loads((prefix / "node_modules" / "allure" / "package.json").read_text())
    except (OSError, ValueError):
        return None
    return cli if meta.get("version") == VERSION and cli.is_file() else None


def _check_node(node: str) -> None:
    """A clear error for a Node.js too old for the pinned Allure (it would fail on import)."""
    try:
        said = subprocess.run(
            [node, "--version"], capture_output=True, text=True, timeout=30, check=False
        ).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return  # let Allure itself say what is wrong
    found = re.match(r"v(\d+)\.(\d+)", said)
    if found and (int(found[1]), int(found[2])) < NODE_MIN:
        raise ReportError(
            f"pytest-vela report builds the page with Allure {VERSION}, which needs "
            f"{NODE_NEEDED}; {node} is {said}: install a newer one ({NODE_WHERE}), or name an "
            "Allure 3 command with --allure or VELA_ALLURE"
        )


def command(explicit: str | None = None, cache: Path | None = None, say: Any = print) -> list[str]:
    """The argv that runs Allure 3: the one named (``--allure`` / ``VELA_ALLURE``), else the
    pinned one from the cache, installed there first when missing."""
    named = explicit or os.environ.get("VELA_ALLURE")
    if named:
        return [named]
    node = shutil.which("node")
    npm = shutil.which("npm")
    if node is None or npm is None:
        raise ReportError(
            f"pytest-vela report builds the page with Allure 3 from npm, which needs {NODE_NEEDED} "
            f"and npm: install them ({NODE_WHERE}), or name an Allure 3 command with --allure "
            "or VELA_ALLURE"
        )
    _check_node(node)
    prefix = (cache or cache_dir()) / f"allure-{VERSION}"
    cli = _installed(prefix)
    if cli is not None:
        return [node, str(cli)]
    prefix.mkdir(parents=True, exist_ok=True)
    with FileLock(str(prefix) + ".lock"):
        cli = _installed(prefix)
        if cli is None:
            say(f"installing {PACKAGE} into {prefix} (once)")
            argv = [
                npm,
                "install",
                "--prefix",
                str(prefix),
                "--no-audit",
                "--no-fund",
                "--no-save",
                "--loglevel=error",
                PACKAGE,
            ]
            try:
                done = subprocess.run(
                    argv, capture_output=True, text=True, timeout=INSTALL_TIMEOUT, check=False
                )
            except subprocess.TimeoutExpired:
                done = None
            cli = _installed(prefix)
            if cli is None:
                said = (done.stderr or done.stdout).strip()[-2000:] if done else "timed out"
                raise ReportError(
                    f"could not install {PACKAGE} with npm ({said}); install it by hand with "
                    f"`npm install --prefix {prefix} {PACKAGE}`, or name an Allure 3 command "
                    "with --allure or VELA_ALLURE"
                )
    return [node, str(cli)]


def _js(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2)


def config(
    *,
    name: str,
    output: Path,
    history: Path | None,
    environments: dict[str, dict[str, str]],
    single_file: bool,
) -> str:
    """``allurerc.mjs``: the report's name and output, its history file, one environment per
    rig (matched on the results' ``rig`` label, its variables the rig's environment), the
    categories, and the Awesome report."""
    envs = []
    for rig, variables in sorted(environments.items()):
        envs.append(
            f"    {_js(rig)}: {{\n"
            f"      name: {_js(rig)},\n"
            f"      variables: {_js(variables)},\n"
            f'      matcher: ({{ labels }}) => labels.some((l) => l.name === "rig" && '
            f"l.value === {_js(rig)}),\n"
            "    },"
        )
    settings: dict[str, Any] = {"name": name, "output": str(output)}
    if history is not None:
        settings["historyPath"] = str(history)
    body = ",\n".join(f"  {key}: {_js(value)}" for key, value in settings.items())
    awesome = {
        "options": {
            "singleFile": single_file,
            "reportLanguage": "en",
            "reportName": name,
            # The tree: rig (the parent suite), then module, then class.
            "groupBy": ["parentSuite", "suite", "subSuite"],
        }
    }
    return (
        "// Written by pytest-vela report; rebuilt on every report.\n"
        "export default {\n"
        f"{body},\n"
        "  environments: {\n" + "\n".join(envs) + "\n  },\n"
        f"  categories: {_js(allure3_categories())},\n"
        f"  plugins: {{ awesome: {_js(awesome)} }},\n"
        "};\n"
    )


def generate(
    argv: Sequence[str], config_path: Path, results: Sequence[Path], cwd: Path
) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, NO_COLOR="1", FORCE_COLOR="0")
    done = subprocess.run(
        [*argv, "generate", "--config", str(config_path.resolve())]
        + [str(path.resolve()) for path in results],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=GENERATE_TIMEOUT,
        env=env,
        check=False,
    )
    if done.returncode != 0:
        raise ReportError(
            f"allure generate failed (exit {done.returncode}):\n"
            + (done.stderr or done.stdout).strip()[-4000:]
        )
    return done
