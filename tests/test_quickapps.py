"""Real quick apps on the simulated watch: the example app built by the vendor toolkit, tested
through ``peer`` and the console alone (``--vela-app``), its JS errors failing their tests.

Skipped without Node.js; the first run installs the toolkit (see tests/support/aiot.py).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.aiot import BuildResult, build_project, require_node
from tests.support.rigs import FAST_SIM, write_rig

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "pingpong-app"
PACKAGE = "com.example.pingpong"
_LEFT_BY_BUILDS = shutil.ignore_patterns("build", "dist", "node_modules", "tests")


@pytest.fixture(scope="module")
def pingpong(tmp_path_factory: pytest.TempPathFactory) -> Path:
    require_node()
    project = tmp_path_factory.mktemp("example") / "pingpong-app"
    shutil.copytree(EXAMPLE, project, ignore=_LEFT_BY_BUILDS)
    built: BuildResult = build_project(project)
    assert built.ok and built.rpk_path is not None, built.output
    assert built.error_lines == [], built.output
    return built.rpk_path


def test_building_the_example_leaves_its_clone_clean(tmp_path: Path) -> None:
    """The toolkit writes build/, dist/ and a babel cache, and adds ``browserslist`` to a
    package.json without it (for minPlatformVersion >= 1040): none of it may dirty a clone."""
    require_node()
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    clone = tmp_path / "pingpong-app"
    shutil.copytree(EXAMPLE, clone, ignore=shutil.ignore_patterns("build", "dist", "node_modules"))

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=clone, capture_output=True, text=True, check=True)
        return done.stdout

    git("init", "-q")
    git("add", "-A")
    git("-c", "user.name=t", "-c", "user.email=t@example.invalid", "commit", "-q", "-m", "x")
    before = (clone / "package.json").read_bytes()
    built = build_project(clone)
    assert built.ok, built.output
    assert (clone / "build").is_dir() and built.rpk_path is not None  # it did write them
    assert git("status", "--porcelain", "--untracked-files=all") == ""
    assert (clone / "package.json").read_bytes() == before  # left as it was, byte for byte


def _fast_rig(pytester: pytest.Pytester) -> None:
    write_rig(pytester.path / "rigs", "sim", FAST_SIM)


def test_the_example_apps_own_tests_pass(pytester: pytest.Pytester, pingpong: Path) -> None:
    _fast_rig(pytester)
    shutil.copy(EXAMPLE / "tests" / "test_pingpong.py", pytester.path)
    result = pytester.runpytest_subprocess(f"--vela-app={pingpong}", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=5)


def test_the_readme_example_passes(pytester: pytest.Pytester, pingpong: Path) -> None:
    _fast_rig(pytester)
    blocks = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    example = next(block for block in blocks if "def test_ping_pong" in block)
    pytester.makepyfile(test_readme_own_app=example)
    result = pytester.runpytest_subprocess(f"--vela-app={pingpong}", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)


def test_a_js_exception_fails_its_test_with_the_stack(
    pytester: pytest.Pytester, pingpong: Path
) -> None:
    _fast_rig(pytester)
    pytester.makepyfile(
        """
        def test_poison(peer, watch):
            peer.send({"op": "poison", "why": "bad"})
            watch.console.expect(r"Uncaught Error: poison message: bad", timeout=5)

        def test_poison_in_a_timer(peer, watch):
            peer.send({"op": "poison-later", "why": "later"})
            watch.console.expect(r"Uncaught TypeError: late poison: later", timeout=5)

        def test_the_app_lives_on(peer):
            peer.send({"op": "ping", "n": 7})
            assert peer.expect_message(timeout=5)["n"] == 7
        """
    )
    result = pytester.runpytest_subprocess(
        f"--vela-app={pingpong}", "-p", "no:cacheprovider", "-rA"
    )
    # Each fails itself (not an error at teardown, not the next test), the app's stack first.
    result.assert_outcomes(passed=1, failed=2)
    out = result.stdout.str()
    result.stdout.fnmatch_lines(
        [
            "*_ test_poison?sim? _*",
            "*AppThrew: a watch app threw during this test (1 uncaught error)*",
            "*Uncaught Error: poison message: bad",
            "*    at Object.handle (pages/index/index.js:*",
            "*    at conn.onmessage (pages/index/index.js:*",
            "*console during the test*",
        ]
    )
    assert "[ERROR] [JS] Uncaught Error: poison message: bad" in out
    # The timer's callback: the method it called, then its own frame, all in the app's files.
    result.stdout.fnmatch_lines(
        [
            "*Uncaught TypeError: late poison: later",
            "*    at Object.explode (pages/index/index.js:*",
        ]
    )
    assert "host.js" not in out  # the runtime's own frames are not the app's stack
    assert "pytest_vela/plugin" not in out  # nor the plugin's


def test_interconnect_skips_on_a_rig_that_tests_its_own_app(
    pytester: pytest.Pytester, pingpong: Path
) -> None:
    _fast_rig(pytester)
    pytester.makepyfile(
        """
        def test_agent_driven(interconnect):
            pass
        """
    )
    result = pytester.runpytest_subprocess(
        f"--vela-app={pingpong}", "-p", "no:cacheprovider", "-rs"
    )
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["*interconnect drives the pytest-vela agent app*"])


def test_only_the_launched_app_gets_the_messages(pytester: pytest.Pytester, pingpong: Path) -> None:
    """Two apps installed — the example and the agent — and the link goes to whichever runs."""
    _fast_rig(pytester)
    pytester.makepyfile(
        f"""
        def test_switching_apps(peer, watch):
            peer.send({{"op": "ping", "n": 1}})
            assert peer.expect_message(timeout=5)["op"] == "pong"
            assert "{PACKAGE}" in watch.shell("pm list")
            assert "com.vela.agent" in watch.shell("pm list")
            mark = watch.console.mark()
            watch.launch("com.vela.agent")  # the foreground app changes: pingpong ends
            peer.reconnect()
            peer.send({{"op": "ping", "n": 2}})
            watch.console.expect(r'VELA-AGENT .*"kind":"message".*ping', timeout=5)
            watch.launch("{PACKAGE}")
            peer.reconnect()
            peer.send({{"op": "ping", "n": 3}})
            assert peer.expect_message(timeout=5)["n"] == 3
            watch.console.expect(r"pingpong: ping 3", timeout=5)
            seen = watch.console.text_since(mark)
            assert "pingpong: app destroyed" in seen
            assert "pingpong: ping 2" not in seen
        """
    )
    result = pytester.runpytest_subprocess(f"--vela-app={pingpong}", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
