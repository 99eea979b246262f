"""A real NuttX build running as a watch behind a pty whose console pyserial opens, as a USB
serial adapter's would be: for tests of the console and the simulated shell against the real
thing, outside a rig (the builds are found as ``tests/support/nuttx.py`` finds them)."""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
import termios
import threading
import tty
from collections.abc import Iterator
from pathlib import Path

from pytest_vela.console.port import Console
from pytest_vela.device.power import ConsoleReboot
from pytest_vela.device.watch import Watch
from pytest_vela.rigfile.loader import Rig
from tests.support.nuttx import BUILDS, ENV_DIR, nuttx_missing, nuttx_sim_dir
from tests.support.rigs import fast_sim_settings


def shared_file(name: str) -> Path:
    """A file of the shared folder (a build, a transcript); without it the test skips (fails
    under CI), naming the variable."""
    folder = nuttx_sim_dir()
    if folder is None or not (folder / name).is_file():
        where = folder if folder is not None else "no shared/nuttx-sim above the repository"
        nuttx_missing(
            f"{name} not found ({where}): set {ENV_DIR} to the folder of the NuttX sim builds"
        )
    assert folder is not None
    return folder / name


KICK_AFTER_S = 0.1


class NuttxOnPty:
    """A NuttX sim build whose stdin/stdout is a pty, bridged byte for byte to a second, raw
    pty whose path the console opens. NuttX sets output processing on its terminal, so its
    lines end ``\\r\\r\\n``; ``clear_onlcr()`` makes the stream a real UART's (``\\r\\n``).

    The sim builds sometimes miss input that arrives at their console: about one command in a
    hundred typed at the prompt is not read (not even echoed) until more input comes. A UART
    never loses its receive interrupt, so the bridge stands in for it: when NuttX has said
    nothing for ``KICK_AFTER_S`` since input went to it, a NUL follows (nsh's readline ignores
    NUL bytes) and wakes it.
    """

    def __init__(self, executable: Path, cwd: Path) -> None:
        self.executable = executable
        self.cwd = cwd
        self._nuttx_side, self._nuttx_tty = os.openpty()
        self._host_side, host_tty = os.openpty()
        tty.setraw(host_tty)  # the cable: nothing of its own added or taken away
        self._host_tty = host_tty
        self.path = os.ttyname(host_tty)
        self._wake_r, self._wake_w = os.pipe()
        self._process: subprocess.Popen[bytes] | None = None
        self._bridge = threading.Thread(target=self._pump, name="nuttx-bridge", daemon=True)

    def start(self) -> NuttxOnPty:
        self.cwd.mkdir(parents=True, exist_ok=True)
        self._process = subprocess.Popen(
            [str(self.executable)],
            stdin=self._nuttx_tty,
            stdout=self._nuttx_tty,
            stderr=self._nuttx_tty,
            cwd=self.cwd,
            start_new_session=True,
        )
        self._bridge.start()
        return self

    def clear_onlcr(self) -> None:
        """Clear the pty's ONLCR, after NuttX set up its terminal at start."""
        attrs = termios.tcgetattr(self._nuttx_tty)
        attrs[1] &= ~termios.ONLCR
        termios.tcsetattr(self._nuttx_tty, termios.TCSANOW, attrs)

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def _pump(self) -> None:
        route = {self._nuttx_side: self._host_side, self._host_side: self._nuttx_side}
        unanswered = False  # input went to NuttX and nothing came back yet
        while True:
            try:
                timeout = KICK_AFTER_S if unanswered else None
                ready, _, _ = select.select([*route, self._wake_r], [], [], timeout)
                if self._wake_r in ready:
                    return
                if not ready:
                    _write_all(self._nuttx_side, b"\x00")
                for fd in ready:
                    data = os.read(fd, 65536)
                    if data:
                        _write_all(route[fd], data)
                        unanswered = fd == self._host_side
            except OSError:
                return

    def stop(self) -> None:
        if self._process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._process.pid, signal.SIGKILL)
            self._process.wait()
        os.write(self._wake_w, b"x")
        if self._bridge.is_alive():
            self._bridge.join(5)
        for fd in (
            self._nuttx_side,
            self._nuttx_tty,
            self._host_side,
            self._host_tty,
            self._wake_r,
            self._wake_w,
        ):
            with contextlib.suppress(OSError):
                os.close(fd)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


@contextlib.contextmanager
def nuttx_on_pty(dialect: str, tmp_path: Path) -> Iterator[NuttxOnPty]:
    """The shared build of ``dialect`` ("apache" or "vela"), to run in a scratch folder (the
    apache build mounts its working folder at /data); killed afterwards. Open the console on
    ``path`` before ``start()``: opening a port drops what arrived before (its boot banner)."""
    nuttx = NuttxOnPty(shared_file(BUILDS[dialect]), tmp_path / f"nuttx-{dialect}")
    try:
        yield nuttx
    finally:
        nuttx.stop()


@contextlib.contextmanager
def watch_on_nuttx(dialect: str, tmp_path: Path) -> Iterator[Watch]:
    """A ``Watch`` on the shared build of ``dialect``, booted and at its prompt."""
    with nuttx_on_pty(dialect, tmp_path) as nuttx:
        console = Console(nuttx.path, 921600, tmp_path / "console.log").open()
        nuttx.start()
        try:
            watch = Watch(Rig("nuttx", fast_sim_settings(), None), console, ConsoleReboot(console))
            console.expect(r"NuttShell \(NSH\)", timeout=10)
            watch.wake()
            yield watch
        finally:
            console.close()
