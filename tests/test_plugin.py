"""The plugin as users run it: pytest in a subprocess on small rig files and test files, the
watch at a user's test with no option given, where the reports go, the rig-kind marker, a watch
that is not plugged in, and a watch session fixtures can share.

Rig files here use short timeouts so that the tests end fast; what is checked is what pytest
printed and what it wrote to disk.
"""

from __future__ import annotations

import pytest

from tests.support.plugin_runs import allure_results, console_log, run

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


# --- reports, markers and the watch's scope ----------------------------------------------------


def test_vela_reports_option_places_results_and_logs_per_rig(project: pytest.Pytester) -> None:
    project.makepyfile(test_one="def test_echo(watch):\n    watch.shell('echo x')\n")
    result = run(project, "--vela-reports", "out/nightly")
    result.assert_outcomes(passed=1)
    root = project.path / "out" / "nightly" / "sim"
    assert allure_results(project.path / "out" / "nightly", "sim").keys() == {"test_echo[sim]"}
    assert (root / "allure-results" / "categories.json").is_file()
    assert list((root / "logs").glob("console-*.log"))
    assert not (project.path / "reports").exists()


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
    assert console_log(project).count("> echo installed-once") == 1
