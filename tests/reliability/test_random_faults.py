"""After any fault the next test starts healthy: random faults of the simulated watch,
interleaved with checks of the conformance suite, in a user project run by pytest.

The project is generated from a seed (``tests/support/seeds.py``: a fixed one and a new one
each run, printed; ``VELA_FAULT_SEED`` replays them): rounds in which every kind of fault is
injected once, in random order and with random sizes and moments, each followed by a
conformance check and a shell command. The runs inject faults for a bounded time between them
(``VELA_FAULT_SECONDS``, 60 s by default, shared by the seeds; whole rounds, the first one
always). What it
wrote to its Allure results must show every fault test ended as its fault implies — passed, or
failed or broken with the error that fault makes — within its timeout, and the test after it
passed. A table of the faults injected and survived is printed (``-s`` shows it).
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from textwrap import dedent, indent

import pytest

from tests.support.allure_results import Outcome, outcomes, unreadable
from tests.support.rigs import fast_sim_rig, write_rig
from tests.support.seeds import fault_seeds

BUDGET = float(os.environ.get("VELA_FAULT_SECONDS") or 60)
MAX_ROUNDS = 40
TEST_TIMEOUT = 45  # seconds any one test of the project may take (pytest-timeout)
CONNECT_ATTEMPTS = 3
INSTALL_ATTEMPTS = 3

RIG = fast_sim_rig(
    f"[ble]\nconnect_attempts = {CONNECT_ATTEMPTS}\n", flash=5, install_attempts=INSTALL_ATTEMPTS
)

PYTEST_INI = f"""
    [pytest]
    timeout = {TEST_TIMEOUT}
"""

# Runs the tests in order and stops at the first round that begins after the budget is spent.
CONFTEST = """
    import os
    import time

    import pytest

    BUDGET = float(os.environ["VELA_FAULT_BUDGET"])


    def _round(item):
        return item.name.split("_")[1]


    @pytest.hookimpl(tryfirst=True)
    def pytest_runtestloop(session):
        if session.config.option.collectonly:
            return None
        deadline = time.monotonic() + BUDGET
        items = session.items
        for i, item in enumerate(items):
            new_round = i == 0 or _round(item) != _round(items[i - 1])
            if new_round and i > 0 and time.monotonic() > deadline:
                reporter = session.config.pluginmanager.get_plugin("terminalreporter")
                reporter.ensure_newline()
                reporter.write_line(f"fault budget spent: stopped before round {_round(item)}")
                break
            later = items[i + 1] if i + 1 < len(items) else None
            item.config.hook.pytest_runtest_protocol(item=item, nextitem=later)
            if session.shouldfail:
                raise session.Failed(session.shouldfail)
            if session.shouldstop:
                raise session.Interrupted(session.shouldstop)
        return True
"""

HEAD = """
    import os
    import threading
    import zipfile

    import pytest_vela.conformance.test_diagnosis as diagnosis_suite
    import pytest_vela.conformance.test_events as events_suite
    import pytest_vela.conformance.test_ready_state as ready_suite
    import pytest_vela.conformance.test_send as send_suite
    from pytest_vela import ErrorCode


    class During:
        \"\"\"Inject a fault from a timer thread while the block runs; the block ends only
        once the fault is in (its errors raised here), so it is this test's and no other's.\"\"\"

        def __init__(self, delay, fault):
            self.error = None
            self.timer = threading.Timer(delay, self._run, (fault,))

        def _run(self, fault):
            try:
                fault()
            except BaseException as exc:
                self.error = exc

        def __enter__(self):
            self.timer.start()
            return self

        def __exit__(self, *exc_info):
            self.timer.join()
            if self.error is not None:
                raise self.error


    def blob(tmp_path, size):
        image = tmp_path / "fw.bin"
        image.write_bytes(os.urandom(size))
        return image


    def rpk(tmp_path, package, size):
        path = tmp_path / f"{package}.rpk"
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("manifest.json", '{"package": "%s"}' % package)
            archive.writestr("blob", os.urandom(size))
        return path
