"""The on-watch agent: its protocol logic under node, and real builds with the vendor toolkit.

Skipped when Node.js is not installed. The first run installs aiot-toolkit into build/ (~30 s);
afterwards the module costs two toolkit builds, about 1-2 s each.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from pytest_vela.agent.project import materialize
from tests.support.aiot import BuildResult, build_project, require_node

PACKAGE = "com.example.phoneapp"
AGENT_JS = Path("src") / "common" / "agent.js"
LOGIC_TEST = Path(__file__).with_name("agent_logic.test.js")


def test_agent_logic_under_node(tmp_path: Path) -> None:
    require_node()
    project = materialize(tmp_path / "agent", PACKAGE)
    node = shutil.which("node")
    assert node is not None
    proc = subprocess.run(
        [node, str(LOGIC_TEST), str(project / AGENT_JS)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "not ok" not in proc.stdout


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> BuildResult:
    require_node()
    project = materialize(tmp_path_factory.mktemp("agent") / "agent", PACKAGE)
    return build_project(project)


def test_agent_builds_cleanly(built: BuildResult) -> None:
    assert built.returncode == 0, built.output
    assert built.error_lines == [], built.output
    assert built.rpk_path is not None
    assert built.rpk_path.name == f"{PACKAGE}.debug.1.0.0.rpk"
    assert zipfile.is_zipfile(built.rpk_path)


def test_rpk_manifest_carries_package_and_feature(built: BuildResult) -> None:
    assert built.rpk_path is not None, built.output
    with zipfile.ZipFile(built.rpk_path) as rpk:
        names = set(rpk.namelist())
        assert {"manifest.json", "app.js", "pages/index/index.js", "META-INF/CERT"} <= names
        for name in ("manifest.json", "manifest-watch.json"):
            manifest = json.loads(rpk.read(name))
            assert manifest["package"] == PACKAGE, name
            assert {"name": "system.interconnect"} in manifest["features"], name
            assert manifest["deviceTypeList"] == ["watch"], name
            assert manifest["router"]["entry"] == "pages/index", name
    # A debug build is signed (with the toolkit's own key when the project has no sign/).
    assert b"RPK Sig Block 42" in built.rpk_path.read_bytes()


def test_rpk_script_speaks_the_protocol(built: BuildResult) -> None:
    assert built.rpk_path is not None, built.output
    with zipfile.ZipFile(built.rpk_path) as rpk:
        page = rpk.read("pages/index/index.js").decode("utf-8")
    assert "'VELA-AGENT '" in page
    assert "__vela" in page
    assert "@app-module/system.interconnect" in page
    for handler in ("onopen", "onmessage", "onclose", "onerror"):
        assert re.search(rf"\.{handler}\s*=\s*function", page), handler


def test_syntax_error_fails_the_build(tmp_path: Path) -> None:
    require_node()
    project = materialize(tmp_path / "agent", PACKAGE)
    with (project / AGENT_JS).open("a", encoding="utf-8") as f:
        f.write("\nfunction broken( {\n")
    result = build_project(project)
    assert result.returncode != 0, result.output
    assert result.rpk_path is None
    assert not result.ok
    # The toolkit still wrote a package: exactly what the exit code check guards against.
    assert result.stray_rpk is not None and result.stray_rpk.is_file()
