"""Several rigs in one run: one xdist worker per rig, each with its own watch and results."""

from __future__ import annotations

import json
from pathlib import Path

import pytest


def test_two_rigs_run_on_their_own_workers(pytester: pytest.Pytester) -> None:
    rigs = pytester.mkdir("rigs")
    for name in ("left", "right"):
        (rigs / f"{name}.toml").write_text("kind = 'sim'\n")
    pytester.makepyfile(
        """
        import os

        def test_link(interconnect, rig):
            assert interconnect.get_ready_state() == 1
            print(f"RIG {rig.name} ON {os.environ.get('PYTEST_XDIST_WORKER')}")

        def test_shell(watch, rig):
            assert "app/" in watch.shell("ls /data")
            print(f"RIG {rig.name} ON {os.environ.get('PYTEST_XDIST_WORKER')}")
        """
    )
    result = pytester.runpytest_subprocess(
        "--rig", "left,right", "-n", "2", "-p", "no:cacheprovider", "-rA"
    )
    result.assert_outcomes(passed=4)
    workers: dict[str, set[str]] = {}
    for line in result.stdout.lines:
        if line.startswith("RIG "):
            _, rig, _, worker = line.split()
            workers.setdefault(rig, set()).add(worker)
    assert set(workers) == {"left", "right"}
    assert all(len(w) == 1 for w in workers.values()), workers  # a rig never spans workers
    assert workers["left"] != workers["right"]
    for name in ("left", "right"):
        results = list(Path(pytester.path, "reports", name, "allure-results").glob("*-result.json"))
        params = {json.loads(p.read_text())["parameters"][0]["value"] for p in results}
        assert params == {repr(name)}, f"{name}'s results hold other rigs' tests: {params}"


def test_a_lone_simulated_rig_is_spread_over_the_workers(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import os
        import pytest

        @pytest.mark.parametrize("n", range(8))
        def test_shell(watch, n):
            assert watch.shell(f"echo {n}") == f"{n}\\n"
            print(f"ON {os.environ.get('PYTEST_XDIST_WORKER')}")
        """
    )
    result = pytester.runpytest_subprocess("-n", "2", "-p", "no:cacheprovider", "-rA")
    result.assert_outcomes(passed=8)
    workers = {line.split()[1] for line in result.stdout.lines if line.startswith("ON ")}
    assert workers == {"gw0", "gw1"}  # each worker ran a simulated watch of its own


@pytest.mark.parametrize(
    ("nodeid", "expected"),
    [
        ("t.py::test_a[watch01]", "watch01"),
        ("t.py::test_a[watch01-3]", "watch01"),
        ("t.py::test_a[3-watch-01]", "watch-01"),
        ("t.py::test_a[x-watch01-y]", "watch01"),
        ("t.py::test_a[watch011]", None),
        ("t.py::test_a", None),
    ],
)
def test_the_rig_is_read_from_the_test_id(nodeid: str, expected: str | None) -> None:
    from pytest_vela.plugin.farm import rig_of

    assert rig_of(nodeid, ["watch01", "watch-01"]) == expected
