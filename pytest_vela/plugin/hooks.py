"""The pytest plugin's hooks: options, rig parametrization, scheduling and report hooks.
Kept thin: the fixtures are in ``fixtures``, the run's rigs in ``run``, the work elsewhere."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Generator
from pathlib import Path
from types import FrameType
from typing import Any

import pytest

from pytest_vela.errors import RigConfigError, RigError, Terminated
from pytest_vela.plugin import (
    evidence,
    failures,
    fixtures,
    junit,
    link_profile,
    metrics,
    reruns,
    terminal,
)
from pytest_vela.plugin.judge import judge
from pytest_vela.plugin.record import item_rig, record_of
from pytest_vela.plugin.run import SESSION, VelaSession, console_name


def pytest_addoption(parser: pytest.Parser, pluginmanager: pytest.PytestPluginManager) -> None:
    pluginmanager.register(fixtures, "vela-fixtures")
    pluginmanager.register(failures, "vela-failures")
    pluginmanager.register(link_profile, "vela-link-profile")
    pluginmanager.register(metrics, "vela-metrics")
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
    group.addoption(
        "--vela-app",
        dest="vela_app",
        metavar="RPK",
        help="the watch app under test: installed and launched at session start instead of "
        "the agent; peer then talks to it directly (rig file: app.under_test)",
    )
    parser.addini("vela_rig", "default rig names", type="args", default=[])
    parser.addini("vela_app", "the watch app (rpk) under test, relative to the rootdir")
    parser.addini("vela_rig_dir", "rig file directory", default="rigs")
    parser.addini("vela_reports", "reports root", default="reports")
    parser.addini("vela_flash", "flash mode: auto|always|never", default="auto")
    group.addoption(
        "--vela-reruns",
        dest="vela_reruns",
        type=int,
        metavar="N",
        help="run a test broken by a rig fault again, up to N times, after its rig's recovery "
        "(never one that failed for the product; ini vela_reruns; default 0)",
    )
    parser.addini("vela_reruns", "reruns of a test broken by a rig fault (0: never)", default="0")
    parser.addini(
        "vela_quarantine_after",
        "rig faults in a row that take a rig out of the run (0: never; a rig file's "
        "farm.quarantine_after wins)",
        default="3",
    )


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    try:
        vela = VelaSession(config)
    except RigConfigError as exc:
        raise pytest.UsageError(str(exc)) from None
    config.stash[SESSION] = vela
    config.pluginmanager.register(terminal.RunReporter(config, vela), "vela-terminal")
    if not hasattr(config, "workerinput"):  # the controller, or a run without xdist
        config.pluginmanager.register(vela.verdict, "vela-verdict")
        xml = getattr(config.option, "xmlpath", None)
        if xml:
            target = Path(os.path.abspath(os.path.expanduser(xml)))
            config.pluginmanager.register(junit.JUnitCategories(target), "vela-junit")
    count = reruns.reruns(config)
    if count:
        config.pluginmanager.register(reruns.Reruns(count), "vela-reruns")
    _end_cleanly_on_sigterm(config)
    config.addinivalue_line(
        "markers", "vela_rigs(*kinds): run only on rigs of these kinds ('sim', 'hardware')"
    )
    _register_allure(config, vela)


def _end_cleanly_on_sigterm(config: pytest.Config) -> None:
    """A job's timeout sends SIGTERM: end like a Ctrl-C, so that the rigs are shut down in
    order (simulators, buses, locks) instead of being left to the next run."""
    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        return  # someone else's handler: theirs to run

    def terminate(_signum: int, _frame: FrameType | None) -> None:
        raise Terminated("terminated by SIGTERM")

    def restore() -> None:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)

    signal.signal(signal.SIGTERM, terminate)
    config.add_cleanup(restore)


def _register_allure(config: pytest.Config, vela: VelaSession) -> None:
    import allure_commons
    from allure_commons.logger import AllureFileLogger
    from allure_pytest.listener import AllureListener

    if not config.pluginmanager.has_plugin("allure_listener"):
        listener = AllureListener(config)
        config.pluginmanager.register(listener, "allure_listener")
        allure_commons.plugin_manager.register(listener)
        config.add_cleanup(lambda: allure_commons.plugin_manager.unregister(listener))
    if vela.alluredir is not None:
        # --alluredir X: the rigs' results go to X/<rig>; allure-pytest's own writer would put
        # every result a second time, flat, into X.
        for plugin in list(allure_commons.plugin_manager.get_plugins()):
            if isinstance(plugin, AllureFileLogger):
                allure_commons.plugin_manager.unregister(plugin)
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


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Each test on a rig carries it as Allure's parent suite and as a ``rig`` label (the key
    of the report's per-rig environments), from collection on: a test whose rig never came
    up is still filed under it."""
    for item in items:
        name = item_rig(item)
        if name is not None:
            item.add_marker(pytest.mark.allure_label(name, label_type="parentSuite"))
            item.add_marker(pytest.mark.allure_label(name, label_type="rig"))
            failures.prune_rig_faults(item)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """Under ``-n N``, one worker per rig (see ``farm``). A lone rig that every worker can
    start a copy of (a simulated watch) is left to xdist's own scheduling."""
    vela = config.stash[SESSION]
    rigs = vela.rigs
    if config.getoption("dist") not in ("load", "loadscope", "loadgroup"):
        return None
    if len(rigs) == 1 and next(iter(vela.sessions.values())).backend.spreads_over_workers:
        return None
    from pytest_vela.plugin.farm import RigScheduling

    return RigScheduling(config, log, list(rigs))


def pytest_runtest_setup(item: pytest.Item) -> None:
    """A quarantined rig's tests are skipped, saying why; ``@pytest.mark.vela_rigs("hardware")``
    skips the test on rigs of other kinds."""
    name = item_rig(item)
    item.config.stash[SESSION].quarantine.skip_if_out(name)
    marker = item.get_closest_marker("vela_rigs")
    if marker is None or name is None:
        return
    kind = item.config.stash[SESSION].rigs[name].kind
    if kind not in marker.args:
        pytest.skip(f"runs on {' or '.join(marker.args)} rigs; rig {name!r} is {kind}")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Generator[None, None, None]:
    vela = item.config.stash[SESSION]
    vela.router.current = item_rig(item)
    yield
    vela.router.current = None


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, Any, None]:
    """Outermost: the judge names the phase's root cause before the report is made; the
    report made, a rig fault marks the rig for recovery and counts in its quarantine."""
    vela = item.config.stash[SESSION]
    record = record_of(item)
    session = vela.sessions.get(record.rig) if record is not None else None
    if record is not None and session is not None:
        judge(record, session, call)
        if call.when == "teardown":
            if session.console is not None and record.started:
                session.console.note(f"test end: {console_name(item)}")
            # After the fixtures' own teardown: the evidence covers a failed setup and a crash
            # found on the way out as well as the test itself.
            evidence.attach(evidence.gather(record, session, vela.results_dir(record.rig)))
            if record.metrics_mark is not None:
                taken = session.metrics.since(record.metrics_mark)
                metrics.report(item, taken, vela.open_results(record.rig), vela.run_id)
    outcome = yield
    error = call.excinfo.value if call.excinfo is not None else None
    if session is not None and isinstance(error, RigError):
        session.mark_faulty()
    if record is not None:
        vela.quarantine.phase_done(record, error, outcome.get_result(), session)
