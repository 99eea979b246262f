"""What a rig's watch is given at session start: its firmware (``--flash``), an app
(``app.rpk``) and the app under test (``app.under_test`` / ``--vela-app``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from pytest_vela.device.watch import Watch
from pytest_vela.rigfile.loader import Rig

Say = Callable[[str], None]
PROGRESS_FROM = 256 * 1024  # smaller files go by too fast for progress lines to help


class Provisioning:
    def __init__(self, rig: Rig, flash_mode: str, say: Say) -> None:
        self.rig = rig
        self.flash_mode = flash_mode
        self.say = say
        self._shown: dict[str, int] = {}

    def progress(self, name: str, sent: int, total: int) -> None:
        """Progress lines in quarters, for files large enough to take a while."""
        step = 100 * sent // max(total, 1) // 25 * 25
        if total >= PROGRESS_FROM and step > self._shown.get(name, -1):
            self._shown[name] = step
            self.say(f"{self.rig.name}: sending {name}: {step}% of {total} bytes")

    def provision(self, watch: Watch) -> None:
        """Flash the rig's image (unless ``--flash never``) and install its app packages."""
        settings = self.rig.settings
        image = settings.firmware.image
        if image is not None and self.flash_mode != "never":
            self._shown.pop(image.name, None)
            flashed = watch.flash(image, self.flash_mode)
            self.say(f"{self.rig.name}: {'flashed' if flashed else 'already runs'} {image.name}")
        for rpk in (settings.app.rpk, settings.app.under_test):
            if rpk is not None:
                self._shown.pop(rpk.name, None)
                watch.install(rpk)


def preflight(rig: Rig, logs: Path, stamp: str) -> None:
    """Before touching a real watch: check that the app project can reach its phone app at
    all (a package or key mismatch would make every interconnect test fail with an
    unexplained 1001 or 1000); stops the run with the doctor's report when it cannot."""
    app = rig.settings.app
    if app.dir and app.android_package:
        from pytest_vela.doctor import require_preflight  # its key checks: when there are keys

        report = require_preflight(app)
        (logs / f"preflight-{stamp}.txt").write_text(report.render())
