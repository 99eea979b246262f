"""Unmodified bleak against the simulated watch's org.bluez, through LinkClient."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
from bleak import BleakScanner

from pytest_vela.common.loop import LoopThread
from pytest_vela.errors import BleError, BridgeProfileError, MessageTooLarge, RigError
from pytest_vela.rig.private_bus import PrivateBus
from pytest_vela.wire.framing import encode
from tests.link.conftest import Link, make_link
from tests.link.watchproc import WATCH_ADDRESS, WATCH_NAME, EchoWatchProcess


def wait_until(predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
    """Poll a condition that arrives by signal (not a timing assertion)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return False


def test_unmodified_bleak_finds_the_watch_by_name(
    loop: LoopThread, watch: EchoWatchProcess
) -> None:
    device = loop.run(BleakScanner.find_device_by_name(WATCH_NAME, timeout=5.0), 10)
    assert device is not None
    assert device.address == WATCH_ADDRESS
    assert device.name == WATCH_NAME


def test_connect_by_address_reports_mtu_and_traces(
    loop: LoopThread, watch: EchoWatchProcess
) -> None:
    link = make_link(loop, name=None, address=WATCH_ADDRESS)
    link.client.connect(timeout=20)
    try:
        assert link.client.is_connected
        assert link.client.mtu == 247
        assert watch.state()["subscribed"] == 1
        link.client.send(b'{"hi":1}')
        assert link.take(1) == [b'{"hi":1}']
        dirs = [r.direction for r in link.trace.since(0)]
        assert dirs.count("tx") == 1 and dirs.count("rx") == 1
        table = link.trace.render(link.trace.since(0))
        assert "connected to C0:FF:EE:00:00:42" in table and '{\\"hi\\":1}' not in table
        assert '{"hi":1}' in table
    finally:
        link.client.disconnect()


def test_every_size_from_one_byte_to_the_limit(loop: LoopThread, private_bus: PrivateBus) -> None:
    limit = 1200
    assert private_bus.address is not None
    watch = EchoWatchProcess(private_bus.address, mtu=64, max_message_bytes=limit)
    link = make_link(loop, max_message_bytes=limit)
    try:
        link.client.connect(timeout=20)
        assert link.client.mtu == 64
        sent = [bytes((i % 251,)) * i for i in range(1, limit + 1)]
        for payload in sent:
            link.client.send(payload)
        assert link.take(limit) == sent
        assert link.errors == []
        mark = link.trace.mark()
        with pytest.raises(
            MessageTooLarge, match=r"1201 bytes.*1200 bytes.*ble\.max_message_bytes"
        ):
            link.client.send(b"x" * (limit + 1))
        assert [r for r in link.trace.since(mark) if r.direction == "tx"] == []
    finally:
        link.client.disconnect()
        watch.stop()


