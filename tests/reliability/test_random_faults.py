"""After any fault the next test starts healthy: random faults of the simulated watch,
interleaved with checks of the conformance suite, in a user project run by pytest.

The project (``fault_project.py``, beside this file) is generated from a seed
(``tests/support/seeds.py``: a fixed one and a new one each run, printed; ``VELA_FAULT_SEED``
replays them): rounds in which every kind of fault is injected once, in random order and with
random sizes and moments, each followed by a conformance check and a shell command. The runs
inject faults for a bounded time between them (``VELA_FAULT_SECONDS``, 60 s by default, shared
by the seeds; whole rounds, the first one always). What it wrote to its Allure results must show
every fault test ended as its fault implies — passed, or failed or broken with the error that
fault makes — within its timeout, and the test after it passed. A table of the faults injected
and survived is printed (``-s`` shows it).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from textwrap import dedent

import pytest

from tests.reliability.fault_project import CONFTEST, FAULTS, PYTEST_INI, RIG, Planned, plan
from tests.support.allure_results import Outcome, outcomes, unreadable
from tests.support.rigs import write_rig
from tests.support.seeds import fault_seeds

BUDGET = float(os.environ.get("VELA_FAULT_SECONDS") or 60)


@dataclass
class FaultRun:
    seed: int
    seconds: float
    output: str
    planned: list[Planned]
    results: dict[str, Outcome]
    unreadable: dict[str, str]


SEEDS = fault_seeds()
SEED_BUDGET = BUDGET / len(SEEDS)


@pytest.fixture(scope="module", params=SEEDS, ids=lambda seed: f"seed{seed}")
def fault_run(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> FaultRun:
    seed: int = request.param
    print(f"\nfault seed {seed} (VELA_FAULT_SEED={seed} runs the same faults)")
    root = tmp_path_factory.mktemp("random-faults")
    (root / "pytest.ini").write_text(dedent(PYTEST_INI).lstrip())
    (root / "conftest.py").write_text(dedent(CONFTEST).lstrip())
    write_rig(root / "rigs", "sim", RIG)
    source, planned = plan(seed)
    (root / "test_faults.py").write_text(source)
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "test_faults.py"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=SEED_BUDGET + 240,  # a round, the session's start and end: far less
        env={**os.environ, "VELA_FAULT_BUDGET": str(SEED_BUDGET), "COLUMNS": "200"},
    )
    seconds = time.monotonic() - started
    results_dir = root / "reports" / "sim" / "allure-results"
    return FaultRun(
        seed,
        seconds,
        done.stdout + done.stderr,
        planned,
        outcomes(results_dir),
        unreadable(results_dir),
    )


@dataclass
class Row:
    injected: int = 0
    as_expected: int = 0
    next_passed: int = 0
    ended: Counter[str] = field(default_factory=Counter)


def _table(run: FaultRun, rows: dict[str, Row]) -> str:
    rounds = {p.name.split("_")[1] for p in run.planned if p.name in run.results}
    lines = [
        f"random faults, seed {run.seed}: {len(rounds)} round(s) in {run.seconds:.0f} s "
        f"(budget {BUDGET:g} s)",
        f"  {'fault':<17} {'injected':>8} {'as expected':>11} {'next passed':>11}  ended as",
    ]
    for kind, row in rows.items():
        ended = ", ".join(f"{how} {n}" for how, n in sorted(row.ended.items()))
        lines.append(
            f"  {FAULTS[kind].title:<17} {row.injected:>8} {row.as_expected:>11} "
            f"{row.next_passed:>11}  {ended}"
        )
    return "\n".join(lines)


@pytest.mark.timeout(BUDGET + 300)
def test_after_every_fault_the_next_test_is_healthy(fault_run: FaultRun) -> None:
    run = fault_run
    replay = f"(seed {run.seed}: VELA_FAULT_SEED={run.seed} replays it)"
    assert "INTERNALERROR" not in run.output, f"{replay}\n{run.output[-4000:]}"
    assert run.unreadable == {}, replay
    assert run.results, f"no test of the project ran {replay}\n{run.output[-4000:]}"
    rows = {kind: Row() for kind in FAULTS}
    problems = []
    for i, planned in enumerate(run.planned):
        if planned.kind == "check" or planned.name not in run.results:
            continue
        outcome = run.results[planned.name]
        after = run.planned[i + 1]
        next_outcome = run.results.get(after.name)
        row = rows[planned.kind]
        row.injected += 1
        row.ended[f"{outcome.status} {outcome.error or ''}".strip()] += 1
        if (outcome.status, outcome.error) in planned.allowed:
            row.as_expected += 1
        else:
            allowed = " | ".join(sorted(f"{s} {e or ''}".strip() for s, e in planned.allowed))
            problems.append(f"{planned.name}: {outcome} (allowed: {allowed})")
        if next_outcome is not None and next_outcome.status == "passed":
            row.next_passed += 1
        else:
            problems.append(f"{after.name}, right after {planned.name}: {next_outcome}")
    table = _table(run, rows)
    print(table)
    assert not problems, f"{replay}\n{table}\n" + "\n".join(problems)
    never = [FAULTS[kind].title for kind, row in rows.items() if row.injected == 0]
    assert not never, f"never injected: {never} {replay}"
