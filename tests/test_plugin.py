"""The plugin as users run it: pytest in a subprocess on small rig files and test files.

Rig files here use short timeouts so that the fault tests end fast; what is checked is what
pytest printed and what allure-pytest wrote to disk.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.support.leftovers import helper_processes, wait_gone
from tests.support.projects import outcome, run_project
from tests.support.rigs import FAST_SIM, write_rig

RIG_ONLY = """
    def test_rig(rig):
        print(f"RIG={rig.name}:{rig.kind}")
"""


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    """A user's project: its own rootdir with a pytest.ini and a fast sim rig."""
    pytester.makeini("[pytest]\n")
    write_rig(pytester.path / "rigs", "sim", FAST_SIM)
    return pytester


def run(project: pytest.Pytester, *args: str) -> pytest.RunResult:
    return project.runpytest_subprocess("-p", "no:cacheprovider", *args, timeout=120)


def allure_results(reports: Path, rig: str) -> dict[str, dict[str, Any]]:
    """Every test result allure-pytest wrote for ``rig``, by test name."""
    results = {}
    for path in (reports / rig / "allure-results").glob("*-result.json"):
        data = json.loads(path.read_text())
        results[data["name"]] = data
    return results


def label(result: dict[str, Any], name: str) -> str:
    value = next(item["value"] for item in result["labels"] if item["name"] == name)
    assert isinstance(value, str), f"label {name} is {value!r}, not text"
    return value


# --- a user's test file on the simulated watch ------------------------------------------------

USER_TESTS = """
    import json, os, zipfile

    def test_shell(watch):
        assert "app/" in watch.shell("ls /data")

    def test_reset_then_expect(watch):
        watch.reset()
        watch.console.write_line("echo answer-42")
        assert watch.console.expect(r"answer-(\\d+)", timeout=5).group(1) == "42"

    def test_flash_install_launch(watch, tmp_path):
        image = tmp_path / "fw.bin"
        image.write_bytes(os.urandom(20_000))
        watch.flash(image)
        rpk = tmp_path / "com.example.app.rpk"
        head = "export default function(global, globalThis, window, $app_exports$, $a) "
        router = {"entry": "pages/index", "pages": {"pages/index": {"component": "index"}}}
        with zipfile.ZipFile(rpk, "w") as z:
            manifest = {"package": "com.example.app", "router": router}
            z.writestr("manifest.json", json.dumps(manifest))
            z.writestr("app.js", head + "{ $app_exports$.default = {} }")
            z.writestr("pages/index/index.js", head + "{ $app_exports$.default = {} }")
        watch.install(rpk)
        watch.launch("com.example.app")
"""


