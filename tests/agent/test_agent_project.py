"""materialize(): a copy of the shipped agent source with the phone app's package name."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_vela.agent.project import AGENT_MANIFEST, agent_source, materialize

SHIPPED = [
    "package.json",
    "README.md",
    "src/manifest.json",
    "src/app.ux",
    "src/config-watch.json",
    "src/pages/index/index.ux",
    "src/common/agent.js",
    "src/common/icon.png",
]


def test_agent_source_ships_with_the_plugin() -> None:
    root = agent_source()
    for rel in SHIPPED:
        assert root.joinpath(*rel.split("/")).is_file(), rel


def test_materialize_sets_package_and_keeps_the_rest(tmp_path: Path) -> None:
    project = materialize(tmp_path / "agent", "com.example.phoneapp")
    for rel in SHIPPED:
        assert (project / rel).is_file(), rel
    manifest = json.loads((project / AGENT_MANIFEST).read_text(encoding="utf-8"))
    shipped = json.loads(agent_source().joinpath("src", "manifest.json").read_text("utf-8"))
    assert manifest["package"] == "com.example.phoneapp"
    assert {k: v for k, v in manifest.items() if k != "package"} == {
        k: v for k, v in shipped.items() if k != "package"
    }
    assert not (project / "sign").exists()


def test_materialize_copies_pems_for_debug_and_release(tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    keys.mkdir()
    (keys / "private.pem").write_text("KEY\n")
    (keys / "certificate.pem").write_text("CERT\n")
    project = materialize(tmp_path / "agent", "com.example.app", sign_dir=keys)
    for kind in ("debug", "release"):
        assert (project / "sign" / kind / "private.pem").read_text() == "KEY\n"
        assert (project / "sign" / kind / "certificate.pem").read_text() == "CERT\n"


def test_materialize_requires_both_pems(tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    keys.mkdir()
    (keys / "private.pem").write_text("KEY\n")
    with pytest.raises(FileNotFoundError, match=r"certificate\.pem"):
        materialize(tmp_path / "agent", "com.example.app", sign_dir=keys)
    assert not (tmp_path / "agent").exists()


@pytest.mark.parametrize("bad", ["", "app", "com..app", "1com.app", "com.app-x", "com/app"])
def test_materialize_rejects_bad_package(tmp_path: Path, bad: str) -> None:
    with pytest.raises(ValueError, match="invalid package name"):
        materialize(tmp_path / "agent", bad)


def test_materialize_refuses_a_non_empty_destination(tmp_path: Path) -> None:
    (tmp_path / "agent").mkdir()
    (tmp_path / "agent" / "keep.txt").write_text("mine")
    with pytest.raises(FileExistsError):
        materialize(tmp_path / "agent", "com.example.app")
    assert (tmp_path / "agent" / "keep.txt").read_text() == "mine"
