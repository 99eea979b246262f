"""The ``pytest-vela`` command: run the simulated watch by hand, list and check the rigs, the
preflight tools, and the report of a run (or a farm's)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from importlib import metadata


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pytest-vela", description="Tools around the pytest-vela harness."
    )
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {_version()}", help="print the version"
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    from pytest_vela.rig import sim_command as sim_cli

    sim_cli.register(sub)
    from pytest_vela.rig import rigs_command

    rigs_command.register(sub)
    from pytest_vela.doctor import command as doctor_command

    doctor_command.register(sub)
    from pytest_vela.report import command as report_command

    report_command.register(sub)
    return parser


def _version() -> str:
    try:
        return metadata.version("pytest-vela")
    except metadata.PackageNotFoundError:
        return "unknown"


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    result: int = args.run(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
