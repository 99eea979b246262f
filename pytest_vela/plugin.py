"""The pytest plugin: options, rig parametrization, fixtures and report hooks. Kept thin; the
work happens in the modules it wires together."""

from __future__ import annotations

import os
from collections.abc import Callable, Generator, Iterator
from typing import Any

import allure
import pytest

from pytest_vela import reports
from pytest_vela.errors import RigConfigError, RigError
from pytest_vela.events import EventLog
from pytest_vela.interconnect import Interconnect, Peer
from pytest_vela.link.trace import LinkTrace
from pytest_vela.rig import Rig, load_rig, split_names
from pytest_vela.rig_session import RigSession
from pytest_vela.sim_faults import VelaSim
from pytest_vela.timeline_svg import render_svg
from pytest_vela.watch import Watch, WatchCrashed

SESSION = pytest.StashKey["VelaSession"]()
MARK = pytest.StashKey[int]()
TRACE_MARK = pytest.StashKey[int]()
EVENTS = pytest.StashKey[EventLog]()


class VelaSession:
    """The run's rigs and their sessions, created at configure time, ended at unconfigure."""

    def __init__(self, config: pytest.Config) -> None:
        root = config.rootpath
        self.rig_dir = root / (config.getoption("vela_rig_dir") or config.getini("vela_rig_dir"))
        self.reports = root / (config.getoption("vela_reports") or config.getini("vela_reports"))
        self.flash = config.getoption("vela_flash") or config.getini("vela_flash") or "auto"
        names = split_names(
            config.getoption("vela_rig")
            or config.getini("vela_rig")
            or ([os.environ["VELA_RIG"]] if os.environ.get("VELA_RIG") else ["sim"])
        )
        self.rigs: dict[str, Rig] = {name: load_rig(name, self.rig_dir) for name in names}
        say = _terminal_writer(config)
        self.sessions = {
            name: RigSession(rig, self.reports, self.flash, say) for name, rig in self.rigs.items()
        }
        self.router = reports.RigRoutedLogger(
            self.reports,
            {
                name: {"rig": name, "rig.kind": rig.kind, "flash": self.flash}
                for name, rig in self.rigs.items()
            },
        )

    def close(self) -> None:
        for session in self.sessions.values():
            session.close()


def _terminal_writer(config: pytest.Config) -> Callable[[str], None]:
    """Progress lines (flashing, installing) for the person at the terminal: they are written
    during fixture setup, so output capture is suspended around each one."""
    terminal = config.pluginmanager.get_plugin("terminalreporter")
    capture = config.pluginmanager.get_plugin("capturemanager")
    if terminal is None:
        return print

    def say(line: str) -> None:
        if capture is None:
            terminal.write_line(line)
            return
        with capture.global_and_fixture_disabled():
            terminal.write_line(line)

    return say


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("vela", "pytest-vela: Vela watches in the loop")
    group.addoption(
        "--rig",
        action="append",
        dest="vela_rig",
        metavar="NAME",
        help="rig(s) to run on, repeatable or comma-separated (default: the "
        "simulated watch 'sim'; env VELA_RIG)",
    )
    group.addoption(
        "--rig-dir",
        dest="vela_rig_dir",
        metavar="DIR",
        help="where NAME.toml rig files live (default: rigs)",
    )
    group.addoption(
        "--vela-reports",
        dest="vela_reports",
        metavar="DIR",
        help="reports root: DIR/<rig>/allure-results and DIR/<rig>/logs (default: reports)",
    )
    group.addoption(
        "--flash",
        dest="vela_flash",
        choices=["auto", "always", "never"],
        help="flash the rig's firmware image: auto skips when the watch already "
        "runs it (default: auto)",
    )
    parser.addini("vela_rig", "default rig names", type="args", default=[])
    parser.addini("vela_rig_dir", "rig file directory", default="rigs")
    parser.addini("vela_reports", "reports root", default="reports")
    parser.addini("vela_flash", "flash mode: auto|always|never", default="auto")


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    try:
        vela = VelaSession(config)
    except RigConfigError as exc:
        raise pytest.UsageError(str(exc)) from None
    config.stash[SESSION] = vela
    config.addinivalue_line(
        "markers", "vela_rigs(*kinds): run only on rigs of these kinds ('sim', 'hardware')"
    )
    _register_allure(config, vela)


