"""The doctor warns when a built rpk holds paths of the machine that built it (the toolkit's
default build writes them into every bundle), and says how to keep them out."""

from __future__ import annotations

import shutil
from pathlib import Path

from pytest_vela.doctor import DoctorInput, Status, run_checks
from pytest_vela.doctor.machine_paths import paths_in, scan
from tests.doctor.conftest import VendorBuild
from tests.doctor.vectors import PACKAGE, Identity, make_rpk, rpk_files
from tests.support.aiot import build_project, require_node

AGENT_CONFIG = Path(__file__).resolve().parents[2] / "pytest_vela" / "agent" / "quickapp.config.js"

# Bundle text as the toolkit's default build writes it (module ids, comments), with paths of
# three kinds of building machine, and the uris a page uses on the watch itself.
LOADERS = "/opt/toolkit/node_modules/@aiot-toolkit/dsl-xvm/lib/loaders"
BUNDLE = (
    '/***/ "../../../opt/toolkit/node_modules/babel-loader/lib/index.js'
    "?cwd=/srv/ci/build-7/app&cacheDirectory"
    f"&plugins[]={LOADERS}/babel-plugin-jsx.js"
    '&configFile=/home/dev/toolkit/babel.config.js!./src/pages/index/index.ux":\n'
    "/*!*** ../../../opt/toolkit/node_modules/@aiot-toolkit/dsl-xvm/lib/loaders/x.js ***!*/\n"
    r'var source = "C:\\Users\\bob\\watchapp\\src\\app.ux"' + "\n"
    "router.push({ uri: '/pages/detail' }); var icon = '/common/icon.png'\n"
    "var home = '/home/index'; file.readText({ uri: 'internal://files/a/b.txt' })\n"
    "fetch('https://example.com/a/node_modules/b')\n"
)


def test_the_toolkits_paths_are_found_and_the_apps_own_uris_are_not() -> None:
    found = paths_in(BUNDLE)
    assert found == [
        "/srv/ci/build-7/app",
        f"{LOADERS}/babel-plugin-jsx.js",
        "/home/dev/toolkit/babel.config.js",
        r"C:\\Users\\bob\\watchapp\\src\\app.ux",
    ]


def _project_rpk(tmp_path: Path, identity: Identity, bundle: str) -> Path:
    files = rpk_files()
    files["pages/index/index.js"] = bundle.encode()
    path = tmp_path / f"{PACKAGE}.debug.1.0.0.rpk"
    path.write_bytes(make_rpk(files, identity))
    return path


def test_an_rpk_with_machine_paths_gets_a_warning_with_the_fix(
    project: Path, tmp_path: Path, identity: Identity
) -> None:
    rpk = _project_rpk(tmp_path, identity, BUNDLE)
    report = run_checks(DoctorInput(project, PACKAGE, rpk=rpk))
    check = report.get("rpk.paths")
    assert check.status is Status.WARN
    assert "holds 4 absolute paths of the machine that built it, in 1 of its files" in check.summary
    assert "pages/index/index.js: /srv/ci/build-7/app" in check.summary
    assert "quickapp.config.js" in check.remedy and "pathinfo = false" in check.remedy
    assert report.ok  # a warning, not a failure


def test_an_rpk_without_them_passes(project: Path, tmp_path: Path, identity: Identity) -> None:
    clean = "router.push({ uri: '/pages/detail' }) /* 0 */ var x = '/common/a.png'"
    report = run_checks(DoctorInput(project, PACKAGE, rpk=_project_rpk(tmp_path, identity, clean)))
    assert report.get("rpk.paths").status is Status.PASS


def test_the_toolkits_default_build_holds_them_and_the_agents_config_keeps_them_out(
    vendor_signed: VendorBuild, tmp_path: Path
) -> None:
    default = scan(vendor_signed.rpk)
    assert default.count > 0
    assert any("node_modules" in p for paths in default.found.values() for p in paths)
    assert {"app.js", "pages/index/index.js"} <= set(default.found)

    require_node()
    project = tmp_path / "configured"
    shutil.copytree(vendor_signed.project, project, ignore=shutil.ignore_patterns("dist", "build"))
    shutil.copy(AGENT_CONFIG, project / "quickapp.config.js")
    built = build_project(project)
    assert built.ok and built.rpk_path is not None, built.output
    configured = scan(built.rpk_path)
    assert configured.found == {}, configured.found
    assert configured.scanned >= 3  # manifest.json, app.js, the page
