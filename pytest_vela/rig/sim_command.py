"""``pytest-vela sim``: a simulated watch to poke at by hand, on the same pty the tests use.

Useful to see what the harness sees (miniterm on the printed path) or to develop a test
against a watch that stays up between runs. Runs until Ctrl-C, then stops the watch cleanly.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from pathlib import Path
from types import FrameType
from typing import Any

from pytest_vela.errors import RigError
from pytest_vela.rig.backends.simulated import SimulatedBackend
from pytest_vela.rigfile.loader import SIM_RIG, load_rig


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "sim",
        help="run a simulated watch and print its serial port",
        description="Start the simulated watch and print its console port; Ctrl-C stops it.",
    )
    parser.add_argument(
        "--rig-dir",
        type=Path,
        default=Path("rigs"),
        help="where NAME.toml rig files live (default: rigs)",
    )
    parser.add_argument(
        "--rig",
        default=SIM_RIG,
        metavar="NAME",
        help="a sim rig to take settings from (default: sim, or rigs/sim.toml when present)",
    )
    parser.add_argument(
        "--reports",
        type=Path,
        default=Path("reports"),
        help="its log goes to REPORTS/<rig>/logs, as in a test run (default: reports)",
    )
    parser.set_defaults(run=run)


def _stop_on_term(_sig: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def run(args: argparse.Namespace) -> int:
    try:
        rig = load_rig(args.rig, args.rig_dir)
    except RigError as exc:
        print(f"pytest-vela sim: {exc}", file=sys.stderr)
        return 2
    if rig.kind != "sim":
        print(
            f"pytest-vela sim: rig {rig.name!r} ({rig.path}) is a {rig.kind} rig; "
            'give a rig with kind = "sim"',
            file=sys.stderr,
        )
        return 2
    backend = SimulatedBackend(rig)
    logs = args.reports / rig.name / "logs"
    previous = signal.signal(signal.SIGTERM, _stop_on_term)
    try:
        logs.mkdir(parents=True, exist_ok=True)
        port = backend.start(logs, f"{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}-by-hand")
        sim = backend.simulator
        assert sim is not None, "started"
        ble = backend.ble
        print(f"simulated watch {rig.name!r} is up; its console port: {port}")
        print(f"  talk to it:  python -m serial.tools.miniterm {port} {rig.settings.serial.baud}")
        print(
            f"  its BLE bridge {ble.name!r} ({ble.address}) is on a private bus; point bleak "
            f"at it with\n    export DBUS_SYSTEM_BUS_ADDRESS='{backend.bus_address}'"
        )
        print(f"  its log: {sim.stderr_path}")
        print("Ctrl-C stops it.", flush=True)
        while sim.alive:
            time.sleep(0.5)
        print(f"the simulated watch exited; its log: {sim.stderr_path}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("stopping the simulated watch", flush=True)
        return 0
    except RigError as exc:
        print(f"pytest-vela sim: {exc}", file=sys.stderr)
        return 1
    finally:
        backend.stop()
        signal.signal(signal.SIGTERM, previous)