def test_a_user_test_file_passes_with_no_rig_option(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\n")
    pytester.makepyfile(test_user=USER_TESTS)
    result = run(pytester, "-v")
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(["*test_shell[[]sim[]] PASSED*"])
    logs = list((pytester.path / "reports" / "sim" / "logs").glob("console-*.log"))
    assert len(logs) == 1
    text = logs[0].read_text()
    for step in ("> rb", "> pm install /data/app/com.example.app.rpk", "Start main loop"):
        assert step in text


# --- rig selection -------------------------------------------------------------------------


@pytest.fixture
def two_rigs(project: pytest.Pytester) -> pytest.Pytester:
    write_rig(project.path / "rigs", "alpha", FAST_SIM)
    write_rig(project.path / "rigs", "beta", FAST_SIM)
    project.makepyfile(test_rigs=RIG_ONLY)
    return project


@pytest.mark.parametrize(
    ("args", "order"),
    [
        (("--rig", "alpha", "--rig", "beta"), ["alpha", "beta"]),
        (("--rig", "alpha,beta"), ["alpha", "beta"]),
        (("--rig=beta,alpha", "--rig", "beta"), ["beta", "alpha"]),
    ],
    ids=["repeated", "comma", "dedup"],
)
def test_rig_option_is_repeatable_and_comma_separated(
    two_rigs: pytest.Pytester, args: tuple[str, ...], order: list[str]
) -> None:
    result = run(two_rigs, "-s", *args)
    result.assert_outcomes(passed=2)
    seen = re.findall(r"RIG=(\w+:\w+)", result.stdout.str())
    assert seen == [f"{name}:sim" for name in order]


def test_vela_rig_environment_variable(
    two_rigs: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VELA_RIG", "beta")
    result = run(two_rigs, "-s")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*RIG=beta:sim*"])


def test_rig_dir_option(project: pytest.Pytester) -> None:
    write_rig(project.path / "farm", "slot3", FAST_SIM)
    project.makepyfile(test_rigs=RIG_ONLY)
    result = run(project, "-s", "--rig-dir", "farm", "--rig", "slot3")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*RIG=slot3:sim*"])


def test_unknown_rig_fails_at_start_up_listing_the_known_rigs(two_rigs: pytest.Pytester) -> None:
    result = run(two_rigs, "--rig", "gamma")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*unknown rig 'gamma'*Known rigs: alpha, beta, sim*"])


def test_rig_names_that_are_paths_are_refused(two_rigs: pytest.Pytester) -> None:
    result = run(two_rigs, "--rig", "rigs/alpha")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*'rigs/alpha' is not a plain name*"])


@pytest.mark.parametrize(
    ("args", "env", "source"),
    [
        (("--rig", ""), None, "--rig ('')"),
        (("--rig", ","), None, "--rig (',')"),
        (("--rig", " , ", "--rig", ""), None, "--rig (' , ', '')"),
        ((), ",", "VELA_RIG (',')"),
        ((), "", "VELA_RIG ('')"),
    ],
    ids=["rig-empty", "rig-comma", "rig-blanks", "env-comma", "env-empty"],
)
def test_a_rig_option_that_names_no_rig_is_a_usage_error(
    two_rigs: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    args: tuple[str, ...],
    env: str | None,
    source: str,
) -> None:
    if env is not None:
        monkeypatch.setenv("VELA_RIG", env)
    result = run(two_rigs, *args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [f"*no rig named in {source}: name one or more rigs*known rigs: alpha, beta, sim*"]
    )
    assert "INTERNALERROR" not in result.stdout.str() + result.stderr.str()


def test_an_ini_setting_that_names_no_rig_is_a_usage_error(two_rigs: pytest.Pytester) -> None:
    two_rigs.makeini("[pytest]\nvela_rig = ,\n")
    result = run(two_rigs)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*no rig named in the ini setting vela_rig (',')*vela_rig = *"])


def test_a_bad_rig_file_stops_the_run_naming_file_and_field(project: pytest.Pytester) -> None:
    write_rig(project.path / "rigs", "bad", FAST_SIM + "\n[serial]\nbaud = 0\n")
    project.makepyfile(test_rigs=RIG_ONLY)
    result = run(project, "--rig", "bad")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*rigs/bad.toml: invalid rig file*", "*field serial.baud*"])


def test_a_rig_file_that_is_not_utf8_stops_the_run_naming_it(project: pytest.Pytester) -> None:
    (project.path / "rigs" / "latin.toml").write_bytes('description = "café"\n'.encode("latin-1"))
    project.makepyfile(test_rigs=RIG_ONLY)
    result = run(project, "--rig", "latin")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*rigs/latin.toml: not UTF-8 text*save the file as UTF-8*"])
    assert "Traceback" not in result.stderr.str()


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ('[app]\nrpk = "agent\\u0000.rpk"\n', "field app.rpk: contains a NUL byte*"),
        ("[ble]\nscan_timeout = inf\n", "field ble.scan_timeout: must be a finite number*"),
        ('[app]\nrpk = ""\n', "field app.rpk: empty path*"),
        ('[serial]\ncrash_marker = ""\n', "field serial.crash_marker: must not be empty*"),
    ],
    ids=["nul", "inf", "empty-path", "no-crash-marker"],
)
def test_a_bad_value_stops_the_run_at_start_up(
    project: pytest.Pytester, body: str, says: str
) -> None:
    write_rig(project.path / "rigs", "odd", FAST_SIM + body)
    project.makepyfile(test_rigs=RIG_ONLY)
    result = run(project, "--rig", "odd")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*rigs/odd.toml: invalid rig file*", f"*{says}"])


# --- reports and flashing ------------------------------------------------------------------


def test_vela_reports_option_places_results_and_logs_per_rig(project: pytest.Pytester) -> None:
    project.makepyfile(test_one="def test_echo(watch):\n    watch.shell('echo x')\n")
    result = run(project, "--vela-reports", "out/nightly")
    result.assert_outcomes(passed=1)
    root = project.path / "out" / "nightly" / "sim"
    assert allure_results(project.path / "out" / "nightly", "sim").keys() == {"test_echo[sim]"}
    assert (root / "allure-results" / "categories.json").is_file()
    assert list((root / "logs").glob("console-*.log"))
    assert not (project.path / "reports").exists()


FLASH_TEST = "def test_up(watch):\n    assert watch.shell('echo up') == 'up\\n'\n"


def _flash_rig(project: pytest.Pytester, image: bytes) -> None:
    (project.path / "rigs" / "fw.bin").write_bytes(image)
    write_rig(project.path / "rigs", "sim", FAST_SIM + '\n[firmware]\nimage = "fw.bin"\n')
    project.makepyfile(test_up=FLASH_TEST)