"""


@dataclass(frozen=True)
class Fault:
    """One kind of fault: the body of its test, and the outcomes its test may end with."""

    title: str
    fixtures: str
    body: Callable[[random.Random], str]
    allowed: Callable[[str], set[tuple[str, str | None]]]  # from the body written


PASSED: set[tuple[str, str | None]] = {("passed", None)}


def _crash_mid_send(rnd: random.Random) -> str:
    return f"""
        vela_sim.set_latency({rnd.randint(100, 300)})
        with During({rnd.uniform(0.0, 0.6):.3f}, vela_sim.crash):
            result = interconnect.send({{"n": {rnd.randint(0, 999)}}}, timeout=10)
        assert result.ok, result
    """


def _unplug_mid_flash(rnd: random.Random) -> str:
    return f"""
        image = blob(tmp_path, {rnd.randint(120_000, 200_000)})  # 1.3-2.2 s on the line
        with During({rnd.uniform(0.0, 0.8):.3f}, vela_sim.unplug):
            watch.flash(image)
    """


def _hang_mid_install(rnd: random.Random) -> str:
    return f"""
        package = rpk(tmp_path, "com.example.big", {rnd.randint(120_000, 200_000)})
        with During({rnd.uniform(0.0, 0.8):.3f}, vela_sim.hang):
            watch.install(package)
    """


def _drop_mid_message(rnd: random.Random) -> str:
    latency, size = rnd.randint(30, 150), rnd.randint(200, 2000)
    # A send costs about a latency per frame each way, and two more for the answers: the drop
    # comes somewhere in there, the command's frames or the message's on the way back.
    frames = -(-(size + 40) // 237)
    window = latency / 1000 * (2 * frames + 2)
    return f"""
        vela_sim.set_latency({latency})
        with During({rnd.uniform(0.0, window):.3f}, vela_sim.drop_link):
            result = interconnect.send({{"p": "x" * {size}}}, timeout=10)
        assert result.ok or result.code == ErrorCode.DISCONNECTED, result
    """


def _refused_connects(rnd: random.Random) -> str:
    return f"""
        vela_sim.fail_next_connects({rnd.randint(1, CONNECT_ATTEMPTS + 1)})
        vela_sim.drop_link()
        interconnect.events.wait_for("close", timeout=5)
        peer.reconnect()
        interconnect.events.wait_for("open", timeout=10)
        assert interconnect.send({{"after": "reconnect"}}).ok
    """


def _refused_allowed(body: str) -> set[tuple[str, str | None]]:
    n = int(body.split("fail_next_connects(")[1].split(")")[0])
    return PASSED if n < CONNECT_ATTEMPTS else {("broken", "BleError")}


def _latency(rnd: random.Random) -> str:
    return f"""
        vela_sim.set_latency({rnd.randint(50, 400)})
        send_suite.test_send_succeeds_and_the_phone_gets_the_object(interconnect, peer)
        events_suite.test_messages_arrive_in_order(interconnect, peer)
    """


def _installer_busy(rnd: random.Random) -> str:
    return f"""
        vela_sim.installer_busy({rnd.randint(1, INSTALL_ATTEMPTS + 1)})
        watch.install(rpk(tmp_path, "com.example.small", 2_000))
    """


def _busy_allowed(body: str) -> set[tuple[str, str | None]]:
    n = int(body.split("installer_busy(")[1].split(")")[0])
    return PASSED if n < INSTALL_ATTEMPTS else {("broken", "InstallError")}


def _garbage(rnd: random.Random) -> str:
    return f"""
        vela_sim.garbage({rnd.randint(1, 3000)})
        assert watch.shell("echo after-noise") == "after-noise\\n"
        assert interconnect.send({{"after": "noise"}}).ok
    """


FAULTS = {
    "crash_mid_send": Fault(
        "crash mid-send",
        "interconnect, vela_sim",
        _crash_mid_send,
        lambda _: {("failed", "WatchCrashed")},
    ),
    "unplug_mid_flash": Fault(
        "unplug mid-flash",
        "watch, vela_sim, tmp_path",
        _unplug_mid_flash,
        lambda _: {("broken", "SerialLost")},
    ),
    "hang_mid_install": Fault(
        "hang mid-install",
        "watch, vela_sim, tmp_path",
        _hang_mid_install,
        lambda _: {("broken", "WatchHung")},
    ),
    "drop_mid_message": Fault(
        "drop mid-message",
        "interconnect, vela_sim",
        _drop_mid_message,
        lambda _: PASSED | {("broken", "BleError")},
    ),
    "refused_connects": Fault(
        "refused connects",
        "interconnect, peer, vela_sim",
        _refused_connects,
        _refused_allowed,
    ),
    "latency": Fault("latency", "interconnect, peer, vela_sim", _latency, lambda _: PASSED),
    "installer_busy": Fault(
        "installer busy", "watch, vela_sim, tmp_path", _installer_busy, _busy_allowed
    ),
    "garbage": Fault("console noise", "watch, interconnect, vela_sim", _garbage, lambda _: PASSED),
}

# The conformance checks a healthy rig passes, each with the fixtures it takes.
CHECKS = {
    "ready_state": ("ready_suite.test_ready_state_is_connected_while_the_link_is_up", "i"),
    "diagnosis": ("diagnosis_suite.test_diagnosis_ok_on_a_healthy_link", "i"),
    "diagnosis_uninstalled": (
        "diagnosis_suite.test_diagnosis_reports_the_phone_app_uninstalled",
        "ip",
    ),
    "send": ("send_suite.test_send_succeeds_and_the_phone_gets_the_object", "ip"),
    "send_disconnected": ("send_suite.test_send_while_disconnected_fails_1006", "ip"),
    "events_order": ("events_suite.test_an_abrupt_loss_and_the_reopen", "ipl"),
    "messages_in_order": ("events_suite.test_messages_arrive_in_order", "ip"),
    "clean_close": ("events_suite.test_clean_close_fires_close_1000_without_error", "ip"),
}


ARGS = {"i": "interconnect", "ip": "interconnect, peer", "ipl": "interconnect, peer, link_profile"}


@dataclass(frozen=True)
class Planned:
    name: str
    kind: str  # a fault kind, or "check"
    allowed: set[tuple[str, str | None]]


def plan(seed: int) -> tuple[str, list[Planned]]:
    """The project's test module and what each of its tests may end as, from ``seed``."""
    rnd = random.Random(seed)
    source = [dedent(HEAD)]
    planned: list[Planned] = []
    for round_no in range(1, MAX_ROUNDS + 1):
        kinds = list(FAULTS)
        rnd.shuffle(kinds)
        step = 0
        for kind in kinds:
            fault = FAULTS[kind]
            step += 1
            name = f"test_r{round_no:02d}_{step:02d}_{kind}"
            body = dedent(fault.body(rnd)).strip("\n") + "\n"
            source.append(f"\n\ndef {name}({fault.fixtures}):\n{indent(body, '    ')}")
            planned.append(Planned(name, kind, fault.allowed(body)))
            step += 1
            check, takes = CHECKS[rnd.choice(sorted(CHECKS))]
            name = f"test_r{round_no:02d}_{step:02d}_after_{kind}"
            args = ARGS[takes]
            source.append(
                f"\n\ndef {name}({args}, watch):\n"
                f"    {check}({args})\n"
                f'    assert watch.shell("echo healthy-{step}") == "healthy-{step}\\n"\n'
            )
            planned.append(Planned(name, "check", PASSED))
    return "".join(source), planned


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
