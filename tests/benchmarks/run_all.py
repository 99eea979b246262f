"""Run every ``bench_*.py`` beside this file, one after another, and print their figures.

Run: ``python tests/benchmarks/run_all.py [NAME…]`` (names filter, e.g. ``foundation``).
Each benchmark runs in its own interpreter so one's threads and processes cannot skew the
next; the exit code is non-zero when any of them failed to run (a MISS is not a failure).
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    scripts = sorted(HERE.glob("bench_*.py"))
    if argv:
        scripts = [s for s in scripts if any(name in s.stem for name in argv)]
    failed = []
    for script in scripts:
        print(f"== {script.stem} ==", flush=True)
        started = time.monotonic()
        done = subprocess.run([sys.executable, str(script)], cwd=HERE.parents[1])
        print(f"   ({time.monotonic() - started:.0f} s)\n", flush=True)
        if done.returncode != 0:
            failed.append(f"{script.name} (exit {done.returncode})")
    if failed:
        print("benchmarks that did not run to the end: " + ", ".join(failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
