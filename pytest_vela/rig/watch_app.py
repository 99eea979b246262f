"""The app at the watch's end of the link — the pytest-vela agent, or the user's app under test
(``--vela-app``) — kept running: launched at session start, launched again after a reset or
when something stopped it, installed again when it went missing.

The two differ in whose fault a failed start is. The agent is the rig's: it failing to load is
an ``InstallError``, a rig fault. The app under test is the product: its failing to load (a
bytecode build, a throw while loading) is ``AppLoadFailed``, a product failure, and every test
that needs it fails with it — the rig stays up.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path

from pytest_vela.device.watch import Watch
from pytest_vela.errors import AppLoadFailed, AppNotInstalled, InstallError


class WatchApp:
    def __init__(
        self,
        package: str,
        under_test: Path | None,
        reinstall: Callable[[], Path | None],
        runtime_missing: Callable[[], str | None] = lambda: None,
    ) -> None:
        self.package = package
        self.under_test = under_test  # the rpk of the app under test; None: the agent
        self._reinstall = reinstall  # the package to install again when it went missing
        # Why the watch can run no app at all (a simulated watch without Node.js): then no
        # app's failure to start is its own.
        self._runtime_missing = runtime_missing
        self.running = False

    def stopped(self, package: str) -> None:
        """An app was stopped or uninstalled through the watch (or the watch rebooted)."""
        if package == self.package:
            self.running = False

    def start(self, watch: Watch) -> None:
        """At session start: the app under test is launched at once (its start-up lines are
        the first test's to read); a load failure waits for the tests that need it."""
        if self.under_test is None:
            return
        with contextlib.suppress(AppLoadFailed):  # each test that needs the app fails with it
            self.ensure_running(watch)

    def ensure_running(self, watch: Watch, before: Callable[[], None] | None = None) -> None:
        """Launch it unless it runs (``before``: called first, as its first open may come at
        once)."""
        if self.running:
            return
        if before is not None:
            before()
        try:
            self._launch(watch)
        except AppNotInstalled:
            # Someone uninstalled it (a test, a factory reset): provision it again.
            rpk = self._reinstall()
            if rpk is None:
                raise
            watch.install(rpk)
            self._launch(watch)
        self.running = True

    def _launch(self, watch: Watch) -> None:
        try:
            watch.launch(self.package)
        except AppLoadFailed as failed:
            missing = self._runtime_missing()
            if missing is not None:
                raise InstallError(f"{failed} ({missing})") from None
            if self.under_test is not None:
                raise AppLoadFailed(
                    f"the app under test {self.under_test.name}: {failed}"
                ) from None
            raise InstallError(f"the agent cannot start: {failed}") from None
