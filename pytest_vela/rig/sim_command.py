"""``pytest-vela sim``: a simulated watch to poke at by hand, on the same pty the tests use.

Useful to see what the harness sees (miniterm on the printed path) or to develop a test
against a watch that stays up between runs. Runs until Ctrl-C, then stops the watch cleanly.
"""

from __future__ import annotations

import argparse
import shutil
import signal
import sys
import time
from pathlib import Path
from types import FrameType
from typing import Any

from pytest_vela.common.processes import run_dir as make_run_dir
from pytest_vela.errors import RigError
from pytest_vela.rig.backend import RUN_DIR_PREFIX, with_sim_identity
from pytest_vela.rig.private_bus import PrivateBus
from pytest_vela.rig.sim_process import SimulatorProcess
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
    run_dir = make_run_dir(RUN_DIR_PREFIX)
    settings = with_sim_identity(rig.settings, rig.name)
    bus = PrivateBus()
    sim = SimulatorProcess(settings, run_dir, log_path=run_dir / "sim.log")
    previous = signal.signal(signal.SIGTERM, _stop_on_term)
    try:
        sim.bus_address = bus.start()
        port = sim.start()
        baud = settings.serial.baud
        print(f"simulated watch {rig.name!r} is up; its console port: {port}")
        print(f"  talk to it:  python -m serial.tools.miniterm {port} {baud}")
        print(
            f"  its BLE bridge {settings.ble.name!r} ({settings.ble.address}) is on a private "
            f"bus; point bleak at it with\n    export DBUS_SYSTEM_BUS_ADDRESS='{bus.address}'"
        )
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
        sim.stop()
        bus.stop()
        signal.signal(signal.SIGTERM, previous)
        shutil.rmtree(run_dir, ignore_errors=True)
