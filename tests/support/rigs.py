"""Rig files, rig settings and packages that tests make on the fly."""

from __future__ import annotations

import json
import tomllib
import zipfile
from pathlib import Path
from textwrap import dedent

from pytest_vela.rigfile.schema import RigSettings


def write_rig(rig_dir: Path, name: str, body: str) -> Path:
    """Write ``<rig_dir>/<name>.toml`` from an indented literal."""
    rig_dir.mkdir(parents=True, exist_ok=True)
    path = rig_dir / f"{name}.toml"
    path.write_text(dedent(body).lstrip())
    return path


FAST_TIMEOUTS: dict[str, float] = {
    "boot": 8,
    "shell": 3,
    "install": 5,
    "launch": 5,
    "connect": 5,
    "install_retry_wait": 0.1,
}


def fast_sim_rig(extra: str = "", **timeouts: float) -> str:
    """The rig file of a simulated watch with a short boot and short timeouts (``timeouts``
    changes some), so that runs and their faults end quickly; ``extra`` adds tables."""
    merged = {**FAST_TIMEOUTS, **timeouts}
    lines = ['kind = "sim"', "[timeouts]", *(f"{k} = {v}" for k, v in merged.items())]
    return "\n".join([*lines, "[sim]", "boot_ms = 20", dedent(extra).strip()]) + "\n"


FAST_SIM = fast_sim_rig()


def fast_sim_settings(**sim: object) -> RigSettings:
    """The settings of ``FAST_SIM``, with ``sim`` settings changed."""
    settings = RigSettings.model_validate(tomllib.loads(FAST_SIM))
    return settings.model_copy(update={"sim": settings.sim.model_copy(update=sim)})


BUNDLE_HEAD = "export default function(global, globalThis, window, $app_exports$, $app_evaluate$)"


def make_rpk(
    path: Path,
    package: str,
    page: str | None = None,
    *,
    bytecode: bool = False,
    version: str = "1.0.0",
) -> Path:
    """A minimal quick app package that runs: a manifest naming the package and its one page,
    and app and page bundles of the toolkit's shape; the page's only deed is a console line,
    or ``page`` (the body of its bundle, which sets ``$app_exports$.default``). With
    ``bytecode`` it holds ``.jsc`` files where the bundles would be, as a ``--enable-jsc``
    build does."""
    manifest = {
        "package": package,
        "name": package,
        "versionName": version,
        "versionCode": 1,
        "router": {"entry": "pages/index", "pages": {"pages/index": {"component": "index"}}},
    }
    body = page or f"$app_exports$.default = {{ onInit() {{ console.log('{package} runs') }} }}"
    suffix = ".jsc" if bytecode else ".js"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("manifest.json", json.dumps(manifest))
        archive.writestr(f"app{suffix}", f"{BUNDLE_HEAD} {{ $app_exports$.default = {{}} }}\n")
        archive.writestr(f"pages/index/index{suffix}", f"{BUNDLE_HEAD} {{ {body} }}\n")
    return path
