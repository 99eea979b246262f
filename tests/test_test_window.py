"""A test's console window starts when the test starts: ``expect`` never sees what an earlier
test left unmatched, while its own output (even what came before the call) is found."""

from __future__ import annotations

from pathlib import Path

from pytest_vela.console.port import Console
from tests.support.projects import outcome, run_project
from tests.support.ptys import RawPty

TWO_TESTS = r"""
    import re
    import pytest
    from pytest_vela import ExpectTimeout

    LEFT = re.compile(r"(?m)^left-over-17\r")

    def test_1_leaves_a_line_unmatched(watch):
        watch.console.write_line("echo left-over-17")
        # Its output has arrived (the echo starts "echo ", the output line starts with it),
        # and nothing matched it.
        assert watch.console.wait_until(lambda: LEFT.search(watch.console.recent), 5)

    def test_2_does_not_see_it(watch):
        with pytest.raises(ExpectTimeout):
            watch.console.expect(LEFT, timeout=1)

    def test_3_sees_its_own_output_from_before_the_call(watch):
        watch.console.write_line("echo left-over-17")
        assert watch.console.wait_until(lambda: LEFT.search(watch.console.recent), 5)
        assert watch.console.expect(LEFT, timeout=1)
"""


def test_a_line_an_earlier_test_caused_does_not_satisfy_a_later_expect(tmp_path: Path) -> None:
    done = run_project(tmp_path, TWO_TESTS)
    assert done.returncode == 0, done.stdout[-3000:]
    for test in ("test_1_leaves_a_line_unmatched", "test_2_does_not_see_it"):
        assert outcome(done.stdout, test).startswith("PASSED"), done.stdout[-3000:]
    assert outcome(done.stdout, "test_3_sees_its_own_output_from_before_the_call").startswith(
        "PASSED"
    )
    # The console log still holds everything, with where each test began.
    logs = list((tmp_path / "reports" / "sim" / "logs").glob("console-*.log"))
    log = "\n".join(path.read_text() for path in logs)
    assert log.index("left-over-17") < log.index("# test start: test_2_does_not_see_it")


def test_begin_drops_what_earlier_tests_left_and_marks_the_log(
    raw_pty: RawPty, pty_console: Console
) -> None:
    console = pty_console
    raw_pty.send(b"at start-up\r\n")
    assert console.wait_until(lambda: "at start-up" in console.recent, 5)
    first = console.begin("test start: first")  # the session's start-up is the first test's
    assert console.expect(r"at (\S+)", timeout=5).group(1) == "start-up"
    raw_pty.send(b"from before\r\n")
    assert console.wait_until(lambda: "from before" in console.recent, 5)
    mark = console.begin("test start: second")
    raw_pty.send(b"from after\r\n")
    assert console.expect(r"from (\w+)", timeout=5).group(1) == "after"
    since = console.text_since(mark)
    assert "# test start: second" in since and "from after" in since
    assert "from before" not in since and "from before" in console.text_since(first)
