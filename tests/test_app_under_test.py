"""The app under test (``--vela-app``) as a first-class part of the run: checked as an option,
launched at session start with its start-up lines left for ``expect``, named in the header and
the report's environment, its failure to load a product failure, its late errors charged to
the test that set them off, a message it has no handler for said on the console, and its
tests drawn as sequence diagrams. Apps here are minimal rpks of the toolkit's shape, run by the
simulated watch's real runtime (node)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from tests.support.allure_results import outcomes
from tests.support.rigs import FAST_SIM, make_rpk, write_rig

PACKAGE = "com.example.under.test"
PAGE = """
var mod = $app_require$('@app-module/system.interconnect')
$app_exports$.default = {
  onInit() {
    console.log('settings loaded at start-up')
    var conn = mod.instance()
    if (this.deaf) return
    conn.onmessage = (e) => {
      if (e.data === 'late') setTimeout(() => { throw new Error('late boom') }, 30)
      if (e.data === 'echo') conn.send({ data: { echo: true } })
      if (e.data === 'acked') {
        conn.send({ data: { sent: true }, success: () => { throw new Error('acked boom') } })
      }
      if (e.data === 'much later') setTimeout(() => { throw new Error('much later boom') }, 400)
    }
  },
}
"""
DEAF_PAGE = PAGE.replace("if (this.deaf) return", "return")


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    write_rig(pytester.path / "rigs", "sim", FAST_SIM)
    return pytester


def _run(project: pytest.Pytester, app: Path | str, *args: str) -> pytest.RunResult:
    return project.runpytest_subprocess(f"--vela-app={app}", "-p", "no:cacheprovider", *args)


def test_the_start_up_lines_are_the_first_tests_and_the_header_names_the_app(
    project: pytest.Pytester,
) -> None:
    rpk = make_rpk(project.path / "app.rpk", PACKAGE, PAGE, version="2.3.4")
    project.makepyfile(
        """
        def test_first(watch, peer):
            watch.console.expect(r"settings loaded at start-up", timeout=1)

        def test_it_answers(peer):
            peer.send("echo")
            assert peer.expect_message(timeout=5) == {"echo": True}
        """
    )
    result = _run(project, rpk)
    result.assert_outcomes(passed=2)
    digest = hashlib.sha256(rpk.read_bytes()).hexdigest()
    result.stdout.fnmatch_lines(
        [f"rig sim: *app under test {PACKAGE} 2.3.4 (1) from app.rpk sha256 {digest[:12]}*"]
    )
    rig = json.loads((project.path / "reports/sim/allure-results/vela-rig.json").read_text())
    assert rig["environment"]["app"] == PACKAGE
    assert rig["environment"]["app.version"] == "2.3.4 (1)"
    assert rig["environment"]["app.sha256"] == digest


def test_a_bytecode_build_is_a_product_failure_saying_how_to_rebuild(
    project: pytest.Pytester,
) -> None:
    rpk = make_rpk(project.path / "jsc.rpk", PACKAGE, PAGE, bytecode=True)
    project.makepyfile(
        """
        def test_needs_the_app(peer):
            pass

        def test_needs_the_shell_only(watch):
            assert "nsh" not in watch.shell("echo up")
        """
    )
    result = _run(project, rpk)
    assert result.ret == 1  # the product failed; not 10, the rig is fine
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*AppLoadFailed: the app under test jsc.rpk: *bytecode*rebuild without --enable-jsc*",
            "*1 product failure, 0 watch crashes, 0 rig faults*",
        ]
    )
    assert "quarantined" not in result.stdout.str()


def test_a_late_callbacks_error_is_charged_to_the_test_that_set_it_off(
    project: pytest.Pytester,
) -> None:
    rpk = make_rpk(project.path / "app.rpk", PACKAGE, PAGE)
    project.makepyfile(
        """
        def test_sets_it_off(peer):
            peer.send("late")  # the app throws 30 ms after: this test has ended by then

        def test_next(peer):
            peer.send("echo")
            assert peer.expect_message(timeout=5) == {"echo": True}
        """
    )
    result = _run(project, rpk, "-rA")
    result.assert_outcomes(passed=1, failed=1)
    found = outcomes(project.path / "reports/sim/allure-results")
    assert found["test_sets_it_off"].status == "failed"
    assert "late boom" in found["test_sets_it_off"].message
    assert found["test_next"].status == "passed"
    # Its tests are drawn as sequence diagrams too, from the link trace.
    results = project.path / "reports/sim/allure-results"
    written = [json.loads(p.read_text()) for p in results.glob("*-result.json")]
    result = next(r for r in written if r["name"] == "test_next[sim]")
    names = [a["name"] for a in result["attachments"]]
    assert "sequence diagram" in names, names


def test_an_error_in_the_callback_of_a_send_the_phone_acknowledged_is_the_tests_own(
    project: pytest.Pytester,
) -> None:
    """The app's ``send`` succeeds once the phone side acknowledges, which the harness does as
    the message arrives, often after the test that asked for it has ended: an error in its
    callback is still that test's."""
    rpk = make_rpk(project.path / "app.rpk", PACKAGE, PAGE)
    project.makepyfile(
        """
        def test_sets_it_off(peer):
            peer.send("acked")
            assert peer.expect_message(timeout=5) == {"sent": True}

        def test_next(peer):
            peer.send("echo")
            assert peer.expect_message(timeout=5) == {"echo": True}
        """
    )
    _run(project, rpk).assert_outcomes(passed=1, failed=1)
    found = outcomes(project.path / "reports/sim/allure-results")
    assert found["test_sets_it_off"].status == "failed"
    assert "acked boom" in found["test_sets_it_off"].message
    assert found["test_next"].status == "passed"


