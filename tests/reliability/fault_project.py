"""The user project the random-fault test runs, made from a seed: its rig, its pytest.ini and
conftest (the time budget), and a test module of rounds, each fault followed by a conformance
check; with the outcomes each of its tests may end as."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from textwrap import dedent, indent

from tests.support.rigs import fast_sim_rig

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
