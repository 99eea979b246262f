"""The fixtures users write tests with: ``rig``, ``watch``, ``peer``, ``interconnect``,
``vela_sim``; and the autouse fixture that frames every test that runs on a rig.

Their docstrings are the reference ``pytest --fixtures`` shows (its first paragraph of each):
every method, with its units.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Literal

import pytest

from pytest_vela.device.watch import Watch
from pytest_vela.peer.events import EventLog
from pytest_vela.peer.interconnect import Interconnect
from pytest_vela.peer.phone import Peer
from pytest_vela.peer.watch_end import AgentEnd
from pytest_vela.plugin.record import item_rig, record_of
from pytest_vela.plugin.run import SESSION, console_name
from pytest_vela.plugin.steps import call_steps
from pytest_vela.plugin.targets import Targets
from pytest_vela.rig.session import RigSession
from pytest_vela.rig.sim_faults import VelaSim
from pytest_vela.rigfile.loader import Rig


def rig_scope(targets: Targets) -> Literal["session", "function"]:
    """A rig is the session's — unless the run has pools, whose tests each get theirs when
    they start (a pool's rig can change within a run)."""
    return "function" if targets.pools else "session"


def _scope(fixture_name: str, config: pytest.Config) -> Literal["session", "function"]:
    return rig_scope(config.stash[SESSION].targets)


@pytest.fixture(scope=_scope)
def rig(request: pytest.FixtureRequest) -> Rig:
    """The rig this test runs on (tests are parametrized over every ``--rig``).
    ``.name`` (str, part of the test id), ``.kind`` (``"sim"``, ``"hardware"`` or
    ``"process"``),
    ``.settings`` (the validated rig file: ``.settings.timeouts.connect`` in seconds,
    ``.settings.app.message_limit`` in bytes…), ``.path`` (the rig file, None for the
    built-in ``sim``)."""
    vela = request.config.stash[SESSION]
    name = item_rig(request.node) if isinstance(request.node, pytest.Item) else None
    return vela.rigs[name or getattr(request, "param", None) or next(iter(vela.rigs))]


def rig_session(request: pytest.FixtureRequest, rig: Rig) -> RigSession:
    """The session of ``rig`` (not a fixture of its own, so that it stays out of reports)."""
    return request.config.stash[SESSION].sessions[rig.name]


@pytest.fixture(scope=_scope)
def watch(request: pytest.FixtureRequest, rig: Rig) -> Watch:
    """The device on this rig (session scope, per rig), at a ready shell; timeouts in seconds.
    ``.console.expect(pattern, timeout=10.0)`` → ``re.Match`` or ``ExpectTimeout``;
    ``.console.write_line(text)``; ``.shell(cmd, timeout=None)`` → str, the output without
    echo or prompt (``WatchHung`` when the prompt does not come back);
    ``.reset(hard=False)`` → float, the boot time in seconds; ``.flash(image, mode="always")``
    → bool, whether it flashed; ``.install(rpk)`` → str, the package;
    ``.uninstall(package)``; ``.launch(package)``; ``with .expect_crash(timeout=None) as
    crash:`` a crash the test provokes (``crash.line``); ``.log_path`` (the console log);
    ``.boot_times`` (list of seconds)."""
    session = rig_session(request, rig)
    device = session.watch()
    request.config.stash[SESSION].identify(rig.name, session)
    return device


@pytest.fixture(autouse=True)
def _vela_test_on_rig(request: pytest.FixtureRequest) -> None:
    """Before every test that uses the watch: recovery from an earlier rig fault, and the
    test's record begun — the evidence marks, what the watch had seen so far (crashes and
    apps' errors after this point are this test's), its start in the console log."""
    record = record_of(request.node)
    if record is None or "watch" not in request.fixturenames:
        return
    session = rig_session(request, request.getfixturevalue("rig"))
    device: Watch = request.getfixturevalue("watch")
    record.crashes_before = session.begin_test()
    record.metrics_mark = session.metrics.mark()
    record.began = time.time()
    record.app_errors_before = len(device.app_errors.errors)
    record.console_mark = device.console.begin(f"test start: {console_name(request.node)}")


@pytest.fixture
def vela_sim(request: pytest.FixtureRequest, rig: Rig, watch: Watch) -> Iterator[VelaSim]:
    """Fault injection on the simulated watch; tests that use it skip on hardware rigs.
    ``.crash()`` (returns once the panic is seen), ``.hang()``, ``.garbage(n)`` (n bytes,
    returns once they are through: n / (baud/10) s on a paced console),
    ``.unplug(replug_after_ms=None)`` (ms), ``.installer_busy(times)``, ``.set_latency(ms)``
    (every BLE frame, both ways), ``.fail_next_connects(n)``, ``.set_message_limit(nbytes)``
    (bytes of serialised JSON), ``.drop_link()``, ``.set_mtu(n)`` (bytes), ``.boots`` (int).
    Faults are cleared after the test. An app's own data, as a user's earlier session left it
    (it stays; set it after ``watch.install``, which uninstalls first):
    ``.set_storage(package, {key: str})`` (its ``@system.storage``, replaced),
    ``.storage(package)`` → dict, ``.put_file(package, "internal://files/x.json", str | bytes)``
    (or mass, cache, tmp), ``.read_file(package, uri)`` → bytes; and the person at the watch:
    ``.answer_dialogs(0, None, …)`` (the button tapped in each next dialog or context menu,
    None to dismiss; one shown with no answer left stays open). A test's own BLE code (a
    phone app of its own, a scanner): ``with .system_bus():`` plain bleak inside reaches this
    watch (the harness's link let go first, one left up dropped at the end; run the bleak
    code in a loop started inside, ``asyncio.run``, and leave ``peer``, ``interconnect`` and
    ``watch.reset()`` alone until the block ends: the watch has one link),
    ``.bus_address`` (str), ``.ble`` (``.name``, ``.address``, ``.service_uuid``,
    ``.rx_uuid``, ``.tx_uuid``)."""
    session = rig_session(request, rig)
    if session.simulator is None:
        pytest.skip(f"vela_sim needs a simulated watch; rig {rig.name!r} is {rig.kind}")
    faults = VelaSim(session.simulator, watch.crashes, release_link=session.release_link)
    yield faults
    if faults.dirty:
        session.faults_injected()
    if faults.needs_reset:
        session.mark_faulty()


@pytest.fixture
def _vela_link(request: pytest.FixtureRequest, rig: Rig, watch: Watch) -> EventLog | None:
    """A test's starting state of the link, made once for ``interconnect`` and ``peer``."""
    session = rig_session(request, rig)
    if session.backend.ble is None:
        pytest.skip(
            f"rig {rig.name!r} has no BLE link ({session.backend.reach().summary}): there is no "
            "phone side, so no peer and no interconnect to test"
        )
    events = session.ensure_ready()
    record = record_of(request.node)
    if record is not None:
        record.trace_mark = session.trace.mark()
        record.events = events
    return events


@pytest.fixture
def interconnect(request: pytest.FixtureRequest, rig: Rig, watch: Watch) -> Interconnect:
    """The watch app's ``@system.interconnect`` connection, driven through the agent.
    ``.get_ready_state()`` → ``ReadyState`` (CONNECTED 1, DISCONNECTED 2);
    ``.diagnosis(timeout=10000)`` — **milliseconds**, as the vendor API — → ``.status``, a
    ``DiagnosisStatus`` (OK 0, CONNECT_TIMEOUT 204, OTHERS 1000, APP_UNINSTALLED 1001);
    ``.send(data, timeout=None)`` — **seconds**, the whole call (default the rig's
    ``timeouts.command``, 15 s) — → ``SendResult(.ok: bool,
    .code: int | None, .data)`` (codes: ``ErrorCode``, e.g. 204 no acknowledgement, 1006
    disconnected); ``.events`` an ``EventLog``: ``.wait_for(kind, timeout=10.0, **fields)`` (s)
    → ``Event``, ``.assert_order([kinds])``, ``.kinds()``. A watch-side ``message`` event's
    ``.data`` is the string the app received (JSON text), not a parsed object. The test
    starts with the link up, the phone app installed and responsive, faults cleared. It
    drives the pytest-vela agent app, never the app under test: it skips on a rig that tests
    the user's own app (``--vela-app``)."""
    session = rig_session(request, rig)
    if session.app_under_test is not None:
        pytest.skip(
            f"interconnect drives the pytest-vela agent app; rig {rig.name!r} runs the app "
            f"under test {session.app_under_test} instead (--vela-app): test it through peer "
            "and the console"
        )
    events: EventLog = request.getfixturevalue("_vela_link")
    side = session.phone_side()
    assert isinstance(side.end, AgentEnd), "no app under test: the agent is the watch's end"
    hello = side.bridge.hello
    if hello is not None:
        request.config.stash[SESSION].record_agent(rig.name, hello.agent, hello.package)
    step = call_steps(request.config)
    events.report_steps(step)
    return Interconnect(
        side.end,
        events,
        step=step,
        command_timeout=rig.settings.timeouts.command,
        metric=session.metrics.record,
    )


@pytest.fixture
def peer(request: pytest.FixtureRequest, rig: Rig, _vela_link: EventLog | None) -> Peer:
    """The phone app at the other end of the link, played by the harness over BLE.
    ``.send(obj)`` (the watch app gets ``onmessage`` with ``data`` a string: a ``str`` sent
    verbatim, anything else as its JSON); ``.expect_message(timeout=10.0)`` (s) → the next
    message the watch app sent, **parsed** from JSON (a dict, not the JSON text; a text that
    is not JSON as it is); ``.expect_text(timeout=10.0)`` (s) → the next one as the text it
    sent; ``.collect(seconds, text=False)`` → every unread message after waiting ``seconds``,
    none is no failure; ``.expect_no_message(within=1.0)`` (s) silence, or a failure naming
    what came; ``.messages`` / ``.texts`` (lists, every one this test); ``.drop()`` (abrupt
    loss: error 1006 then close 1006); ``.disconnect()`` (clean close 1000);
    ``.reconnect()``; ``.is_connected`` (bool); ``.set_app_installed(bool)`` (diagnosis then
    answers 1001); ``.set_responsive(bool)`` (an unresponsive phone acknowledges nothing: sends
    time out with 204 — not on a watch that follows the openvela source, whose sends and
    diagnosis never wait for the phone). Its other end is the agent, or on a rig with an app
    under test (``--vela-app``) that app itself."""
    return Peer(
        rig_session(request, rig).phone_side(),
        rig.settings.timeouts.connect,
        step=call_steps(request.config),
        link_profile=rig.settings.expected_link_profile,
    )
