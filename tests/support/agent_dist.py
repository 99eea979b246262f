"""The agent rpk shipped in ``pytest_vela/agent/dist/``: how it is built, and how a build is
compared with it.

Rebuild it after changing the agent's source (Node.js and npm needed; the toolkit is installed
as ``tests/support/aiot.py`` does)::

    python -m tests.support.agent_dist

A test rebuilds it and compares the JavaScript bundles' text, which the agent's
``quickapp.config.js`` keeps free of build paths; zip timestamps and signatures are not compared.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import zipfile
from pathlib import Path

from pytest_vela.agent.project import materialize, shipped_rpk
from tests.support.aiot import BuildResult, build_project

DIST = Path(__file__).resolve().parents[2] / "pytest_vela" / "agent" / "dist"
#: The rig files' default ``app.package``: the shipped agent carries it.
PACKAGE = "com.vela.agent"


def build_agent(workdir: Path) -> BuildResult:
    """A fresh toolkit build of the agent source, as shipped (package ``com.vela.agent``)."""
    return build_project(materialize(workdir / "agent", PACKAGE))


def bundles(rpk: Path) -> dict[str, str]:
    """The rpk's JavaScript bundles by name."""
    with zipfile.ZipFile(rpk) as archive:
        return {
            name: archive.read(name).decode("utf-8")
            for name in sorted(archive.namelist())
            if name.endswith(".js")
        }


def refresh() -> Path:
    with tempfile.TemporaryDirectory(prefix="vela-agent-") as tmp:
        result = build_agent(Path(tmp))
        if not result.ok or result.rpk_path is None or result.error_lines:
            raise SystemExit(f"the agent did not build:\n{result.output}")
        DIST.mkdir(parents=True, exist_ok=True)
        old = shipped_rpk()
        if old is not None:
            old.unlink()
        target = DIST / result.rpk_path.name
        shutil.copyfile(result.rpk_path, target)
        return target


if __name__ == "__main__":
    print(refresh())
    sys.exit(0)
