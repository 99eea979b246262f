"""What each rig of a farm costs before its first test, for ``bench_farm``: the worker's start
(a Python process of its own that imports pytest, its plugins and pytest-vela and collects the
suite) and the simulated watch's (its private bus, its process and that process's Node.js app
host). Both are paid once per rig under ``-n K``; one after another, the worker's is paid once.
"""

from __future__ import annotations

import resource
import subprocess
import sys
import tempfile
from pathlib import Path

from pytest_vela.rig.backends import make_backend
from pytest_vela.rigfile.loader import load_rig


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def worker_start_cpu(blocked: tuple[str, ...], vela: bool = True) -> float:
    """CPU seconds of a pytest process that goes as far as a worker before its first test:
    Python, pytest, its plugins and pytest-vela, and the conformance suite's collection
    (``--co``: no rig is started). Without ``vela``: pytest and its other plugins alone,
    collecting nothing (the suite itself imports pytest-vela)."""
    argv = [sys.executable, "-m", "pytest", "-q", "--co", "-p", "no:cacheprovider"]
    for plugin in (*blocked, *(() if vela else ("vela",))):
        argv += ["-p", f"no:{plugin}"]
    if vela:
        argv += ["--pyargs", "pytest_vela.conformance"]
    with tempfile.TemporaryDirectory() as tmp:
        before = children_cpu()
        done = subprocess.run(argv, cwd=tmp, capture_output=True, text=True)
        spent = children_cpu() - before
    if done.returncode not in (0, 5):  # 5: nothing collected, as asked
        raise SystemExit(f"collecting the suite failed:\n{done.stdout[-3000:]}")
    return spent


def watch_start_cpu() -> float:
    """CPU seconds of starting a simulated watch to its ready line and stopping it again."""
    with tempfile.TemporaryDirectory() as tmp:
        backend = make_backend(load_rig("sim", Path(tmp) / "rigs"))
        before = children_cpu()
        try:
            backend.start(Path(tmp), "bench")
        finally:
            backend.stop()
        return children_cpu() - before
