"""``vela_sim``: fault orders for a simulated watch, an app's own data set up as a user's
earlier session left it, and the watch's bus for a test's own BLE code, as tests write them."""

from __future__ import annotations

import base64
import contextlib
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from pytest_vela.device.crashes import CrashLog
from pytest_vela.errors import SimulatorError
from pytest_vela.rig.phone_bus import phone_bus
from pytest_vela.rig.sim_process import SimulatorProcess
from pytest_vela.rigfile.schema import PACKAGE_PATTERN, BleSettings
from pytest_vela.wire.control import APP_FILE_URI, ControlOp

ORDER_TIMEOUT = 10.0  # seconds an order may take beyond the time it spends on the line


class VelaSim:
    """Each order takes effect at once on the simulated watch; faults are cleared after the
    test (the rig is recovered with a hard reset when one was used)."""

    def __init__(
        self,
        sim: SimulatorProcess,
        crashes: CrashLog | None = None,
        release_link: Callable[[], None] | None = None,
    ) -> None:
        self._sim = sim
        self._crashes = crashes
        self._release_link = release_link  # the harness lets its own BLE link go
        self.dirty = False  # faults to clear before the next test
        self.needs_reset = False  # the console itself needs a hard reset (hang, unplug)

    def _order(self, op: ControlOp, *, line_bytes: int = 0, **args: Any) -> dict[str, Any]:
        """Send an order; one that writes ``line_bytes`` to the console is answered once they
        are through, so its timeout grows by the time the line takes to carry them."""
        self.dirty = True
        return self._sim.control(op, timeout=ORDER_TIMEOUT + self.line_seconds(line_bytes), **args)

    def line_seconds(self, nbytes: int) -> float:
        """How long the simulated console takes to carry ``nbytes`` (baud/10 bytes a second
        when it is paced, no time when it is not)."""
        settings = self._sim.settings
        return nbytes / (settings.serial.baud / 10) if settings.sim.pace else 0.0

    def crash(self) -> None:
        """Crash (an assertion, as NuttX prints it) and reboot. Given the watch's crash log,
        returns once the harness has seen the crash: this test's crash, never the next's."""
        if self._crashes is None:
            self._order(ControlOp.CRASH)
            return
        before = len(self._crashes)
        self._order(ControlOp.CRASH)
        self._crashes.wait_for_one_after(before, timeout=10.0)

    def hang(self) -> None:
        """The console stops answering until the next hard reset."""
        self.needs_reset = True
        self._order(ControlOp.HANG)

    def garbage(self, n: int) -> None:
        """Write ``n`` random bytes to the console; returns once they are written, which takes
        ``n / (baud / 10)`` seconds on a paced console."""
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise ValueError(f"garbage(n): n is a number of bytes, 0 or more (got {n!r})")
        self._order(ControlOp.GARBAGE, line_bytes=n, n=n)

    def unplug(self, replug_after_ms: int | None = None) -> None:
        """Pull the serial cable (the port vanishes); optionally plug it back later."""
        self.needs_reset = True
        self._order(ControlOp.UNPLUG, replug_after_ms=replug_after_ms)

    def installer_busy(self, times: int) -> None:
        """The next ``times`` installs answer 'installation is running, please wait'."""
        self._order(ControlOp.INSTALL_BUSY, n=times)

    def set_latency(self, ms: float) -> None:
        """Delay every BLE frame, both ways, by ``ms``."""
        self._order(ControlOp.SET_LATENCY, ms=ms)

    def fail_next_connects(self, n: int) -> None:
        """Refuse the next ``n`` BLE connection attempts."""
        self._order(ControlOp.FAIL_NEXT_CONNECTS, n=n)

    def set_message_limit(self, nbytes: int) -> None:
        """The interconnect's per-message limit for ``send``, in bytes of serialised JSON."""
        self._order(ControlOp.SET_MESSAGE_LIMIT, nbytes=nbytes)

    def drop_link(self) -> None:
        """The watch drops the BLE link (as when it walks out of range)."""
        self._order(ControlOp.DROP_LINK)

    def set_mtu(self, mtu: int) -> None:
        self._order(ControlOp.SET_MTU, mtu=mtu)

    # --- an app's own data (it stays: these are no faults) ---

    def set_storage(self, package: str, values: Mapping[str, str]) -> None:
        """Replace ``package``'s ``@system.storage`` with ``values`` (strings by string keys),
        as its earlier sessions would have left them; ``{}`` empties it. It lasts, as storage
        does (reboots too), until changed again or the app is uninstalled."""
        _check_package(package)
        bad = [
            k for k, v in values.items() if not (isinstance(k, str) and k and isinstance(v, str))
        ]
        if bad:
            raise ValueError(
                f"set_storage({package!r}, …): storage holds strings by non-empty string keys; "
                f"{bad[0]!r}: {values[bad[0]]!r} is not one (store str(value) or json.dumps(value))"
            )
        self._sim.control(
            ControlOp.SET_STORAGE, timeout=ORDER_TIMEOUT, package=package, values=dict(values)
        )

    def storage(self, package: str) -> dict[str, str]:
        """What ``package`` holds in its ``@system.storage`` now."""
        _check_package(package)
        found = self._sim.control(ControlOp.GET_STORAGE, timeout=ORDER_TIMEOUT, package=package)
        return {str(k): str(v) for k, v in found["values"].items()}

    def put_file(self, package: str, uri: str, data: str | bytes) -> None:
        """Write ``data`` (a ``str`` as UTF-8) to ``package``'s file ``uri``
        (``internal://files/…``, or mass, cache, tmp), as the app reads it with
        ``@system.file``."""
        _check_file(package, uri)
        raw = data.encode() if isinstance(data, str) else bytes(data)
        self._sim.control(
            ControlOp.PUT_FILE,
            timeout=ORDER_TIMEOUT,
            package=package,
            uri=uri,
            data=base64.b64encode(raw).decode(),
        )

    def read_file(self, package: str, uri: str) -> bytes:
        """The bytes of ``package``'s file ``uri`` (``internal://files/…``), as the app wrote
        it; a ``SimulatorError`` names a file that is not there."""
        _check_file(package, uri)
        found = self._sim.control(
            ControlOp.READ_FILE, timeout=ORDER_TIMEOUT, package=package, uri=uri
        )
        return base64.b64decode(found["data"])

    def answer_dialogs(self, *answers: int | None) -> None:
        """What the person at the watch taps in the next dialogs or context menus the app
        shows, in order: a button's (item's) index from 0, or ``None`` to dismiss. A dialog
        already open takes the first; one shown with no answer left stays open. Answers no
        dialog took are forgotten after the test."""
        for answer in answers:
            if answer is not None and (
                isinstance(answer, bool) or not isinstance(answer, int) or answer < 0
            ):
                raise ValueError(
                    f"answer_dialogs: {answer!r} is no answer; give a button index (0, 1, …) "
                    "or None to dismiss"
                )
        self._order(ControlOp.ANSWER_DIALOGS, answers=list(answers))

    @property
    def boots(self) -> int:
        return int(self._sim.control(ControlOp.PING)["boots"])

    # --- the test's own BLE code (a phone app of its own, a scanner) ---

    @property
    def ble(self) -> BleSettings:
        """What the watch advertises (``.name``, ``.address``) and its bridge's GATT UUIDs
        (``.service_uuid``, ``.rx_uuid`` written by the phone, ``.tx_uuid`` notified)."""
        return self._sim.settings.ble

    @property
    def bus_address(self) -> str:
        """The D-Bus address of the private system bus where this watch plays BlueZ."""
        if self._sim.bus_address is None:
            raise SimulatorError("this simulated watch was started without a bus: it has no BLE")
        return self._sim.bus_address

    @contextlib.contextmanager
    def system_bus(self) -> Iterator[str]:
        """``with vela_sim.system_bus():`` — unmodified bleak inside the block reaches this
        watch (``DBUS_SYSTEM_BUS_ADDRESS`` is its bus until the block ends); yields the
        address. The harness's own link is let go first (a connected watch does not
        advertise), and a link the block leaves up is dropped at its end; ``peer.reconnect()``
        after the block brings the harness's back, the next test's fixtures do it anyway.

        Inside the block, do not:

        - start bleak on an event loop that already ran bleak before the block: bleak opens
          its bus connection once per loop, so that loop keeps the host's bus. Run your code
          in a loop of the block's own (``asyncio.run`` inside it);
        - use ``peer`` or ``interconnect``, ``watch.reset()`` or anything else that makes the
          harness connect its own link (after a reset it reconnects, as a phone would): the
          watch has one link, and your code holds it;
        - wait on another rig's BLE (a session fixture that uses a second rig): its bus
          connections wait for the block to end, and the block would wait for them;
        - nest blocks of different rigs, for the same reason.
        """
        with phone_bus(self.bus_address, self._release_link, self._drop_test_link) as address:
            yield address

    def _drop_test_link(self) -> None:
        self._sim.control(ControlOp.DROP_LINK, timeout=ORDER_TIMEOUT)


def _check_package(package: str) -> None:
    if not isinstance(package, str) or not re.fullmatch(PACKAGE_PATTERN, package):
        raise ValueError(f"{package!r} is not a package name (such as com.example.app)")


def _check_file(package: str, uri: str) -> None:
    _check_package(package)
    match = APP_FILE_URI.match(uri) if isinstance(uri, str) else None
    if match is None or ".." in match.group(2).split("/"):
        raise ValueError(
            f"{uri!r} is not a file of the app's own: give internal://files/<path> (or mass, "
            "cache, tmp), without '..'"
        )
