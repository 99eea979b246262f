from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from pytest_vela.common.loop import LoopThread
from pytest_vela.errors import FramingError
from pytest_vela.link.client import LinkClient
from pytest_vela.link.trace import LinkTrace
from pytest_vela.rig.private_bus import PrivateBus
from pytest_vela.rigfile.schema import BleSettings
from tests.link.watchproc import WATCH_NAME, EchoWatchProcess


@pytest.fixture(scope="module")
def private_bus() -> Iterator[PrivateBus]:
    """A private dbus-daemon; only this process's D-Bus system bus points at it."""
    bus = PrivateBus()
    bus.start()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DBUS_SYSTEM_BUS_ADDRESS", bus.environ()["DBUS_SYSTEM_BUS_ADDRESS"])
        yield bus
    bus.stop()


@pytest.fixture
def watch(private_bus: PrivateBus) -> Iterator[EchoWatchProcess]:
    assert private_bus.address is not None
    proc = EchoWatchProcess(private_bus.address)
    yield proc
    proc.stop()


@pytest.fixture
def loop() -> Iterator[LoopThread]:
    thread = LoopThread()
    yield thread
    thread.stop()


@dataclass
class Link:
    """A LinkClient with its callbacks recorded."""

    client: LinkClient
    trace: LinkTrace
    messages: queue.Queue[bytes] = field(default_factory=queue.Queue)
    disconnects: queue.Queue[float] = field(default_factory=queue.Queue)
    errors: list[FramingError] = field(default_factory=list)
    disconnected: threading.Event = field(default_factory=threading.Event)

    def take(self, n: int, timeout: float = 30.0) -> list[bytes]:
        return [self.messages.get(timeout=timeout) for _ in range(n)]


def make_link(loop: LoopThread, **settings: object) -> Link:
    opts: dict[str, object] = {"name": WATCH_NAME, "scan_timeout": 5.0}
    opts.update(settings)
    trace = LinkTrace()
    q: queue.Queue[bytes] = queue.Queue()
    link = Link(client=None, trace=trace, messages=q)  # type: ignore[arg-type]

    def on_disconnect(ts: float) -> None:
        link.disconnects.put(ts)
        link.disconnected.set()

    link.client = LinkClient(
        BleSettings.model_validate(opts),
        trace,
        loop,
        on_message=q.put,
        on_disconnect=on_disconnect,
        on_error=link.errors.append,
    )
    return link


@pytest.fixture
def link(loop: LoopThread, watch: EchoWatchProcess) -> Iterator[Link]:
    made = make_link(loop)
    yield made
    made.client.disconnect()