def test_large_messages_at_the_default_limit(link: Link) -> None:
    link.client.connect(timeout=20)
    step = 247 - 10
    sizes = [step - 1, step, step + 1, 20 * 1024, 65535, 65536]
    payloads = [bytes(range(256)) * (n // 256) + b"\x7f" * (n % 256) for n in sizes]
    for payload in payloads:
        link.client.send(payload)
    assert link.take(len(payloads)) == payloads


def test_watch_side_drop_fires_callback_and_reconnect_works(
    link: Link, watch: EchoWatchProcess
) -> None:
    link.client.connect(timeout=20)
    before = time.monotonic()
    watch.command("drop")
    assert link.disconnected.wait(5), "disconnected callback did not fire"
    ts = link.disconnects.get_nowait()
    assert before <= ts <= time.monotonic()
    assert link.client.last_disconnect_requested is False
    assert not link.client.is_connected
    with pytest.raises(BleError, match=r"link to the watch .* is down"):
        link.client.send(b"{}")
    assert "disconnected (link lost)" in link.trace.render(link.trace.since(0))
    assert watch.next_event() == "event connect"
    assert watch.next_event() == "event disconnect peripheral"

    link.client.connect(timeout=20)
    assert link.client.is_connected
    link.client.send(b'{"again":true}')
    assert link.take(1) == [b'{"again":true}']


def test_requested_disconnect_then_reconnect(link: Link, watch: EchoWatchProcess) -> None:
    link.client.connect(timeout=20)
    link.client.disconnect()
    assert link.disconnected.wait(5)
    assert link.client.last_disconnect_requested is True
    assert watch.state()["connected"] == 0
    link.client.disconnect()  # idempotent
    link.client.reconnect(timeout=20)
    assert watch.state()["connected"] == 1
    link.client.send(b"1")
    assert link.take(1) == [b"1"]


def test_flood_of_10000_notifications_arrives_complete_and_in_order(
    link: Link, watch: EchoWatchProcess
) -> None:
    link.client.connect(timeout=20)
    n = 10_000
    watch.command(f"flood {n}", timeout=60)
    got = link.take(n, timeout=30)
    assert got == [b"%d" % i for i in range(n)]
    assert link.errors == []
    assert watch.state()["notifications"] == n


def test_connect_refused_twice_then_accepted_within_budget(
    loop: LoopThread, watch: EchoWatchProcess
) -> None:
    watch.command("refuse 2")
    link = make_link(loop, connect_attempts=3)
    link.client.connect(timeout=20)
    try:
        assert link.client.is_connected
        events = [r.preview for r in link.trace.since(0) if r.direction == "event"]
        assert sum("retrying" in e for e in events) == 2
        assert any("attempt 3" in e for e in events)
    finally:
        link.client.disconnect()


def test_connect_refused_forever_fails_with_a_rig_error(
    loop: LoopThread, watch: EchoWatchProcess
) -> None:
    watch.command("refuse 1000")
    link = make_link(loop, connect_attempts=3)
    with pytest.raises(RigError) as info:
        link.client.connect(timeout=20)
    text = str(info.value)
    assert "after 3 attempts" in text and "ble.connect_attempts = 3" in text
    assert "Connection refused" in text
    assert not link.client.is_connected
    assert watch.state()["connected"] == 0


def test_permanent_error_is_not_retried(loop: LoopThread, watch: EchoWatchProcess) -> None:
    wrong = "7a5e00ff-5e1a-4c1d-9a00-76656c610000"
    link = make_link(loop, rx_uuid=wrong, connect_attempts=5)
    with pytest.raises(BridgeProfileError, match=r"no characteristic 7a5e00ff.*ble\.rx_uuid"):
        link.client.connect(timeout=20)
    events = [r.preview for r in link.trace.since(0) if r.direction == "event"]
    assert not any("retrying" in e for e in events)
    assert wait_until(lambda: watch.state()["connected"] == 0)


def test_watch_not_found_exhausts_the_budget(loop: LoopThread, watch: EchoWatchProcess) -> None:
    link = make_link(loop, name="Vela-nobody", scan_timeout=0.3, connect_attempts=2)
    with pytest.raises(BleError, match=r"after 2 attempts.*not seen advertising"):
        link.client.connect(timeout=20)


def test_the_rigs_adapter_is_the_one_used(loop: LoopThread, private_bus: PrivateBus) -> None:
    """A desk with two adapters chooses by ``ble.adapter``: the watch is seen only through
    the adapter it advertises on."""
    assert private_bus.address is not None
    watch = EchoWatchProcess(private_bus.address, adapter="hci1")
    try:
        elsewhere = make_link(loop, adapter="hci0", scan_timeout=0.3, connect_attempts=1)
        with pytest.raises(BleError):
            elsewhere.client.connect(timeout=10)
        there = make_link(loop, adapter="hci1")
        there.client.connect(timeout=20)
        assert there.client.is_connected
        there.client.disconnect()
    finally:
        watch.stop()


def test_mtu_change_reframes_later_messages(link: Link, watch: EchoWatchProcess) -> None:
    link.client.connect(timeout=20)
    watch.command("mtu 64")
    assert wait_until(lambda: link.client.mtu == 64)
    mark = link.trace.mark()
    payload = b"m" * 500
    link.client.send(payload)
    assert link.take(1) == [payload]
    frames = link.trace.since(mark)
    assert {r.length for r in frames if r.direction == "tx"} <= set(range(1, 62))
    assert max(r.length for r in frames if r.direction == "rx") == 61


def test_latency_keeps_order(link: Link, watch: EchoWatchProcess) -> None:
    link.client.connect(timeout=20)
    watch.command("latency 15")
    sent = [b"%d" % i * (i + 1) for i in range(30)]
    for payload in sent:
        link.client.send(payload)
    assert link.take(len(sent)) == sent


def test_broken_fragment_sequence_from_the_watch_is_reported(
    link: Link, watch: EchoWatchProcess
) -> None:
    link.client.connect(timeout=20)
    first, second, third = encode(b"z" * 600, 900, 247, 65536)
    watch.command(f"raw {first.hex()}")
    watch.command(f"raw {third.hex()}")  # fragment 1 never sent
    watch.command("send after")
    assert link.take(1) == [b"after"]
    assert len(link.errors) == 1 and "expected fragment 1/3, got 2" in str(link.errors[0])
    assert "framing error" in link.trace.render(link.trace.since(0))
    assert second  # the skipped one


def test_callbacks_run_on_the_loop_thread(loop: LoopThread, watch: EchoWatchProcess) -> None:
    link = make_link(loop)
    threads: list[bool] = []
    done = threading.Event()

    def on_disconnect(ts: float) -> None:
        threads.append(loop.in_loop_thread())
        done.set()

    link.client._on_message = lambda m: threads.append(loop.in_loop_thread())
    link.client._on_disconnect = on_disconnect
    link.client.connect(timeout=20)
    link.client.send(b"t")
    watch.command("drop")
    assert done.wait(5)
    assert threads == [True, True]