def _register_allure(config: pytest.Config, vela: VelaSession) -> None:
    import allure_commons
    from allure_pytest.listener import AllureListener

    if not config.pluginmanager.has_plugin("allure_listener"):
        listener = AllureListener(config)
        config.pluginmanager.register(listener, "allure_listener")
        allure_commons.plugin_manager.register(listener)
        config.add_cleanup(lambda: allure_commons.plugin_manager.unregister(listener))
    allure_commons.plugin_manager.register(vela.router)
    config.add_cleanup(lambda: allure_commons.plugin_manager.unregister(vela.router))


def pytest_unconfigure(config: pytest.Config) -> None:
    vela = config.stash.get(SESSION, None)
    if vela is not None:
        vela.close()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "rig" in metafunc.fixturenames:
        names = list(metafunc.config.stash[SESSION].rigs)
        metafunc.parametrize("rig", names, ids=names, indirect=True, scope="session")


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """Under ``-n N``, one worker per rig (see ``farm``). A lone simulated rig is left to
    xdist's own scheduling: every worker then runs a simulated watch of its own."""
    rigs = config.stash[SESSION].rigs
    if config.getoption("dist") not in ("load", "loadscope", "loadgroup"):
        return None
    if len(rigs) == 1 and next(iter(rigs.values())).kind == "sim":
        return None
    from pytest_vela.farm import RigScheduling

    return RigScheduling(config, log, list(rigs))


def _item_rig(item: pytest.Item) -> str | None:
    callspec = getattr(item, "callspec", None)
    return callspec.params.get("rig") if callspec is not None else None


def pytest_runtest_setup(item: pytest.Item) -> None:
    """``@pytest.mark.vela_rigs("hardware")``: skip the test on rigs of other kinds."""
    marker = item.get_closest_marker("vela_rigs")
    name = _item_rig(item)
    if marker is None or name is None:
        return
    kind = item.config.stash[SESSION].rigs[name].kind
    if kind not in marker.args:
        pytest.skip(f"runs on {' or '.join(marker.args)} rigs; rig {name!r} is {kind}")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Generator[None, None, None]:
    vela = item.config.stash[SESSION]
    vela.router.current = _item_rig(item)
    yield
    vela.router.current = None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    name = _item_rig(item)
    session = item.config.stash[SESSION].sessions.get(name) if name else None
    if session is not None and call.when == "teardown":
        # After the fixtures' own teardown: the evidence covers a failed setup and a crash
        # found on the way out as well as the test itself.
        _attach_evidence(item, session)
    yield
    if (
        session is not None
        and call.excinfo is not None
        and isinstance(call.excinfo.value, RigError)
    ):
        session.needs_recovery = True


def _attach_evidence(item: pytest.Item, session: RigSession) -> None:
    """The test's console slice, link trace and event timeline, for the report."""
    mark = item.stash.get(MARK, None)
    if mark is not None and session.console is not None:
        allure.attach(session.console.text_since(mark), "console", allure.attachment_type.TEXT)
    trace_mark = item.stash.get(TRACE_MARK, None)
    if trace_mark is not None:
        records = session.trace.since(trace_mark)
        allure.attach(LinkTrace.render(records), "link trace", allure.attachment_type.TEXT)
    events = item.stash.get(EVENTS, None)
    if events is not None:
        allure.attach(events.timeline(), "event timeline", allure.attachment_type.TEXT)
        allure.attach(
            render_svg(list(events), events.started),
            "event timeline (picture)",
            allure.attachment_type.SVG,
        )


# --- fixtures ---------------------------------------------------------------------------


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
    crashes = len(console.crashes)
    yield
    if len(console.crashes) > crashes:
        crash = console.crashes[crashes]
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
