"""The ``pytest-vela`` command: run the simulated watch by hand, list and check the rigs, and
the preflight tools."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pytest-vela", description="Tools around the pytest-vela harness."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    from pytest_vela.rig import sim_command as sim_cli

    sim_cli.register(sub)
    from pytest_vela.rig import rigs_command

    rigs_command.register(sub)
    from pytest_vela.doctor import command as doctor_command

    doctor_command.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    result: int = args.run(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
