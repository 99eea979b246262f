"""Preflight doctor: is the quick app set up so that it can reach its phone app at all?

``run_checks`` is the doctor behind ``pytest-vela doctor``; ``preflight`` runs it from a rig
file's ``[app]`` section, and ``require_preflight`` raises :class:`PreflightFailed` (a
``RigError``, with the rendered report as its message) when a check fails.
"""

from __future__ import annotations

from pytest_vela.doctor.checks import DoctorInput, run_checks
from pytest_vela.doctor.report import Check, Report, Status
from pytest_vela.errors import DoctorInputError, PreflightFailed, RigConfigError
from pytest_vela.rigfile.schema import AppSettings

__all__ = [
    "Check",
    "DoctorInput",
    "DoctorInputError",
    "PreflightFailed",
    "Report",
    "Status",
    "preflight",
    "require_preflight",
    "run_checks",
]


def preflight(app: AppSettings) -> Report:
    """The doctor's report for a rig's app: ``app.dir`` against ``app.android_package``.

    ``app.android_cert`` (an APK or a certificate) and ``app.rpk`` are checked when set.
    """
    if app.dir is None or not app.android_package:
        raise RigConfigError(
            "preflight needs app.dir and app.android_package in the rig file's [app] section"
        )
    return run_checks(
        DoctorInput(
            app_dir=app.dir,
            android_package=app.android_package,
            android_signer=app.android_cert,
            rpk=app.rpk,
        )
    )


def require_preflight(app: AppSettings) -> Report:
    """Like :func:`preflight`, but raises :class:`PreflightFailed` when any check fails."""
    report = preflight(app)
    if not report.ok:
        raise PreflightFailed(report)
    return report