def _console_log(project: pytest.Pytester) -> str:
    return "".join(p.read_text() for p in (project.path / "reports" / "sim" / "logs").glob("c*"))


@pytest.mark.parametrize("mode", ["auto", "always"])
def test_flash_option_flashes_a_new_image(project: pytest.Pytester, mode: str) -> None:
    _flash_rig(project, os.urandom(10_000))
    result = run(project, "--flash", mode)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*sim: flashed fw.bin*"])
    assert "> ota /data/fw.bin" in _console_log(project)


def test_flash_auto_skips_the_image_the_watch_already_runs(project: pytest.Pytester) -> None:
    _flash_rig(project, b"vela-sim factory image\n")  # what the simulated watch boots with
    result = run(project, "--flash", "auto")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*sim: already runs fw.bin*"])
    assert "> rb" not in _console_log(project)


def test_flash_progress_reaches_the_terminal_without_dash_s(project: pytest.Pytester) -> None:
    _flash_rig(project, os.urandom(10_000))
    result = run(project, "--flash", "always")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*sim: flashed fw.bin*"])


def test_flash_never_leaves_the_watch_alone(project: pytest.Pytester) -> None:
    _flash_rig(project, os.urandom(10_000))
    result = run(project, "--flash", "never")
    result.assert_outcomes(passed=1)
    assert "fw.bin" not in result.stdout.str()
    assert "> rb" not in _console_log(project)


# --- faults: each ends its test with the evidence, and the session goes on -------------------

FAULT_TESTS = """
    import pytest

    def test_hang(watch, vela_sim):
        vela_sim.hang()
        watch.shell("ls")

    def test_after_hang(watch):
        assert watch.shell("echo alive-1") == "alive-1\\n"

    def test_unplug(watch, vela_sim):
        vela_sim.unplug()
        watch.shell("ls")

    def test_after_unplug(watch):
        assert watch.shell("echo alive-2") == "alive-2\\n"

    def test_garbage(watch, vela_sim):
        vela_sim.garbage(50_000)
        assert watch.shell("echo alive-3") == "alive-3\\n"

    def test_crash(watch, vela_sim):
        vela_sim.crash()
        watch.console.expect(r"NuttShell \\(NSH\\)", timeout=5)

    def test_after_crash(watch):
        assert watch.shell("echo alive-4") == "alive-4\\n"

    def test_product_failure(watch):
        assert watch.shell("echo 1") == "2\\n"
"""


