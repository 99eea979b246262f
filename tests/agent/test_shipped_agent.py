"""The agent rpk shipped with the plugin: the one the simulated watch comes with, built from
the agent's source as it is now, under the rig files' default package."""

from __future__ import annotations

import difflib
import json
import zipfile
from pathlib import Path

from pytest_vela.agent.project import AGENT_MANIFEST, agent_source, shipped_rpk
from pytest_vela.rigfile.schema import AppSettings
from tests.support.agent_dist import PACKAGE, build_agent, bundles
from tests.support.aiot import require_node


def test_the_agent_ships_built_under_the_default_package() -> None:
    shipped = shipped_rpk()
    assert shipped is not None, "run: python -m tests.support.agent_dist"
    assert AppSettings().package == PACKAGE
    with zipfile.ZipFile(shipped) as rpk:
        assert json.loads(rpk.read("manifest.json"))["package"] == PACKAGE
        assert {"app.js", "pages/index/index.js"} <= set(rpk.namelist())
    source = json.loads(agent_source().joinpath(*AGENT_MANIFEST.parts).read_text("utf-8"))
    assert source["package"] == PACKAGE
    assert shipped.name == f"{PACKAGE}.debug.{source['versionName']}.rpk"


def test_the_shipped_agent_is_not_stale(tmp_path: Path) -> None:
    """A fresh build's JavaScript equals the shipped one's, text for text (the bundles carry
    no build paths; zip timestamps and signatures are not compared)."""
    require_node()
    shipped = shipped_rpk()
    assert shipped is not None
    result = build_agent(tmp_path)
    assert result.ok and result.rpk_path is not None, result.output
    fresh, old = bundles(result.rpk_path), bundles(shipped)
    assert sorted(fresh) == sorted(old)
    for name, text in fresh.items():
        if text != old[name]:
            diff = "".join(
                difflib.unified_diff(
                    old[name].splitlines(keepends=True),
                    text.splitlines(keepends=True),
                    f"shipped/{name}",
                    f"fresh/{name}",
                    n=2,
                )
            )
            raise AssertionError(
                f"the shipped agent is stale ({name} differs from a fresh build of the agent's "
                f"source); rebuild it: python -m tests.support.agent_dist\n{diff[:4000]}"
            )
