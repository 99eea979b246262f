"""The layers of docs/architecture.md hold, and the contracts that check them can fail."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("lint-imports") or str(Path(sys.executable).parent / "lint-imports")
    return subprocess.run(
        [exe, str(root / "pyproject.toml"), "--no-cache"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": str(Path(sys.executable).parent), "PYTHONPATH": str(root)},
    )


def broken_contracts(report: str) -> str:
    """The names of the broken contracts in lint-imports' summary (its lines wrap)."""
    summary = " ".join(report.split("Contracts", 1)[-1].split())
    parts = re.split(r"\b(KEPT|BROKEN)\b", summary)
    return " | ".join(
        name for name, status in zip(parts[::2], parts[1::2], strict=False) if status == "BROKEN"
    )


def test_the_package_keeps_its_layer_contracts() -> None:
    done = lint_imports(ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        # a layer imports only the layers below it, and siblings never each other
        ("pytest_vela/wire/framing.py", "import pytest_vela.plugin.hooks", "Layers"),
        ("pytest_vela/plugin/hooks.py", "import pytest_vela.cli", "Layers"),
        ("pytest_vela/agent/project.py", "import pytest_vela.wire.profile", "Layers"),
        # the simulator imports nothing of the harness, nor the harness the simulator
        ("pytest_vela/sim/shell.py", "import pytest_vela.rig.session", "simulator runs inside"),
        ("pytest_vela/sim/shell.py", "import pytest_vela.report.summary", "simulator runs inside"),
        ("pytest_vela/rig/lock.py", "import pytest_vela.sim.shell", "never imports the simulator"),
        ("pytest_vela/cli.py", "import pytest_vela.sim.process", "never imports the simulator"),
        # the conformance suite names the public API only
        (
            "pytest_vela/conformance/test_send.py",
            "import pytest_vela.rig.session",
            "conformance suite uses the public API",
        ),
        # third-party parts stay behind the one layer made for them
        ("pytest_vela/device/watch.py", "import allure", "Only the plugin imports pytest"),
        ("pytest_vela/peer/phone.py", "import bleak", "Only the link speaks BLE"),
        ("pytest_vela/sim/pty_port.py", "import serial", "Only the console opens serial ports"),
        ("pytest_vela/device/watch.py", "import dbus_fast", "speak D-Bus"),
        ("pytest_vela/rig/lock.py", "import labgrid", "Only the labgrid backend imports labgrid"),
    ],
)
def test_a_forbidden_import_breaks_a_contract(
    tmp_path: Path, module: str, line: str, contract: str
) -> None:
    copy = tmp_path / "repo"
    copy.mkdir()
    shutil.copy(ROOT / "pyproject.toml", copy)
    shutil.copytree(
        ROOT / "pytest_vela",
        copy / "pytest_vela",
        ignore=shutil.ignore_patterns("src", "node_modules"),
    )
    target = copy / module
    target.write_text(target.read_text() + f"\n{line}\n")
    done = lint_imports(copy)
    assert done.returncode != 0, done.stdout
    assert contract in broken_contracts(done.stdout), done.stdout
