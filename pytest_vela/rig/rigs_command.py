"""``pytest-vela rigs``: the farm's rigs at a glance — kind, model, where the console is (a port
or a labgrid place), who holds it — and with ``--check`` whether each answers: its console
gives a prompt within the shell timeout and its BLE peripheral is seen within the scan timeout
(a simulated rig is started for the check, a rig in use is left alone)."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from pytest_vela.console.port import Console
from pytest_vela.errors import LockError, RigError
from pytest_vela.link.scan import seen_advertising
from pytest_vela.rig.backends import make_backend
from pytest_vela.rigfile.loader import Rig, known_rigs, load_rig


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "rigs",
        help="list the rigs: kind, model, port or labgrid place, lock holder, health",
        description="List the rig files of the rig directory; --check tries each rig briefly.",
    )
    parser.add_argument(
        "--rig-dir",
        type=Path,
        default=Path("rigs"),
        help="where NAME.toml rig files live (default: rigs)",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="check each free rig: a prompt on its console, its BLE peripheral advertising "
        "(a simulated rig is started for it)",
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.set_defaults(run=run)


@dataclass
class Health:
    ok: bool | None  # None: not checked (the rig is in use)
    detail: str


@dataclass
class RigRow:
    name: str
    kind: str = "?"
    model: str | None = None
    where: str = ""
    details: dict[str, str] | None = None  # how it is reached, as its backend says
    holder: str | None = None
    exclusive: bool = True  # held by one run at a time (a simulated rig is not)
    error: str | None = None  # the rig file is invalid, or who holds it is unknown
    health: Health | None = None


def describe(rig: Rig) -> RigRow:
    """The rig as its backend describes it, and who holds it now."""
    backend = make_backend(rig)
    reach = backend.reach()
    row = RigRow(
        rig.name,
        rig.kind,
        rig.settings.model,
        reach.where,
        reach.details or None,
        exclusive=not backend.spreads_over_workers,
    )
    try:
        row.holder = backend.holder()
    except RigError as exc:
        row.error = f"who holds it is unknown: {exc}"
    return row


def check(rig: Rig) -> Health:
    """Start the rig as a run would (lock or place, a simulated watch), see a prompt on its
    console and its peripheral advertising, and end it again."""
    settings = rig.settings
    try:
        backend = make_backend(rig)
    except RigError as exc:
        return Health(False, str(exc))
    with tempfile.TemporaryDirectory(prefix="vela-rigs-") as logs:
        try:
            started = time.monotonic()
            port = backend.start(Path(logs), "check")
            console = Console(
                port,
                settings.serial.baud,
                Path(logs) / "console.log",
                newline=settings.serial.newline,
            )
            try:
                console.open()
                console.write_line("")
                console.expect(settings.serial.prompt, timeout=settings.timeouts.shell)
            except RigError as exc:
                said = str(exc)  # a lost port's error names the port itself
                return Health(False, said if port in said else f"console {port}: {said}")
            except AssertionError:
                return Health(
                    False,
                    f"console {port}: no prompt {settings.serial.prompt!r} within "
                    f"{settings.timeouts.shell:g} s (timeouts.shell); last seen: "
                    f"{console.recent[-120:]!r}",
                )
            finally:
                console.close()
            prompt_s = time.monotonic() - started
            scanned = time.monotonic()
            ble = backend.ble
            if ble is None:
                return Health(True, f"prompt in {prompt_s:.2f} s (no BLE on this rig)")
            address = seen_advertising(ble, backend.bus_address, ble.scan_timeout)
            if address is None:
                return Health(
                    False,
                    f"prompt in {prompt_s:.2f} s, but the watch ({ble.address or ble.name}) was "
                    f"not seen advertising within {ble.scan_timeout:g} s (ble.scan_timeout)",
                )
            return Health(
                True,
                f"prompt in {prompt_s:.2f} s, BLE {address} seen in "
                f"{time.monotonic() - scanned:.2f} s",
            )
        except LockError as exc:
            return Health(None, f"not checked: {exc}")
        except RigError as exc:
            return Health(False, str(exc))
        finally:
            backend.stop()


def rows(rig_dir: Path, checking: bool) -> list[RigRow]:
    found = []
    for name in known_rigs(rig_dir):
        try:
            rig = load_rig(name, rig_dir)
        except RigError as exc:
            found.append(RigRow(name, error=str(exc)))
            continue
        row = describe(rig)
        if checking:
            row.health = (
                Health(None, f"not checked: in use by {row.holder}") if row.holder else check(rig)
            )
        found.append(row)
    return found


def table(found: list[RigRow], checking: bool) -> str:
    head = ["RIG", "KIND", "MODEL", "CONSOLE / PLACE", "HELD BY"] + (["HEALTH"] if checking else [])
    lines = [head]
    for row in found:
        cells = [row.name, row.kind, row.model or "-", row.where or "-", row.holder or "free"]
        if not row.exclusive or row.kind == "?":
            cells[4] = "-"  # nobody holds it: each run starts one of its own
        if checking:
            cells.append(_health_cell(row))
        lines.append(cells)
    widths = [max(len(line[i]) for line in lines) for i in range(len(head) - 1)]
    text = [
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=False))
        + "  "
        + line[-1]
        for line in lines
    ]
    text += [f"{row.name}: {row.error}" for row in found if row.error]
    return "\n".join(text)


def _health_cell(row: RigRow) -> str:
    if row.health is None:
        return "-"
    mark = {True: "ok", False: "FAIL", None: "skipped"}[row.health.ok]
    return f"{mark}: {row.health.detail}"


def run(args: argparse.Namespace) -> int:
    found = rows(args.rig_dir, args.check)
    if args.json:
        print(json.dumps([asdict(row) for row in found], indent=2))
    else:
        print(table(found, args.check))
    bad = any(
        (row.error and row.kind == "?") or (row.health is not None and row.health.ok is False)
        for row in found
    )
    if bad:
        print("pytest-vela rigs: some rigs are not usable (see above)", file=sys.stderr)
    return 1 if bad else 0
