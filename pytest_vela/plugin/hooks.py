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

import allure
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
from pytest_vela.plugin.record import BOUND, item_rig, item_target, record_of
from pytest_vela.plugin.run import SESSION, VelaSession, console_name
from pytest_vela.plugin.verdict import note_quarantine


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
    _workers_fit_the_pools(config, vela)
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


def _workers_fit_the_pools(config: pytest.Config, vela: VelaSession) -> None:
    """Under xdist each worker holds one rig of every pool (any worker may be given any pool's
    test, beside the rigs named one by one): more workers than a pool has rigs would leave a
    worker with none, and its share of that pool's tests skipped."""
    workers = getattr(config.option, "numprocesses", None)
    pools = vela.targets.pools
    if not isinstance(workers, int) or not pools:
        return
    pool = min(pools.values(), key=lambda pool: len(pool.members))
    if workers > len(pool.members):
        size = len(pool.members)
        raise pytest.UsageError(
            f"-n {workers}: pool {pool.name!r} has {size} rig(s), and each worker holds "
            f"one of every pool; give -n {size} or fewer"
        )


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
        targets = metafunc.config.stash[SESSION].targets
        metafunc.parametrize(
            "rig", targets.ids, ids=targets.ids, indirect=True, scope=fixtures.rig_scope(targets)
        )


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Each test on a rig carries it as Allure's parent suite and as a ``rig`` label (the key
    of the report's per-rig environments), from collection on: a test whose rig never came
    up is still filed under it."""
    for item in items:
        name = item_target(item)
        if name is None:
            continue
        failures.prune_rig_faults(item)
        if name in item.config.stash[SESSION].rigs:  # a pool's test: when it gets its rig
            item.add_marker(pytest.mark.allure_label(name, label_type="parentSuite"))
            item.add_marker(pytest.mark.allure_label(name, label_type="rig"))


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """Under ``-n N``, one worker per rig (see ``farm``). A lone rig that every worker can
    start a copy of (a simulated watch) is left to xdist's own scheduling."""
    vela = config.stash[SESSION]
    targets = vela.targets
    if config.getoption("dist") not in ("load", "loadscope", "loadgroup"):
        return None
    if targets.pools and len(targets.pools) == len(targets.ids):
        return None  # pools only: each test to whichever worker is free, on its pool's rig
    if len(vela.rigs) == 1 and next(iter(vela.sessions.values())).backend.spreads_over_workers:
        return None
    from pytest_vela.plugin.farm import RigScheduling

    return RigScheduling(config, log, [name for name in targets.ids if name in vela.rigs])


def pytest_runtest_setup(item: pytest.Item) -> None:
    """A quarantined rig's tests are skipped, saying why (a pool's, when it has no rig left;
    they fail when the pool's set-up is wrong); ``@pytest.mark.vela_rigs("hardware")`` skips
    the test on rigs of other kinds."""
    vela = item.config.stash[SESSION]
    target, name = item_target(item), item_rig(item)
    pool = vela.targets.pools.get(target or "")
    if pool is not None:
        if name == target:
            if pool.fault is not None:  # its set-up is wrong: an error, not a skip
                raise RigConfigError(str(pool.fault))
            pytest.skip(pool.exhausted())
        allure.dynamic.label("parentSuite", name)
        allure.dynamic.label("rig", name)
    vela.quarantine.skip_if_out(name)
    marker = item.get_closest_marker("vela_rigs")
    if marker is None or name is None:
        return
    kind = item.config.stash[SESSION].rigs[name].kind
    if kind not in marker.args:
        pytest.skip(f"runs on {' or '.join(marker.args)} rigs; rig {name!r} is {kind}")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Generator[None, None, None]:
    """A pool's test is given its rig before anything of it runs; its results go there."""
    vela = item.config.stash[SESSION]
    target = item_target(item)
    pool = vela.targets.pools.get(target or "")
    if pool is not None:
        rig = pool.rig()
        if rig is not None:
            item.stash[BOUND] = rig
        # Its skip, when the pool has no rig left, is filed under the pool's first rig.
        vela.router.current = rig or pool.members[0]
    else:
        vela.router.current = target
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
        report = outcome.get_result()
        vela.quarantine.phase_done(record, error, report, session)
        pool = vela.targets.pools.get(item_target(item) or "")
        if pool is not None and BOUND not in item.stash and report.skipped:
            note_quarantine(report, pool.exhausted())  # a pool with no rig left: rig faults
