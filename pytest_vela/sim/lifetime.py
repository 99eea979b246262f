"""Tie a helper process's life to its parent's, so nothing outlives a killed pytest."""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal

PR_SET_PDEATHSIG = 1


def die_with_parent(expected_parent: int, sig: int = signal.SIGTERM) -> None:
    """Ask Linux to send ``sig`` when the parent exits; exit now if it already has."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, sig, 0, 0, 0)
    if os.getppid() != expected_parent:
        os.kill(os.getpid(), sig)
