"""A standalone echo bridge watch on a given bus: ``python tests/support/echo_watch.py --bus ADDR``.

It echoes every bridge message back and takes one command per line on stdin, answering on
stdout (``ok …`` / ``err …``; link events as ``event …``). It exits when stdin closes or the
bus goes away, so it cannot outlive whoever started it. Commands::

    drop | refuse N | latency MS | mtu N | echo on|off | send TEXT | raw HEX | flood N
    state | quit
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from collections.abc import Sequence

from pytest_vela.errors import FramingError
from pytest_vela.sim.bluez.bridge import BridgePeripheral
from pytest_vela.sim.bluez.peripheral import BluezPeripheral
from pytest_vela.wire.profile import BRIDGE_RX_UUID, BRIDGE_SERVICE_UUID, BRIDGE_TX_UUID

DEFAULT_ADDRESS = "C0:FF:EE:00:00:01"


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


class EchoWatch:
    def __init__(self, bridge: BridgePeripheral) -> None:
        self.bridge = bridge
        self.echo = True
        self.received = 0
        bridge.on_message = self._on_message
        bridge.on_connect = lambda: _say("event connect")
        bridge.on_disconnect = lambda reason: _say(f"event disconnect {reason}")
        bridge.on_error = self._on_error

    def _on_message(self, data: bytes) -> None:
        self.received += 1
        if self.echo:
            asyncio.get_running_loop().create_task(self._send_quietly(data))

    def _on_error(self, exc: FramingError) -> None:
        _say(f"event error {exc}")

    async def _send_quietly(self, data: bytes) -> None:
        try:
            await self.bridge.send_message(data)
        except Exception as exc:
            _say(f"event error echo failed: {exc}")

    async def command(self, line: str) -> str:
        word, _, arg = line.strip().partition(" ")
        p = self.bridge.peripheral
        if word == "drop":
            await p.drop()
        elif word == "refuse":
            p.refuse_next_connects(int(arg))
        elif word == "latency":
            p.set_latency(float(arg))
        elif word == "mtu":
            p.set_mtu(int(arg))
        elif word == "echo":
            self.echo = arg == "on"
        elif word == "send":
            await self.bridge.send_message(arg.encode())
        elif word == "raw":
            await p.notify(bytes.fromhex(arg))
        elif word == "flood":
            for i in range(int(arg)):
                await self.bridge.send_message(b"%d" % i)
        elif word == "state":
            return (
                f"ok state connected={int(p.connected)} subscribed={int(p.subscribed)} "
                f"mtu={p.mtu} received={self.received} notifications={p.notifications}"
            )
        else:
            raise ValueError(f"unknown command {word!r}")
        return f"ok {word}"


async def _serve(args: argparse.Namespace) -> int:
    peripheral = BluezPeripheral(
        args.bus,
        args.name,
        args.address,
        args.service,
        args.rx,
        args.tx,
        args.mtu,
        adapter=args.adapter,
    )
    watch = EchoWatch(BridgePeripheral(peripheral, args.max_message_bytes))
    await peripheral.start()
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    closed = loop.create_task(peripheral.wait_closed())
    _say(f"ready {peripheral.device_path}")
    try:
        while True:
            line_task = loop.create_task(reader.readline())
            done, _ = await asyncio.wait({line_task, closed}, return_when=asyncio.FIRST_COMPLETED)
            if closed in done:
                line_task.cancel()
                _say("event bus-closed")
                return 1
            line = line_task.result().decode()
            if not line or line.strip() == "quit":
                return 0
            if not line.strip():
                continue
            try:
                _say(await watch.command(line))
            except Exception as exc:
                _say(f"err {exc}")
    finally:
        closed.cancel()
        with contextlib.suppress(Exception):
            await peripheral.stop()


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="echo_watch.py", description=__doc__)
    ap.add_argument("--bus", required=True, help="D-Bus address of the private bus")
    ap.add_argument("--name", default="Vela-sim")
    ap.add_argument("--address", default=DEFAULT_ADDRESS)
    ap.add_argument("--service", default=BRIDGE_SERVICE_UUID)
    ap.add_argument("--rx", default=BRIDGE_RX_UUID)
    ap.add_argument("--tx", default=BRIDGE_TX_UUID)
    ap.add_argument("--mtu", type=int, default=247)
    ap.add_argument("--max-message-bytes", type=int, default=65536)
    ap.add_argument("--adapter", default="hci0", help="the adapter it is seen on")
    return asyncio.run(_serve(ap.parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
