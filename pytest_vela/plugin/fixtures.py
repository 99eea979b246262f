"""The fixtures users write tests with: ``rig``, ``watch``, ``peer``, ``interconnect``,
``vela_sim``; and the autouse fixture that frames every test that runs on a rig."""

from __future__ import annotations

import time
from collections.abc import Iterator

import allure
import pytest

from pytest_vela.device.watch import Watch
from pytest_vela.errors import AppThrew
from pytest_vela.peer.events import EventLog
from pytest_vela.peer.interconnect import Interconnect
from pytest_vela.peer.phone import Peer
from pytest_vela.plugin.faults import VelaSim
from pytest_vela.plugin.run import CRASH_REPORTED, CRASHES, EVENTS, MARK, SESSION, TRACE_MARK
from pytest_vela.rig.session import RigSession
from pytest_vela.rigfile.loader import Rig


@pytest.fixture(scope="session")
def rig(request: pytest.FixtureRequest) -> Rig:
    """The rig this test runs on (tests are parametrized over every ``--rig``)."""
    vela = request.config.stash[SESSION]
    name = getattr(request, "param", None) or next(iter(vela.rigs))
    return vela.rigs[name]


def rig_session(request: pytest.FixtureRequest, rig: Rig) -> RigSession:
    """The session of ``rig`` (not a fixture of its own, so that it stays out of reports)."""
    return request.config.stash[SESSION].sessions[rig.name]


@pytest.fixture(scope="session")
def watch(request: pytest.FixtureRequest, rig: Rig) -> Watch:
    """The device on this rig (session scope, per rig), at a ready shell. ``.console``
    (``expect(pattern, timeout=s)``, ``write_line``), ``.shell(cmd, timeout=s)``,
    ``.reset(hard=False)``, ``.flash(image, mode)``, ``.install(rpk)``, ``.uninstall(pkg)``,
    ``.launch(pkg)``, ``.log_path``; timeouts in seconds."""
    return rig_session(request, rig).watch()


@pytest.fixture(autouse=True)
def _vela_test_on_rig(request: pytest.FixtureRequest) -> Iterator[None]:
    """Around every test that runs on a rig: the rig as parent suite; for tests that use the
    watch, recovery from an earlier rig fault, the evidence mark, and a crash check at the end
    (a panic fails the test even when it never looked at the console)."""
    if "rig" not in request.fixturenames:
        yield
        return
    rig: Rig = request.getfixturevalue("rig")
    allure.dynamic.parent_suite(rig.name)
    if "watch" not in request.fixturenames:
        yield
        return
    session = rig_session(request, rig)
    device: Watch = request.getfixturevalue("watch")
    request.node.stash[CRASHES] = session.begin_test()
    request.node.stash[MARK] = device.console.mark()
    app_errors = len(device.app_errors.errors)
    yield
    if not request.node.stash.get(CRASH_REPORTED, False):
        failure = device.crashes.failure(request.node.stash[CRASHES])
        if failure is not None:
            request.node.stash[CRASH_REPORTED] = True
            raise failure
    _check_app_errors(device, app_errors, request.node.stash[MARK])


APP_ERROR_SETTLE = 0.1  # seconds for the rest of a stack to arrive after its first line
CONSOLE_LINES_SHOWN = 40


def _check_app_errors(device: Watch, before: int, mark: int) -> None:
    """An uncaught JS error of a watch app during the test fails it, with the stack and the
    console of the test."""
    __tracebackhide__ = True
    if not device.app_errors.since(before):
        return
    time.sleep(APP_ERROR_SETTLE)
    errors = device.app_errors.since(before)
    lines = device.console.text_since(mark).splitlines()
    shown = "\n".join(lines[-CONSOLE_LINES_SHOWN:])
    cut = len(lines) > CONSOLE_LINES_SHOWN
    more = f" (last {CONSOLE_LINES_SHOWN} of {len(lines)} lines)" if cut else ""
    raise AppThrew(
        f"a watch app threw during this test ({len(errors)} uncaught error"
        f"{'s' if len(errors) > 1 else ''}):\n"
        + "\n".join(error.render() for error in errors)
        + f"\n\nconsole during the test{more}:\n{shown}\nconsole log: {device.log_path}"
    )


@pytest.fixture
def vela_sim(request: pytest.FixtureRequest, rig: Rig, watch: Watch) -> Iterator[VelaSim]:
    """Fault injection on the simulated watch (``.crash()``, ``.hang()``, ``.garbage(n)``,
    ``.unplug()``, ``.set_latency(ms)``, ``.fail_next_connects(n)``,
    ``.set_message_limit(nbytes)``…); tests that use it skip on hardware rigs."""
    session = rig_session(request, rig)
    if session.simulator is None:
        pytest.skip(f"vela_sim needs a simulated watch; rig {rig.name!r} is {rig.kind}")
    faults = VelaSim(session.simulator, watch.crashes)
    yield faults
    if faults.dirty:
        session.faults_injected()
    if faults.needs_reset:
        session.mark_faulty()


@pytest.fixture
def _vela_link(request: pytest.FixtureRequest, rig: Rig, watch: Watch) -> EventLog:
    """A test's starting state of the link, made once for ``interconnect`` and ``peer``."""
    session = rig_session(request, rig)
    events = session.ensure_ready()
    request.node.stash[TRACE_MARK] = session.trace.mark()
    if session.app_under_test is None:
        request.node.stash[EVENTS] = events
    return events


@pytest.fixture
def interconnect(request: pytest.FixtureRequest, rig: Rig, watch: Watch) -> Interconnect:
    """The watch app's ``@system.interconnect`` connection, driven through the agent:
    ``.get_ready_state()`` → ``ReadyState``, ``.diagnosis(timeout=10000)`` (ms, as the API)
    → ``.status``, ``.send(data, timeout=15.0)`` (s) → ``SendResult(.ok, .code, .data)``,
    ``.events`` an ``EventLog``. The test starts with the link up, the phone app installed
    and responsive, faults cleared. It drives the pytest-vela agent app, never the app
    under test: it skips on a rig that tests the user's own app (``--vela-app``)."""
    session = rig_session(request, rig)
    if session.app_under_test is not None:
        pytest.skip(
            f"interconnect drives the pytest-vela agent app; rig {rig.name!r} runs the app "
            f"under test {session.app_under_test} instead (--vela-app): test it through peer "
            "and the console"
        )
    events: EventLog = request.getfixturevalue("_vela_link")
    return Interconnect(session.agent(), events)


@pytest.fixture
def peer(request: pytest.FixtureRequest, rig: Rig, _vela_link: EventLog) -> Peer:
    """The phone app at the other end of the link, played by the harness over BLE:
    ``.send(obj)``, ``.expect_message(timeout=10.0)`` (s) → the parsed object, ``.messages``,
    ``.drop()``, ``.disconnect()``, ``.reconnect()``, ``.is_connected``,
    ``.set_app_installed(bool)``, ``.set_responsive(bool)``. Its other end is the agent, or
    on a rig with an app under test (``--vela-app``) that app itself."""
    return Peer(rig_session(request, rig).agent(), rig.settings.timeouts.connect)
