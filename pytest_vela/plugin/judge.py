"""The judge: what each phase of a test on a rig failed *for*, decided before anyone reads the
phase's outcome — root cause first, each cause reported once.

- A crash the test did not expect (``CrashLog.failure``, the rule the watch's shell applies
  too) fails the phase in which it is found as ``WatchCrashed``, naming what the test raised
  because of it; in the call it also fails a body that passed.
- A watch app's uncaught error fails the call as ``AppThrew`` (or the teardown, when it came
  after the call), with the app's stack and the console of the test; on a rig that tests the
  user's app the console is first let go quiet, so that a callback the test set off just
  before its end is charged to it, not to the next test.
- A test that timed out (pytest-timeout) while the watch was busy hung on the rig: ``WatchHung``.
- A test that failed because its rig never started fails with one line, ``RigDown``.
"""

from __future__ import annotations

import time

import pytest

from pytest_vela.device.watch import Watch
from pytest_vela.errors import (
    AppThrew,
    RigDown,
    WatchCrashed,
    WatchHung,
    as_consequence,
    first_line,
)
from pytest_vela.plugin.record import TestRecord
from pytest_vela.rig.session import RigSession

APP_ERROR_SETTLE = 0.1  # seconds for the rest of a stack to arrive after its first line
# After the body of a test of the user's app that touched the link or the watch: nothing left
# due in the app this long, as the watch tells it (or its console quiet this long), at most the
# limit, so that an error of a callback the test set off just before it ended is charged to it.
APP_QUIET, APP_QUIET_LIMIT = 0.05, 0.5
CONSOLE_LINES_SHOWN = 40


def judge(record: TestRecord, session: RigSession, call: pytest.CallInfo[None]) -> None:
    """Replace the phase's outcome by its root cause, where it has one."""
    watch = session.started_watch
    if watch is not None:
        _timed_out_on_the_rig(watch, call)
        if call.when == "call" and session.app_under_test is not None:
            session.settle_app(APP_QUIET, APP_QUIET_LIMIT, since=call.start)
        if record.started and not _skipped(call):
            _crashed(record, watch, call) or _app_threw(record, watch, call)
    _rig_down(record.rig, session, call)


def _skipped(call: pytest.CallInfo[None]) -> bool:
    return call.excinfo is not None and call.excinfo.errisinstance(pytest.skip.Exception)


def _crashed(record: TestRecord, watch: Watch, call: pytest.CallInfo[None]) -> bool:
    excinfo = call.excinfo
    if record.crash_reported or record.crashes_before is None:
        return False
    if call.when == "setup" and excinfo is None:
        return False  # judged once the body ran
    if excinfo is not None and excinfo.errisinstance(WatchCrashed):
        record.crash_reported = True  # the watch's shell already named it
        return True
    failure = watch.crashes.failure(
        record.crashes_before, consequence=excinfo.value if excinfo else None
    )
    if failure is None:
        return False
    record.crash_reported = True
    if excinfo is not None:  # where the test was when the crash's consequence reached it
        failure = failure.with_traceback(excinfo.tb)
    call.excinfo = as_raised(failure)
    return True


def _app_threw(record: TestRecord, watch: Watch, call: pytest.CallInfo[None]) -> bool:
    if call.when == "setup" or not watch.app_errors.since(record.app_errors_before):
        return False
    time.sleep(APP_ERROR_SETTLE)
    errors = watch.app_errors.since(record.app_errors_before + record.app_errors_reported)
    if not errors:
        return False
    record.app_errors_reported += len(errors)
    excinfo = call.excinfo
    lines = watch.console.text_since(record.console_mark or 0).splitlines()
    shown = "\n".join(lines[-CONSOLE_LINES_SHOWN:])
    more = (
        f" (last {CONSOLE_LINES_SHOWN} of {len(lines)} lines)"
        if len(lines) > CONSOLE_LINES_SHOWN
        else ""
    )
    consequence = as_consequence(excinfo.value if excinfo is not None else None)
    failure = AppThrew(
        f"a watch app threw during this test ({len(errors)} uncaught error"
        f"{'s' if len(errors) > 1 else ''}):\n"
        + "\n".join(error.render() for error in errors)
        + consequence
        + f"\n\nconsole during the test{more}:\n{shown}\nconsole log: {watch.log_shown}"
    )
    call.excinfo = as_raised(failure)
    return True


def _timed_out_on_the_rig(watch: Watch, call: pytest.CallInfo[None]) -> None:
    excinfo = call.excinfo
    if watch.interrupted_while is None:
        return
    doing, watch.interrupted_while = watch.interrupted_while, None
    if (
        excinfo is None
        or not excinfo.errisinstance(pytest.fail.Exception)
        or not str(excinfo.value).startswith("Timeout")
    ):
        return
    hung = WatchHung(
        f"the test timed out ({first_line(excinfo.value)}) while the watch was busy "
        f"with {doing!r}: the rig hung; full console log: {watch.log_shown}",
        log_path=watch.log_path,
    )
    call.excinfo = as_raised(hung.with_traceback(excinfo.tb))


def _rig_down(rig: str, session: RigSession, call: pytest.CallInfo[None]) -> None:
    error = session.start_error
    excinfo = call.excinfo
    if error is not None and excinfo is not None and excinfo.value is error:
        call.excinfo = as_raised(RigDown(rig, error))


def as_raised(error: BaseException) -> pytest.ExceptionInfo[BaseException]:
    if error.__traceback__ is not None:
        return pytest.ExceptionInfo.from_exception(error)
    try:
        raise error
    except BaseException:
        return pytest.ExceptionInfo.from_current()
