"""Tie a helper process's life to pytest's, so nothing outlives a killed pytest."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from typing import Any

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
