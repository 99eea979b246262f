"""Pools of watches on labgrid places, against a real labgrid coordinator and exporter on
loopback exporting two simulated watches' consoles (each behind an RFC 2217 server): a pool
reserved by tags runs on whichever place the coordinator allocates — a held one is skipped for
a free one — and a pool of places named one by one passes a held place over without waiting.
After every test the coordinator holds no reservation and no place acquired by the run."""

from __future__ import annotations

import contextlib
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from junitparser import JUnitXml, Properties

from pytest_vela.rig.backends.simulated import with_sim_identity
from pytest_vela.rig.sim_process import SimulatorProcess
from tests.support.allure_results import label, results_by_rig
from tests.support.leftovers import sim_run_dir
from tests.support.rfc2217 import Rfc2217Server
from tests.support.rigs import fast_sim_settings
from tests.support.run_output import Output

pytest.importorskip("labgrid", reason="the labgrid extra is not installed")

from tests.support.labgrid_farm import Exported, LabgridFarm

# Place → the exporter group of its watch. lab-c shares lab-a's watch: it is only ever
# allocated, never acquired.
PLACES = {"lab-a": "watch-a", "lab-b": "watch-b", "lab-c": "watch-a"}
NIGHTLY = f"{socket.gethostname()}/nightly"
TESTS = "\n".join(
    f"def test_{n}(watch):\n    assert watch.shell('echo {n}') == '{n}\\n'\n" for n in range(4)
)


@dataclass
class Lab:
    farm: LabgridFarm
    path: Path
    held: list[str] = field(default_factory=list)

    def hold(self, place: str) -> None:
        """Another labgrid user takes ``place``, as someone at a desk would."""
        self.farm.client("-p", place, "acquire", user="nightly", check=True)
        self.held.append(place)

    def tag(self, tags: str, *places: str) -> None:
        """Each test tags its places with a value of its own, so that the tags an earlier test
        left on a place never match (set-tags replaces a key's value)."""
        for place in places:
            self.farm.client("-p", place, "set-tags", *tags.split(), check=True)

    def rig(self, name: str, place: str, labgrid: str = "", farm: str = "") -> None:
        rigs = self.path / "rigs"
        rigs.mkdir(exist_ok=True)
        (rigs / f"{name}.toml").write_text(
            "kind = 'hardware'\npool = 'desks'\n"
            f"[labgrid]\nplace = '{place}'\ncoordinator = '{self.farm.address}'\n{labgrid}"
            f"[ble]\nname = 'Vela-{place}'\n"
            "[timeouts]\nboot = 8\nshell = 3\n"
            f"[farm]\n{farm}"
        )


@pytest.fixture(scope="module")
def farm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabgridFarm]:
    base = tmp_path_factory.mktemp("labgrid-pools")
    with contextlib.ExitStack() as stack:
        exported = {}
        for group in sorted(set(PLACES.values())):
            run_dir = stack.enter_context(sim_run_dir())
            settings = with_sim_identity(fast_sim_settings(), group)
            sim = SimulatorProcess(settings, run_dir, log_path=base / f"{group}.log")
            sim.start()
            stack.callback(sim.stop)
            console = Rfc2217Server(sim.port).start()
            stack.callback(console.stop)
            exported[group] = Exported(console.port)
        lab = LabgridFarm(base / "lab", exported)
        stack.callback(lab.stop)
        lab.start()
        for place, group in PLACES.items():
            lab.create_place(place, group)
        yield lab


@pytest.fixture
def lab(
    pytester: pytest.Pytester,
    farm: LabgridFarm,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Lab]:
    """A test directory with the pool's tests; after the test, the coordinator holds no
    reservation and no place is acquired but those the test had another user hold."""
    monkeypatch.setenv("VELA_LOCK_DIR", str(tmp_path / "locks"))
    monkeypatch.delenv("LG_COORDINATOR", raising=False)
    pytester.makepyfile(test_pooled=TESTS)
    lab = Lab(farm, pytester.path)
    yield lab
    try:
        assert farm.reservations() == [], "a run left a reservation on the coordinator"
        holders = {place: holder for place, (holder, _) in farm.places().items()}
        assert holders == {p: NIGHTLY if p in lab.held else None for p in PLACES}, holders
    finally:
        for place in lab.held:
            farm.client("-p", place, "release", user="nightly")


def _run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", "--rig", "pool:desks", *args)


def _junit_rigs(xml: Path) -> dict[str, str]:
    """Each test case's ``rig`` property, by its name."""
    return {
        case.name: {p.name: p.value for p in case.child(Properties)}["rig"]
        for suite in JUnitXml.fromfile(str(xml))
        for case in suite
    }


