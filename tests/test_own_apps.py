"""Watch apps of our own, as test inputs in the styles that kept real apps from their link:
the settings app (its link opens only when a setting stored in an earlier session is on;
handlers set in app.ux and shared through this.$app; a dialog; a plain-text protocol) and the
licence app (a licence check on the device id, then router.replace to the page that opens the
link; files written from messages; $element in a callback; global.runGC; stamped base64
chunks). Each is built by the vendor toolkit and tested through ``peer``, ``vela_sim`` and the
watch alone, with ``--vela-app``, as its developer would.

Skipped without Node.js; the first run installs the toolkit (see tests/support/aiot.py).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tests.support.aiot import build_project, require_node

ROOT = Path(__file__).resolve().parents[1]
APPS = Path(__file__).resolve().parent / "apps"


def build(tmp_path_factory: pytest.TempPathFactory, name: str) -> Path:
    """The app built from a copy of its sources in a temporary directory (never in the tree)."""
    require_node()
    project = tmp_path_factory.mktemp("own-app") / name
    shutil.copytree(APPS / name, project, ignore=shutil.ignore_patterns("build", "dist", "*.py"))
    built = build_project(project)
    assert built.ok and built.rpk_path is not None, built.output
    assert built.error_lines == [], built.output
    return built.rpk_path


@pytest.fixture(scope="module")
def settings_app(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory, "settings")


@pytest.fixture(scope="module")
def licence_app(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory, "licence")


def _fast_rig(pytester: pytest.Pytester) -> None:
    pytester.path.joinpath("rigs").mkdir(exist_ok=True)
    pytester.path.joinpath("rigs", "sim.toml").write_text(
        "kind = 'sim'\n[timeouts]\nconnect = 5\nlaunch = 5\n[sim]\nboot_ms = 20\n"
    )


def run_app_tests(pytester: pytest.Pytester, rpk: Path) -> pytest.RunResult:
    _fast_rig(pytester)
    return pytester.runpytest_subprocess(f"--vela-app={rpk}", "-p", "no:cacheprovider")


def test_the_settings_apps_own_tests_pass(pytester: pytest.Pytester, settings_app: Path) -> None:
    shutil.copy(APPS / "settings" / "watch_tests.py", pytester.path / "test_settings.py")
    run_app_tests(pytester, settings_app).assert_outcomes(passed=4)


def test_the_licence_apps_own_tests_pass(pytester: pytest.Pytester, licence_app: Path) -> None:
    shutil.copy(APPS / "licence" / "watch_tests.py", pytester.path / "test_licence.py")
    run_app_tests(pytester, licence_app).assert_outcomes(passed=4)


def test_the_readme_example_of_saved_settings_passes(
    pytester: pytest.Pytester, settings_app: Path
) -> None:
    blocks = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    example = next(block for block in blocks if "def test_saved_settings_open_the_link" in block)
    pytester.makepyfile(
        test_readme_settings="from pytest_vela import Peer, VelaSim, Watch\n\n\n" + example
    )
    run_app_tests(pytester, settings_app).assert_outcomes(passed=1)
