"""No simulated watch outlives its pytest: not when the run is interrupted (Ctrl-C) or killed,
and not when a test crashes."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest

from tests.support.leftovers import helper_processes, wait_gone
from tests.support.plugin_runs import run

SLEEPER = """
    import os, time
    from pathlib import Path

    def test_waits(watch):
        Path("ready").write_text(str(os.getpid()))
        time.sleep(60)
"""


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["ctrl-c", "killed"])
def test_no_simulated_watch_outlives_an_interrupted_run(
    project: pytest.Pytester, sig: signal.Signals
) -> None:
    project.makepyfile(test_sleep=SLEEPER)
    proc = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q"],
        cwd=project.path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        ready = project.path / "ready"
        deadline = time.monotonic() + 60
        while not ready.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert ready.exists(), proc.communicate(timeout=5)[0] if proc.poll() is not None else ""
        assert len(helper_processes(proc.pid)) == 2, (
            "the simulated watch and its bus should be running"
        )
        proc.send_signal(sig)
        out, _ = proc.communicate(timeout=60)
        if sig == signal.SIGINT:
            assert "KeyboardInterrupt" in out
        assert wait_gone(proc.pid) == []
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_no_simulated_watch_outlives_a_crashing_test(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_boom="""
            import os
            from pathlib import Path

            def test_boom(watch):
                Path("pid").write_text(str(os.getpid()))
                raise RuntimeError("boom")
        """
    )
    result = run(project)
    result.assert_outcomes(failed=1)
    pid = int((project.path / "pid").read_text())
    assert wait_gone(pid) == []
