"""Two runs at once in one project never share a log: each writes its own console and
simulator logs, whole."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.support.rigs import FAST_SIM, write_rig

TEST = """
def test_shell(watch):
    assert "alive" in watch.shell("echo alive")
"""


def test_two_runs_at_once_write_logs_of_their_own(tmp_path: Path) -> None:
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    write_rig(tmp_path / "rigs", "sim", FAST_SIM)
    (tmp_path / "test_one.py").write_text(TEST)
    argv = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "test_one.py"]
    runs = [
        subprocess.Popen(argv, cwd=tmp_path, stdout=subprocess.PIPE, text=True) for _ in range(2)
    ]
    outputs = [run.communicate(timeout=120)[0] for run in runs]
    assert all("1 passed" in out for out in outputs), outputs
    logs = tmp_path / "reports" / "sim" / "logs"
    consoles = sorted(logs.glob("console-*.log"))
    sims = sorted(logs.glob("sim-*.log"))
    assert len(consoles) == 2 and len(sims) == 2, sorted(logs.iterdir())
    for console in consoles:
        text = console.read_text()
        assert text.count("# opened ") == 1, text  # one run's port, opened once
        assert "echo alive" in text