def test_a_tagged_pool_skips_a_held_place_for_a_free_one(
    pytester: pytest.Pytester, lab: Lab
) -> None:
    _tagged_pair(lab, "s4", held=("lab-a",))
    xml = pytester.path / "junit.xml"
    result = _run(pytester, f"--junitxml={xml}")
    result.assert_outcomes(passed=4)
    assert result.ret == 0
    assert "waiting up to" not in result.stdout.str()
    written = results_by_rig(pytester.path / "reports")
    assert list(written) == ["desk-b"]
    assert sorted(r["name"] for r in written["desk-b"]) == [
        f"test_{n}[pool:desks]" for n in range(4)
    ]
    assert {label(r, "rig") for r in written["desk-b"]} == {"desk-b"}
    assert set(_junit_rigs(xml).values()) == {"desk-b"}
    assert lab.farm.holder("lab-a") == NIGHTLY, "the other user's place was left alone"


def test_a_tagged_pool_under_two_workers_takes_a_place_each(
    pytester: pytest.Pytester, lab: Lab
) -> None:
    _tagged_pair(lab, "s3")
    xml = pytester.path / "junit.xml"
    result = _run(pytester, "-n", "2", f"--junitxml={xml}")
    result.assert_outcomes(passed=4)
    written = results_by_rig(pytester.path / "reports")
    assert set(written) == {"desk-a", "desk-b"}
    names = [r["name"] for results in written.values() for r in results]
    assert sorted(names) == [f"test_{n}[pool:desks]" for n in range(4)]  # each once
    for rig, results in written.items():
        assert {label(r, "rig") for r in results} == {rig}
    assert set(_junit_rigs(xml).values()) == {"desk-a", "desk-b"}


def test_a_place_no_rig_file_names_is_an_error(pytester: pytest.Pytester, lab: Lab) -> None:
    lab.tag("board=s5", "lab-a", "lab-c")
    lab.rig("desk-a", "lab-a", "tags = { board = 's5' }\n")
    lab.hold("lab-a")  # the coordinator can allocate only lab-c, which no rig file names
    result = _run(pytester)
    result.assert_outcomes(errors=4)
    said = (
        f"RigConfigError: pool 'desks': the labgrid coordinator {lab.farm.address} allocated "
        "place 'lab-c', tagged board=s5, but no rig file of the pool names it (they name lab-a "
        "(desk-a)): add a rig file with pool = 'desks' and [labgrid] place = \"lab-c\" (and "
        "the same tags), or take the tags off the place (labgrid-client -p lab-c set-tags "
        "board=)"
    )
    # once per test in its error section (the short summary repeats it in full on a CI server)
    errors = [line for line in result.stdout.lines if line.startswith("E   ") and said in line]
    assert len(errors) == 4, result.stdout.str()
    assert result.ret == 10  # a rig fault: the farm's set-up, not the product


def test_a_pool_of_named_places_passes_a_held_one_over_without_waiting(
    pytester: pytest.Pytester, lab: Lab
) -> None:
    """``wait`` is for a rig run by name: in a pool the next member is free now."""
    lab.rig("desk-a", "lab-a", "wait = 600\n")
    lab.rig("desk-b", "lab-b", "wait = 600\n")
    lab.hold("lab-a")
    began = time.monotonic()
    result = _run(pytester)
    took = time.monotonic() - began
    result.assert_outcomes(passed=4)
    result.stdout.fnmatch_lines(
        [f"*desk-a down: LockError: *lab-a*cannot be acquired: it is acquired by {NIGHTLY}*"]
    )
    assert "waiting up to" not in result.stdout.str()
    assert took < 120, f"the run took {took:.0f} s: it waited for the held place"
    assert set(results_by_rig(pytester.path / "reports")) == {"desk-b"}


QUARANTINED = """
import os, subprocess, sys, threading, time
from pathlib import Path

from pytest_vela.errors import RigError

CLIENT = str(Path(sys.executable).parent / "labgrid-client")
NIGHTLY = {**os.environ, "LG_USERNAME": "nightly"}
later = []
seen = []


def client(*args):
    command = [CLIENT, "-x", os.environ["LAB"], *args]
    return subprocess.run(command, capture_output=True, text=True, check=True, env=NIGHTLY).stdout


def release_b_once_a_is_reserved():
    deadline = time.monotonic() + 30
    while "reservation:" not in client("-p", "lab-a", "show"):
        if time.monotonic() > deadline:
            break
        time.sleep(0.1)
    else:
        seen.append("lab-a reserved")
    client("-p", "lab-b", "release")


def test_0(rig, watch):
    assert rig.settings.labgrid.place == "lab-a"  # lab-b is held
    later.append(threading.Thread(target=release_b_once_a_is_reserved))
    later[0].start()
    raise RigError("the cable came loose")


def test_1(rig, watch):
    later[0].join(30)
    assert seen == ["lab-a reserved"]  # by the reservation that got it again, kept meanwhile
    assert rig.settings.labgrid.place == "lab-b"
    shown = client("-p", "lab-a", "show")
    assert "acquired: None" in shown and "reservation:" not in shown  # free for another farm
"""


