"""Every exception pytest-vela raises, in one place, so that reports classify them all.

Two families: product failures are ``AssertionError``\\s (the watch did not do what the test
expected: ``ExpectTimeout``, ``WatchCrashed``, ``CallFailed``, ``EventTimeout``), reported as
*failed*; infrastructure faults are ``RigError``\\s (the rig, not the product, failed),
reported as *broken* in the "Rig infrastructure" category. A ``RigError`` may carry the path of
the log that holds its evidence.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol


class VelaError(Exception):
    """Base of every pytest-vela exception."""


def first_line(error: BaseException) -> str:
    """The first line of an error's message ("" for none): what one-line summaries show."""
    text = str(error).strip()
    return text.splitlines()[0] if text else ""


def shown_path(path: Path | str) -> str:
    """A path as a message names it: relative to the working directory — the project a run
    starts in — when it lies there (``reports/watch01/logs/console-….log``), whole otherwise."""
    whole = Path(path).absolute()
    try:
        return str(whole.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def as_consequence(error: BaseException | None) -> str:
    """The line that names what failed because of a root cause (a crash, an app's error)."""
    if error is None:
        return ""
    return f"\nthen, as a consequence: {type(error).__name__}: {first_line(error)}"


# --- product failures -----------------------------------------------------------------------


class ExpectTimeout(VelaError, AssertionError):
    """A pattern did not appear on the console in time."""

    def __init__(self, pattern: str, timeout: float, seen: str, log_path: Path | None) -> None:
        self.pattern = pattern
        self.timeout = timeout
        self.seen = seen
        self.log_path = log_path
        where = f"\nfull console log: {shown_path(log_path)}" if log_path else ""
        super().__init__(
            f"expected {pattern!r} on the console within {timeout:g} s; "
            f"last {len(seen)} characters seen:\n{seen}{where}"
        )


class WatchCrashed(VelaError, AssertionError):
    """The firmware panicked: a product failure, with the panic line and the log."""

    line: str = ""  # the crash marker's line
    report: Any = None  # its evidence: lines and decoded backtrace (device.crash_report)


class AppThrew(VelaError, AssertionError):
    """Code of a watch app threw and nothing caught it (its JS engine printed the uncaught
    error): a product failure, with the stack and the console during the test."""


class AppLoadFailed(VelaError, AssertionError):
    """A watch app could not start: its bundles failed to load (a bytecode build, a syntax
    error, a throw while loading). The app's fault, a product failure — the rig is fine."""


class CallFailed(VelaError, AssertionError):
    """An API call that has no failure outcome in its contract answered ``fail``."""

    def __init__(self, call: str, code: int, data: Any) -> None:
        self.code = code
        self.data = data
        super().__init__(f"{call} failed with code {code}: {data!r}")


class EventTimeout(VelaError, AssertionError):
    """The awaited event did not arrive: a product failure, shown with the timeline."""


class Terminated(KeyboardInterrupt):
    """The run was told to stop (SIGTERM): it ends as a Ctrl-C does, cleaning up."""


class DoctorInputError(VelaError):
    """A file given to the doctor or to ``sign import`` cannot be used; the message says why,
    and ``fix``, where it is known, what to change."""

    def __init__(self, message: str, *, fix: str | None = None) -> None:
        super().__init__(message)
        self.fix = fix


# --- rig infrastructure ---------------------------------------------------------------------


class RigError(VelaError):
    """An infrastructure fault: the rig, not the product under test, failed.

    ``log_path`` names the log that holds the evidence, where there is one.
    """

    def __init__(self, message: str = "", *, log_path: Path | None = None) -> None:
        super().__init__(message)
        self.log_path = log_path


class RigDown(RigError):
    """A rig that could not start: each test that needs it fails with this one line, which names
    the error that kept it down (``cause``, reported in full once per run)."""

    def __init__(self, rig: str, cause: BaseException) -> None:
        self.rig = rig
        self.cause = cause
        super().__init__(
            f"{rig} down: {type(cause).__name__}: {first_line(cause)}",
            log_path=getattr(cause, "log_path", None),
        )


class RigConfigError(RigError):
    """A rig file is missing or invalid."""


class SerialLost(RigError):
    """The serial port vanished or failed while in use."""


class WatchHung(RigError):
    """The watch stopped answering on its console."""


class FlashError(RigError):
    """Transferring or verifying an image or package failed."""


class InstallError(RigError):
    """The watch refused to install, uninstall or launch an app."""


class AppNotInstalled(InstallError):
    """``am start`` found no such app on the watch."""


class LockError(RigError):
    """The rig is locked by another run."""


class SimulatorError(RigError):
    """The simulated watch or its private bus could not be started or died."""


class AgentError(RigError):
    """The on-watch agent did not answer or is not running."""


class BleError(RigError):
    """The BLE adapter or link failed (scan, connect, GATT)."""


class BridgeProfileError(BleError):
    """The device has no bridge service/characteristic with the rig's UUIDs (permanent)."""


class LoopTimeout(RigError, TimeoutError):
    """A coroutine handed to a loop thread did not finish in time (it was cancelled)."""


class BleTimeout(BleError, TimeoutError):
    """An operation on the BLE link (connecting, writing, disconnecting) did not finish in time."""


class ProtocolError(BleError):
    """A bridge message that is not a well-formed message of the protocol (docs/protocol.md)."""


class FramingError(BleError):
    """A frame or fragment sequence that cannot be a valid message: a fault of the link (or
    of the bridge's end of it), reported with the rig's infrastructure faults.

    ``completed`` is set in the rare case where the same frame that revealed a broken earlier
    message also completed a new one, so that the caller can still deliver it.
    """

    def __init__(self, text: str, *, msg_id: int | None = None) -> None:
        super().__init__(text)
        self.msg_id = msg_id
        self.completed: bytes | None = None


class MessageTooLarge(FramingError):
    """A message above the rig's ``ble.max_message_bytes``."""

    def __init__(self, size: int, limit: int, *, msg_id: int | None = None) -> None:
        super().__init__(
            f"bridge message of {size} bytes exceeds the limit of {limit} bytes "
            "(set by the rig's ble.max_message_bytes)",
            msg_id=msg_id,
        )
        self.size = size
        self.limit = limit


class Rendered(Protocol):
    def render(self) -> str: ...


class PreflightFailed(RigError):
    """The quick app cannot connect to its phone app as configured; ``report`` says why."""

    def __init__(self, report: Rendered) -> None:
        self.report = report
        super().__init__(
            "preflight checks failed; nothing was flashed or installed.\n" + report.render()
        )


def rig_fault_names() -> list[str]:
    """The names of every ``RigError`` class, for report categories."""
    found: list[str] = []
    pending: list[type[RigError]] = [RigError]
    while pending:
        cls = pending.pop()
        found.append(cls.__name__)
        pending.extend(cls.__subclasses__())
    return sorted(set(found))
