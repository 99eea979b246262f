"""LoopThread and LinkTrace."""

from __future__ import annotations

import asyncio
import threading

import pytest

from pytest_vela.common.loop import LoopThread
from pytest_vela.errors import BleError, LoopTimeout, RigError
from pytest_vela.link.trace import LinkTrace, preview
from pytest_vela.wire.framing import encode


def test_run_returns_results_and_raises_errors() -> None:
    with LoopThread() as loop:

        async def add(a: int, b: int) -> int:
            await asyncio.sleep(0)
            return a + b

        async def boom() -> None:
            raise KeyError("k")

        assert loop.run(add(2, 3), 5) == 5
        with pytest.raises(KeyError):
            loop.run(boom(), 5)


def test_timeout_is_clear_and_cancels_the_coroutine() -> None:
    cancelled = threading.Event()
    with LoopThread() as loop:

        async def forever() -> None:
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                cancelled.set()
                raise

        with pytest.raises(LoopTimeout, match=r"forever did not finish within 0\.1 s") as info:
            loop.run(forever(), 0.1)
        # a rig fault of its own: the BLE link and the labgrid place each say what timed out
        assert isinstance(info.value, RigError) and isinstance(info.value, TimeoutError)
        assert not isinstance(info.value, BleError)
        assert cancelled.wait(5)


def test_stop_is_clean_and_idempotent() -> None:
    loop = LoopThread()
    pending = threading.Event()

    async def lingering() -> None:
        try:
            await asyncio.sleep(3600)
        finally:
            pending.set()

    loop.call_soon(lambda: loop.loop.create_task(lingering()))
    loop.run(asyncio.sleep(0.01), 5)
    loop.stop()
    loop.stop()
    assert pending.is_set(), "pending tasks are cancelled on stop"
    assert not loop.running and loop.loop.is_closed()
    coro = asyncio.sleep(0)
    with pytest.raises(RuntimeError, match="stopped"):
        loop.run(coro, 1)


def test_run_from_the_loop_thread_is_refused() -> None:
    with LoopThread() as loop:

        async def nested() -> str:
            try:
                loop.run(asyncio.sleep(0), 1)
            except RuntimeError as exc:
                return str(exc)
            return "no error"

        assert "would deadlock" in loop.run(nested(), 5)


def test_trace_marks_slices_and_renders() -> None:
    trace = LinkTrace()
    trace.event("before")
    mark = trace.mark()
    (frame,) = encode(b'{"t":"cmd"}', 12, 247, 1024)
    trace.frame("tx", frame)
    trace.frame("rx", b"\x01\x02")
    trace.event("disconnected (link lost)")
    records = trace.since(mark)
    assert [r.direction for r in records] == ["tx", "rx", "event"]
    tx = records[0]
    assert (tx.msg_id, tx.index, tx.count, tx.length) == (12, 0, 1, len(frame))
    assert records[1].msg_id is None and records[1].preview == "01 02"
    text = LinkTrace.render(records)
    assert "before" not in text
    assert '{"t":"cmd"}' in text and "0/1" in text and "link lost" in text
    assert LinkTrace.render([]) == "(no link traffic)\n"


def test_preview_is_short_and_readable() -> None:
    assert preview(b"abc") == "abc"
    assert preview(b"\xff\x00") == "ff 00"
    assert preview(b"x" * 100).endswith("…") and len(preview(b"x" * 100)) == 33


def test_trace_is_thread_safe() -> None:
    trace = LinkTrace()

    def writer() -> None:
        for _ in range(2000):
            trace.frame("rx", b"\x01\x00\x00\x00\x00\x01\x00x")

    threads = [threading.Thread(target=writer) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    records = trace.since(0)
    assert len(records) == 8000
    assert [r.seq for r in records] == list(range(1, 8001))


def test_trace_stays_bounded() -> None:
    trace = LinkTrace(limit=100)
    for i in range(250):
        trace.event(str(i))
    assert len(trace) <= 100
    assert trace.since(trace.mark() - 3)[0].preview == "247"
