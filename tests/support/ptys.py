"""A pseudo-terminal whose device end the test drives, as a watch would."""

from __future__ import annotations

import contextlib
import os
import tty


class RawPty:
    """A pty whose master end the test drives byte by byte, as a device would."""

    def __init__(self) -> None:
        self.master, self.slave = os.openpty()
        # Raw, or the line discipline would echo and translate what the "device" writes.
        tty.setraw(self.slave)
        self.path = os.ttyname(self.slave)

    def send(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(self.master, view) :]

    def read_host_output(self, size: int = 4096) -> bytes:
        return os.read(self.master, size)

    def vanish(self) -> None:
        """What unplugging a USB serial adapter looks like from the host: the other end goes."""
        for fd in (self.master, self.slave):
            with contextlib.suppress(OSError):
                os.close(fd)
        self.master = self.slave = -1

    def close(self) -> None:
        self.vanish()
