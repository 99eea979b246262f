"""Helper processes of a run: started tied to pytest's life, read with deadlines, stopped in
order, and the run directories of dead runs swept away."""

from __future__ import annotations

import contextlib
import os
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import FrameType
from typing import IO, Any

# Runs in a fresh interpreter between fork and exec: asks the kernel to SIGKILL it when its
# parent dies, checks the parent did not die first, then becomes the real program.
_TIE = (
    "import ctypes,os,sys\n"
    "ctypes.CDLL(None).prctl(1, 9, 0, 0, 0)\n"
    "os.getppid() == int(sys.argv[1]) or os._exit(1)\n"
    "os.execvp(sys.argv[2], sys.argv[2:])\n"
)


def spawn_tied(argv: Sequence[str], **popen: Any) -> subprocess.Popen[bytes]:
    """Start ``argv`` so that it is killed when this process (the calling thread) ends.

    The kernel's parent-death signal follows the thread that forked: call this from a thread
    that lives as long as the child should (pytest's main thread does).
    """
    wrapper = [sys.executable, "-I", "-S", "-c", _TIE, str(os.getpid()), *argv]
    return subprocess.Popen(wrapper, **popen)


@contextlib.contextmanager
def interrupts_held() -> Iterator[None]:
    """Hold back SIGINT and SIGTERM while the block runs, so that a Ctrl-C or a job's timeout
    does not cut a shutdown short; the first that came meanwhile is raised again, to the
    handler it was for, when the block ends. Handlers belong to the main thread: elsewhere
    the block runs as it is."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    came: list[int] = []

    def hold(signum: int, _frame: FrameType | None) -> None:
        came.append(signum)

    previous = {sig: signal.signal(sig, hold) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            # None: a handler set outside Python, which cannot be put back; the default is
            # the nearest.
            signal.signal(sig, signal.SIG_DFL if handler is None else handler)
        if came:
            signal.raise_signal(came[0])


def stop_process(proc: subprocess.Popen[bytes] | None, timeout: float = 3.0) -> None:
    """Terminate, then kill, a child we started, and reap it; never raises."""
    if proc is None:
        return
    if proc.poll() is None:
        with contextlib.suppress(OSError):
            proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(OSError):
                proc.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout)
    for stream in (proc.stdin, proc.stdout, proc.stderr):
        if stream is not None:
            with contextlib.suppress(OSError):
                stream.close()


def read_line(stream: IO[bytes], timeout: float) -> bytes | None:
    """The first line a child prints on a pipe (without its newline); ``None`` when none came
    within ``timeout``, ``b""`` when the pipe closed first."""
    deadline = time.monotonic() + timeout
    data = b""
    fd = stream.fileno()
    with selectors.DefaultSelector() as sel:
        sel.register(fd, selectors.EVENT_READ)
        while b"\n" not in data:
            left = deadline - time.monotonic()
            if left <= 0 or not sel.select(left):
                return None
            chunk = os.read(fd, 4096)
            if not chunk:
                return data
            data += chunk
    return data.split(b"\n", 1)[0]


def log_tail(path: Path, size: int = 2000) -> str:
    """The last ``size`` bytes of a log, as text, for an error message; "" if unreadable."""
    with contextlib.suppress(OSError), path.open("rb") as fh:
        fh.seek(max(0, path.stat().st_size - size))
        return fh.read().decode(errors="replace").strip()
    return ""


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def run_dir(prefix: str, base: Path | None = None) -> Path:
    """A fresh directory ``<tmp>/<prefix><pid>-…`` that ``sweep_dead_runs`` can trace to
    this process; dead runs' directories of the same prefix are swept first."""
    sweep_dead_runs(prefix)
    return Path(tempfile.mkdtemp(prefix=f"{prefix}{os.getpid()}-", dir=base))


def sweep_dead_runs(prefix: str) -> None:
    """Remove ``<tmp>/<prefix><pid>-…`` directories whose process is gone (a killed run)."""
    for base in {Path(tempfile.gettempdir()), Path("/tmp")}:
        with contextlib.suppress(OSError):
            for entry in base.glob(f"{prefix}*-*"):
                pid_text = entry.name[len(prefix) :].split("-", 1)[0]
                if pid_text.isdigit() and not pid_alive(int(pid_text)) and entry.is_dir():
                    shutil.rmtree(entry, ignore_errors=True)