def test_a_timer_beyond_the_wait_is_charged_to_the_test_it_fires_in(
    project: pytest.Pytester,
) -> None:
    """What is awaited is what is due within 50 ms: a timer set to fire 400 ms later fires
    during a later test, which it fails (the harness cannot wait out every timer)."""
    rpk = make_rpk(project.path / "app.rpk", PACKAGE, PAGE)
    project.makepyfile(
        """
        import time

        def test_sets_it_off(peer):
            peer.send("much later")

        def test_during_which_it_fires(peer):
            time.sleep(1)
        """
    )
    _run(project, rpk).assert_outcomes(passed=1, failed=1)
    found = outcomes(project.path / "reports/sim/allure-results")
    assert found["test_sets_it_off"].status == "passed"
    assert found["test_during_which_it_fires"].status == "failed"
    assert "much later boom" in found["test_during_which_it_fires"].message


def test_a_message_without_a_handler_is_said_on_the_console(project: pytest.Pytester) -> None:
    rpk = make_rpk(project.path / "deaf.rpk", PACKAGE, DEAF_PAGE)
    project.makepyfile(
        """
        def test_nobody_listens(peer, watch):
            peer.send("anyone?")
            watch.console.expect(r"\\[SYS\\] interconnect.onmessage: .*anyone\\?", timeout=5)
        """
    )
    _run(project, rpk).assert_outcomes(passed=1)


@pytest.mark.parametrize(
    ("given", "said"),
    [
        ("", "--vela-app '' names no app"),
        ("{dir}", "is a directory: give the built package"),
        ("{dir}/none.rpk", "no such file"),
    ],
)
def test_a_wrong_app_is_a_usage_error(project: pytest.Pytester, given: str, said: str) -> None:
    value = given.format(dir=project.path)
    project.makepyfile("def test_x(peer):\n    pass\n")
    result = _run(project, value)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*{said}*"])


def test_an_app_outside_the_project_given_as_two_words_is_refused_with_the_fix(
    project: pytest.Pytester, tmp_path_factory: pytest.TempPathFactory
) -> None:
    elsewhere = tmp_path_factory.mktemp("elsewhere with space") / "app.rpk"
    make_rpk(elsewhere, PACKAGE, PAGE)
    project.makepyfile("def test_x(peer):\n    pass\n")
    spaced = project.runpytest_subprocess("--vela-app", str(elsewhere), "-p", "no:cacheprovider")
    assert spaced.ret == pytest.ExitCode.USAGE_ERROR
    spaced.stderr.fnmatch_lines(["*write it as one word, --vela-app=*"])
    _run(project, elsewhere).assert_outcomes(passed=1)  # the one-word form works
