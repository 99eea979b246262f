"""``--vela-app`` / ini ``vela_app``: the user's watch app under test, checked when the run is
configured, so that a wrong value is a usage error naming the fix, never an internal error or
a run against the agent.

``--vela-app PATH`` written as two words has one trap: pytest decides its rootdir before the
plugin's options exist, so it took PATH for a test path, and a PATH outside the project moved
the rootdir (rig files and reports were then looked up elsewhere). That case is told apart —
the rootdir found without PATH differs — and refused, with the one-word form as the fix.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from _pytest.config.findpaths import determine_setup

OPTION = "--vela-app"


def app_under_test(config: pytest.Config) -> Path | None:
    """The rpk given by ``--vela-app`` (relative to the working directory) or the ini's
    ``vela_app`` (relative to the rootdir); None when neither names one."""
    given = config.getoption("vela_app")
    if given is not None:
        if not given.strip():
            raise pytest.UsageError(
                f"{OPTION} {given!r} names no app: give the built .rpk, or leave {OPTION} out"
            )
        _not_moving_the_rootdir(config, given)
        return _rpk(Path(given).expanduser().resolve(), f"{OPTION} {given!r}")
    ini = str(config.getini("vela_app") or "")
    if ini:
        return _rpk((config.rootpath / ini).resolve(), f"the ini setting vela_app = {ini!r}")
    return None


def _rpk(path: Path, source: str) -> Path:
    if path.is_dir():
        built = sorted(path.glob("dist/*.rpk")) or sorted(path.glob("*.rpk"))
        hint = f" (there is {built[0]})" if built else ""
        raise pytest.UsageError(
            f"{source} is a directory: give the built package, the .rpk the toolkit wrote "
            f"(dist/<package>.debug.<version>.rpk){hint}"
        )
    if not path.is_file():
        raise pytest.UsageError(f"{source}: no such file {path}; give the built .rpk")
    return path


def _not_moving_the_rootdir(config: pytest.Config, given: str) -> None:
    args = list(config.invocation_params.args)
    spaced = any(a == OPTION and b == given for a, b in itertools.pairwise(args))
    if not spaced:
        return
    option = config.option
    rootpath, *_ = determine_setup(
        inifile=option.inifilename,
        override_ini=option.override_ini,
        args=[str(a) for a in option.file_or_dir or []],
        rootdir_cmd_arg=option.rootdir or None,
        invocation_dir=config.invocation_params.dir,
    )
    if rootpath != config.rootpath:
        raise pytest.UsageError(
            f"{OPTION} {given}: pytest took the app's path for a test path and moved its "
            f"rootdir to {config.rootpath} (it would be {rootpath}); write it as one word, "
            f"{OPTION}={given}, or set vela_app in the ini"
        )