def test_a_quarantined_place_is_released_and_not_reserved_again(
    pytester: pytest.Pytester, lab: Lab, monkeypatch: pytest.MonkeyPatch
) -> None:
    """lab-a is quarantined after one rig fault; the next reservation gets lab-a again (the
    only free place), which is kept reserved while another waits, until nightly lets lab-b
    go — then lab-a is free for anyone."""
    lab.tag("board=s6", "lab-a", "lab-b")
    for rig, place in (("desk-a", "lab-a"), ("desk-b", "lab-b")):
        lab.rig(rig, place, "tags = { board = 's6' }\nwait = 30\n", "quarantine_after = 1\n")
    lab.hold("lab-b")
    pytester.makepyfile(test_pooled=QUARANTINED)
    monkeypatch.setenv("LAB", lab.farm.address)
    result = _run(pytester)
    lab.held.remove("lab-b")  # released by the run's test_0
    result.assert_outcomes(passed=1, failed=1)
    assert result.ret == 10
    result.stdout.fnmatch_lines(
        [
            "pool desks: no place tagged board=s6 is free on *; waiting up to * s for one",
            "*rig 'desk-a' quarantined after 1 rig faults in a row*",
        ]
    )
    written = results_by_rig(pytester.path / "reports")
    assert {rig: [r["name"] for r in results] for rig, results in written.items()} == {
        "desk-a": ["test_0[pool:desks]"],
        "desk-b": ["test_1[pool:desks]"],
    }


def test_a_tagged_pool_waits_for_a_place_to_be_released(
    pytester: pytest.Pytester, lab: Lab
) -> None:
    _tagged_pair(lab, "s7", wait=60, held=("lab-a", "lab-b"))
    run = _start(pytester)
    output = Output(run)
    try:
        output.wait_for("waiting up to 60 s", 60)
        assert len(lab.farm.reservations()) == 1, "one reservation for the pool"
        lab.farm.client("-p", "lab-b", "release", user="nightly", check=True)
        lab.held.remove("lab-b")
        out = output.whole(timeout=60)
    finally:
        _end(run)
    assert run.returncode == 0, out
    assert "pool desks: no place tagged board=s7 is free on" in out
    assert set(results_by_rig(pytester.path / "reports")) == {"desk-b"}


def test_sigterm_while_a_tagged_pool_waits_cancels_its_reservation(
    pytester: pytest.Pytester, lab: Lab
) -> None:
    _tagged_pair(lab, "s8", wait=60, held=("lab-a", "lab-b"))
    run = _start(pytester)
    output = Output(run)
    try:
        output.wait_for("waiting up to 60 s", 60)
        run.send_signal(signal.SIGTERM)
        out = output.whole(timeout=30)
    finally:
        _end(run)
    assert run.returncode == pytest.ExitCode.INTERRUPTED, out
    assert lab.farm.reservations() == []
    assert lab.farm.holder("lab-a") == lab.farm.holder("lab-b") == NIGHTLY


def test_a_tagged_pool_with_every_place_held_and_no_wait_is_exhausted_at_once(
    pytester: pytest.Pytester, lab: Lab
) -> None:
    _tagged_pair(lab, "s9", held=("lab-a", "lab-b"))
    result = _run(pytester)
    result.assert_outcomes(skipped=4)
    assert result.ret == 10
    result.stdout.fnmatch_lines(
        [
            "*pool 'desks' has no rig left for this worker (no labgrid place tagged board=s9 on "
            f"{lab.farm.address} was free within 0 s (labgrid.wait): lab-a acquired by "
            f"{NIGHTLY}, lab-b acquired by {NIGHTLY})*"
        ]
    )


def _tagged_pair(lab: Lab, board: str, wait: int = 0, held: tuple[str, ...] = ()) -> None:
    """Rigs desk-a and desk-b on places lab-a and lab-b, both tagged ``board=<board>``, in
    pool "desks"; ``held`` are held by someone else when the run starts."""
    lab.tag(f"board={board}", "lab-a", "lab-b")
    line = f"tags = {{ board = '{board}' }}\n" + (f"wait = {wait}\n" if wait else "")
    lab.rig("desk-a", "lab-a", line)
    lab.rig("desk-b", "lab-b", line)
    for place in held:
        lab.hold(place)


def _start(pytester: pytest.Pytester) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "--rig", "pool:desks"],
        cwd=pytester.path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _end(run: subprocess.Popen[str]) -> None:
    if run.poll() is None:
        run.kill()
        run.communicate(timeout=30)
