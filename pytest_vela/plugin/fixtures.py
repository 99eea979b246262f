"""The fixtures users write tests with: ``rig``, ``watch``, ``peer``, ``interconnect``,
``vela_sim``; and the autouse fixture that frames every test that runs on a rig."""

from __future__ import annotations

from collections.abc import Iterator

import allure
import pytest

from pytest_vela.device.watch import Watch
from pytest_vela.errors import WatchCrashed
from pytest_vela.peer.interconnect import Interconnect
from pytest_vela.peer.phone import Peer
from pytest_vela.plugin.faults import VelaSim
from pytest_vela.plugin.run import EVENTS, MARK, SESSION, TRACE_MARK
from pytest_vela.rig.session import RigSession
from pytest_vela.rigfile.loader import Rig


@pytest.fixture(scope="session")
def rig(request: pytest.FixtureRequest) -> Rig:
    """The rig this test runs on (tests are parametrized over every ``--rig``)."""
    vela = request.config.stash[SESSION]
    name = getattr(request, "param", None) or next(iter(vela.rigs))
    return vela.rigs[name]


@pytest.fixture(scope="session")
def _vela_rig_session(request: pytest.FixtureRequest, rig: Rig) -> RigSession:
    return request.config.stash[SESSION].sessions[rig.name]


@pytest.fixture(scope="session")
def watch(_vela_rig_session: RigSession) -> Watch:
    """The device on this rig (session scope, per rig), at a ready shell."""
    device = _vela_rig_session.watch()
    device.step = allure.step
    return device


@pytest.fixture(autouse=True)
def _vela_test_on_rig(request: pytest.FixtureRequest) -> Iterator[None]:
    """Around every test that runs on a rig: the rig as parent suite; for tests that use the
    watch, recovery from an earlier rig fault, the evidence mark, and a crash check at the end
    (a panic fails the test even when it never looked at the console)."""
    if "rig" not in request.fixturenames:
        yield
        return
    allure.dynamic.parent_suite(request.getfixturevalue("rig").name)
    if "watch" not in request.fixturenames:
        yield
        return
    session: RigSession = request.getfixturevalue("_vela_rig_session")
    device: Watch = request.getfixturevalue("watch")
    session.recover()
    console = device.console
    request.node.stash[MARK] = console.mark()
    crashes = len(device.crashes)
    yield
    if len(device.crashes) > crashes:
        crash = device.crashes[crashes]
        raise WatchCrashed(
            f"the watch crashed during this test: {crash.line!r}; console log: {console.log_path}"
        )


@pytest.fixture
def vela_sim(rig: Rig, _vela_rig_session: RigSession, watch: Watch) -> Iterator[VelaSim]:
    """Fault injection on the simulated watch; tests that use it skip on hardware rigs."""
    if _vela_rig_session.sim is None:
        pytest.skip(f"vela_sim needs a simulated watch; rig {rig.name!r} is {rig.kind}")
    faults = VelaSim(_vela_rig_session.sim)
    yield faults
    if faults.dirty:
        _vela_rig_session.faults_dirty = True
    if faults.needs_reset:
        _vela_rig_session.needs_recovery = True


@pytest.fixture
def interconnect(
    request: pytest.FixtureRequest, watch: Watch, _vela_rig_session: RigSession
) -> Interconnect:
    """The watch app's ``@system.interconnect`` connection, driven through the agent. The
    test starts with the link up, the phone app installed and responsive, faults cleared."""
    events = _vela_rig_session.prepare_interconnect()
    request.node.stash[TRACE_MARK] = _vela_rig_session.trace.mark()
    request.node.stash[EVENTS] = events
    return Interconnect(_vela_rig_session.bridge(), events)


@pytest.fixture
def peer(interconnect: Interconnect, rig: Rig, _vela_rig_session: RigSession) -> Peer:
    """The phone app at the other end of the link, played by the harness over BLE."""
    return Peer(_vela_rig_session.bridge(), rig.settings.timeouts.connect)