@pytest.fixture(scope="module")
def fault_run(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[subprocess.CompletedProcess[str], Path]:
    """One pytest run over every fault; the tests below read its output and its reports."""
    root = tmp_path_factory.mktemp("faults")
    return run_project(root, FAULT_TESTS, rig=FAST_SIM, timeout=150), root


def test_a_hung_watch_is_a_watch_hung_naming_prompt_and_log(
    fault_run: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    done, root = fault_run
    line = outcome(done.stdout, "test_hang")
    assert line.startswith("FAILED")
    assert "WatchHung" in line
    assert "did not return to its prompt 'nsh> ' within 3 s" in done.stdout
    # The log is named as the project sees it, not by the machine's whole path.
    assert "full console log: reports/sim/logs/console-" in done.stdout
    failures = done.stdout.split("= FAILURES =")[1].split("short test summary")[0]
    assert str(root) not in failures


def test_a_vanished_port_is_a_serial_lost_with_the_log_kept(
    fault_run: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    done, root = fault_run
    assert "SerialLost" in outcome(done.stdout, "test_unplug")
    assert "the console log up to that moment is kept at" in done.stdout
    logs = list((root / "reports" / "sim" / "logs").glob("console-*.log"))
    assert len(logs) == 1
    assert "port lost" in logs[0].read_text()


def test_a_crash_fails_the_test_naming_the_panic_line(
    fault_run: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    done, _ = fault_run
    line = outcome(done.stdout, "test_crash")
    # Failed once, as the crash (the test's own expect of the boot line was not its undoing).
    assert line.startswith("FAILED") and "WatchCrashed" in line, done.stdout
    assert "ERROR at teardown of test_crash" not in done.stdout
    assert "dump_assert_info: Assertion failed" in done.stdout


def test_the_session_goes_on_after_each_fault(
    fault_run: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    done, _ = fault_run
    for test in ("test_after_hang", "test_after_unplug", "test_garbage", "test_after_crash"):
        assert outcome(done.stdout, test).startswith("PASSED"), done.stdout
    assert outcome(done.stdout, "test_product_failure").startswith("FAILED")


def test_allure_results_carry_rig_status_and_console(
    fault_run: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    _, root = fault_run
    results_dir = root / "reports" / "sim" / "allure-results"
    results = allure_results(root / "reports", "sim")
    assert set(results) == {
        f"{name}[sim]"
        for name in (
            "test_hang",
            "test_after_hang",
            "test_unplug",
            "test_after_unplug",
            "test_garbage",
            "test_crash",
            "test_after_crash",
            "test_product_failure",
        )
    }
    for result in results.values():
        assert label(result, "parentSuite") == "sim"
        assert {"name": "rig", "value": "'sim'"} in result["parameters"]
    assert results["test_hang[sim]"]["status"] == "broken"
    assert results["test_unplug[sim]"]["status"] == "broken"
    assert results["test_crash[sim]"]["status"] == "failed"
    assert results["test_product_failure[sim]"]["status"] == "failed"
    assert results["test_after_hang[sim]"]["status"] == "passed"
    garbage = results["test_garbage[sim]"]
    consoles = [a for a in garbage["attachments"] if a["name"] == "console"]
    assert consoles, garbage["attachments"]
    attached = (results_dir / consoles[0]["source"]).read_text()
    assert "> echo alive-3" in attached
    categories = json.loads((results_dir / "categories.json").read_text())
    infra = next(c for c in categories if c["name"] == "Rig infrastructure")
    assert infra["matchedStatuses"] == ["broken"]


# --- no simulated watch outlives its pytest ---------------------------------------------------

SLEEPER = """
    import os, time
    from pathlib import Path

    def test_waits(watch):
        Path("ready").write_text(str(os.getpid()))
        time.sleep(60)
"""


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["ctrl-c", "killed"])
def test_no_simulated_watch_outlives_an_interrupted_run(
    project: pytest.Pytester, sig: signal.Signals
) -> None:
    project.makepyfile(test_sleep=SLEEPER)
    proc = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q"],
        cwd=project.path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        ready = project.path / "ready"
        deadline = time.monotonic() + 60
        while not ready.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert ready.exists(), proc.communicate(timeout=5)[0] if proc.poll() is not None else ""
        assert len(helper_processes(proc.pid)) == 2, (
            "the simulated watch and its bus should be running"
        )
        proc.send_signal(sig)
        out, _ = proc.communicate(timeout=60)
        if sig == signal.SIGINT:
            assert "KeyboardInterrupt" in out
        assert wait_gone(proc.pid) == []
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_no_simulated_watch_outlives_a_crashing_test(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_boom="""
            import os
            from pathlib import Path

            def test_boom(watch):
                Path("pid").write_text(str(os.getpid()))
                raise RuntimeError("boom")
        """
    )
    result = run(project)
    result.assert_outcomes(failed=1)
    pid = int((project.path / "pid").read_text())
    assert wait_gone(pid) == []


def test_vela_rigs_marker_skips_other_kinds(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_kinds="""
            import pytest

            @pytest.mark.vela_rigs("hardware")
            def test_only_on_hardware(rig):
                raise AssertionError("must not run on the simulated watch")

            @pytest.mark.vela_rigs("sim")
            def test_only_on_sim(rig):
                assert rig.kind == "sim"
        """
    )
    result = run(project, "-rs")
    result.assert_outcomes(passed=1, skipped=1)
    result.stdout.fnmatch_lines(["*runs on hardware rigs; rig 'sim' is sim*"])


def test_a_missing_serial_port_names_the_rig_file_and_the_fix(project: pytest.Pytester) -> None:
    rigs = project.path / "rigs"
    rigs.mkdir(exist_ok=True)
    (rigs / "desk.toml").write_text(
        "kind = 'hardware'\n[serial]\nport = '/dev/serial/by-id/usb-no-such-watch'\n"
        "[ble]\nname = 'Vela-desk'\n"
    )
    project.makepyfile(
        test_desk="def test_one(watch):\n    pass\n\ndef test_two(watch):\n    pass\n"
    )
    result = run(project, "--rig", "desk")
    result.assert_outcomes(errors=2)
    out = result.stdout.str()
    assert "cannot open serial port /dev/serial/by-id/usb-no-such-watch" in out
    assert "serial.port in rigs/desk.toml" in out
    assert "is the watch plugged in" in out


def test_watch_is_session_scoped_so_session_fixtures_can_use_it(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_session_fixture="""
            import pytest

            @pytest.fixture(scope="session")
            def app_installed(watch):
                return watch.shell("echo installed-once")

            def test_one(app_installed, watch):
                assert app_installed == "installed-once\\n"

            def test_two(app_installed, watch):
                assert app_installed == "installed-once\\n"
                assert watch.console.log_path.exists()
        """
    )
    result = run(project)
    result.assert_outcomes(passed=2)
    assert _console_log(project).count("> echo installed-once") == 1
