"""The rig file's schema: one TOML file per watch, validated into typed, frozen settings.

Every value is checked where it is read, so that a rig file can only fail at start-up, with its
field named: numbers have the type TOML gives them (``baud = 9600.0`` is refused) and are finite
and bounded, texts hold no NUL byte, paths and the texts that are looked for or sent are not
empty, and patterns compile and do not match the empty string.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from pytest_vela.rigfile.labgrid_table import LabgridSettings
from pytest_vela.rigfile.link_rules import InterconnectRules, Profile
from pytest_vela.rigfile.process import ProcessSettings, process_misfit, with_restart_default
from pytest_vela.rigfile.sim_device import DeviceSettings
from pytest_vela.rigfile.values import (
    MAX_MESSAGE_BYTES,
    DelayMillis,
    FilePath,
    Millis,
    Pattern,
    PauseSeconds,
    Seconds,
    Text,
    VisibleWord,
    Word,
)
from pytest_vela.rigfile.values import Section as _Section
from pytest_vela.wire.profile import BRIDGE_RX_UUID, BRIDGE_SERVICE_UUID, BRIDGE_TX_UUID

MIN_BAUD, MAX_BAUD = 50, 20_000_000
PACKAGE_PATTERN = r"^[A-Za-z][\w]*(\.[A-Za-z][\w]*)+$"
UUID_PATTERN = r"^[0-9A-Fa-f]{8}-([0-9A-Fa-f]{4}-){3}[0-9A-Fa-f]{12}$"
# What NuttX prints (shared/nuttx-sim/README.md beside the project; sched/misc/assert.c …).
NUTTX_BOOT_MARKER = r"NuttShell \(NSH\)"
NUTTX_CRASH_MARKER = (
    r"Assertion failed|up_dump_register|dump_tasks|Reset board on recursive assert"
    r"|Segmentation fault in|PANIC: Unhandled user exception|PANIC!!!"
)


class SerialSettings(_Section):
    """How to reach the watch's console."""

    port: Word | None = Field(
        default=None,
        description="device path (prefer /dev/serial/by-id/…) or a pyserial URL "
        "(rfc2217://host:port, socket://host:port); filled in by the simulator for sim rigs",
    )
    baud: int = Field(default=921600, ge=MIN_BAUD, le=MAX_BAUD)
    prompt: VisibleWord = Field(
        default="nsh> ",
        description="the shell prompt, literally, as it shows (nsh's readline follows it with "
        "an erase to the end of the line, \\x1b[K, which the console strips and takes as the "
        "sign that the shell waits for a line)",
    )
    boot_marker: Pattern = Field(
        default=NUTTX_BOOT_MARKER,
        description="regular expression of the line that says the watch booted; a reset waits "
        "for it, then for the prompt. Default: nsh's greeting, printed when the shell starts on "
        "the console by NuttX and the Vela fork alike ('NuttShell (NSH)', release builds add "
        "' NuttX-<version>'). Vela's app-framework lines 'booting completed' / 'Boot completed' "
        "(from Vela 5's vendor tooling; neither NuttX tree prints them) are not alternatives by "
        "default: each boot would then count twice in watch.boots, and where the greeting comes "
        "first they would never be what a reset waits for. A rig that must wait for the app "
        "framework names them instead (as rigs/watch01.toml does)",
    )
    crash_marker: Pattern = Field(
        default=NUTTX_CRASH_MARKER,
        description="regular expression of the lines a crash prints; a match fails the "
        "running test. The default covers NuttX's: 'Assertion failed' (sched/misc/assert.c "
        "since 12.0, each architecture's assert before), the register dump "
        "'up_dump_register' (12.1 on) and task list 'dump_tasks' (12.2 on) lines as logged "
        "with their function's name, 'Segmentation fault in' (RISC-V, 12.5 on), 'PANIC: "
        "Unhandled user exception' (arm64, 13.0), 'PANIC!!!' (Cortex-M fault handlers), and "
        "'Reset board on recursive assert' (vendors' trees)",
    )
    app_error_marker: Pattern = Field(
        default=r"\[JS\] Uncaught\b",
        description="regular expression of the line a watch app's uncaught JS error starts with "
        "(its stack follows); a match fails the running test",
    )
    newline: Word = Field(default="\r", description="sent after each command line")

    @field_validator("crash_marker", mode="before")
    @classmethod
    def _crash_detection_stays_on(cls, value: object) -> object:
        if value == "":
            raise ValueError(
                "must not be empty: an empty crash marker would turn crash detection off, which "
                "is not a supported setting; give a regular expression the firmware prints when "
                f"it crashes (default {NUTTX_CRASH_MARKER!r}, what NuttX prints)"
            )
        return value


class ResetSettings(_Section):
    """How to reboot the watch."""

    method: Literal["console", "dtr", "command", "labgrid", "restart"] = Field(
        default="console",
        description="console (reboot), dtr (pulse), command (an external program), labgrid "
        "(the power resource of the rig's labgrid place: off, pulse_ms, on), restart (kill "
        "and start again the program of a process rig; its default)",
    )
    command: list[Text] | None = Field(
        default=None, description="argv of an external reset command (method = 'command')"
    )
    pulse_ms: Millis = Field(
        default=100, description="DTR pulse, or how long the power stays off (labgrid), in ms"
    )

    @model_validator(mode="after")
    def _command_needs_argv(self) -> ResetSettings:
        if self.method == "command" and not (self.command and self.command[0]):
            raise ValueError('method \'command\' needs command = ["program", "arg", …]')
        return self


class Timeouts(_Section):
    """Seconds each step may take before the rig is declared at fault."""

    boot: Seconds = 30.0
    shell: Seconds = 10.0
    flash: Seconds = 300.0
    install: Seconds = 60.0
    launch: Seconds = 10.0
    connect: Seconds = 10.0
    command: Seconds = Field(
        default=15.0,
        description="an agent command (getReadyState, send) answered within this, or the "
        "harness gives up; interconnect.send(timeout=…) overrides it for one call",
    )
    install_retry_wait: PauseSeconds = Field(
        default=3.0, description="pause after 'installer busy'"
    )
    install_attempts: int = Field(default=5, ge=1, le=50)


class FirmwareSettings(_Section):
    image: FilePath | None = Field(default=None, description="firmware image flashed with --flash")
    elf: FilePath | None = Field(
        default=None,
        description="the firmware's ELF with symbols and debug info: a crash's backtrace "
        "addresses are decoded with it into function and file:line",
    )
    dest: Word = Field(default="/data", description="directory the device's rb receives into")
    receive_command: Word = Field(default="rb", description="starts the YMODEM receiver")
    hash_command: Word = Field(default="sha256", description="prints '<sha256> <size>' of a file")
    info_command: Word = Field(default="imginfo", description="prints the running image's sha256")
    apply_command: Word = Field(default="ota", description="stages a received image for boot")
    transfer_attempts: int = Field(default=3, ge=1, le=10)


class AppSettings(_Section):
    """The quick app under test (the agent, or an app embedding it)."""

    package: str = Field(default="com.vela.agent", pattern=PACKAGE_PATTERN)
    rpk: FilePath | None = None
    under_test: FilePath | None = Field(
        default=None,
        description="the rpk of the user's own watch app: installed and launched at session "
        "start instead of the agent, and the peer fixture talks to it directly "
        "(--vela-app overrides it)",
    )
    dir: FilePath | None = Field(
        default=None, description="quick app project, for preflight checks"
    )
    android_package: str | None = Field(default=None, pattern=PACKAGE_PATTERN)
    android_cert: FilePath | None = None
    install_dir: Word = "/data/app"
    message_limit: int = Field(
        default=30 * 1024,
        gt=8,
        le=MAX_MESSAGE_BYTES,
        description="bytes of serialised JSON one send may carry: the conformance suite checks "
        "this size passes and one byte more is refused, and a simulated watch enforces it",
    )


class BleSettings(_Section):
    """The bridge peripheral on the watch."""

    address: str | None = Field(default=None, pattern=r"^([0-9A-Fa-f]{2}:){5}[0-9A-Fa-f]{2}$")
    name: Word | None = None
    adapter: Word = "hci0"
    service_uuid: str = Field(default=BRIDGE_SERVICE_UUID, pattern=UUID_PATTERN)
    rx_uuid: str = Field(default=BRIDGE_RX_UUID, pattern=UUID_PATTERN)
    tx_uuid: str = Field(default=BRIDGE_TX_UUID, pattern=UUID_PATTERN)
    mtu: int = Field(
        default=247,
        ge=23,
        le=517,
        description="the ATT MTU a simulated watch offers (a simulated rig only: a real watch "
        "and its adapter agree on theirs, which the harness reads from the link)",
    )
    max_message_bytes: int = Field(default=65536, gt=0, le=MAX_MESSAGE_BYTES)
    scan_timeout: Seconds = 10.0
    connect_attempts: int = Field(default=3, ge=1, le=20)


class SimSettings(_Section):
    """Settings of the simulated watch (kind = 'sim' only)."""

    pace: bool = Field(default=True, description="pace console output at baud/10 bytes per second")
    boot_ms: DelayMillis = 150
    boot_line: Word = Field(
        default="NuttShell (NSH)",
        description="the line the simulated watch prints when it has booted: nsh's greeting, "
        "as NuttX does (another text is printed as a log line before the greeting)",
    )
    dialect: Literal["vela", "apache"] = Field(
        default="vela",
        description="whose nsh the simulated shell speaks, as checked against the real sim "
        "builds: 'vela' (the open-vela fork, which Vela watches run: ps has PID and GROUP "
        "columns) or 'apache' (apache NuttX: ps has TID, PID and PPID)",
    )
    line_end: Literal["\r\n", "\r\r\n"] = Field(
        default="\r\n",
        description="how each line the simulated console sends ends: '\\r\\n', as NuttX sends "
        "it over a UART, or '\\r\\r\\n', as a NuttX sim build sends it behind a pty that adds "
        "a '\\r' (its ONLCR set)",
    )
    interconnect: InterconnectRules = InterconnectRules()
    device: DeviceSettings = Field(
        default=DeviceSettings(), description="what the apps' system modules answer"
    )


class ConformanceSettings(_Section):
    """Which link model the conformance suite expects this rig's watch to follow."""

    profile: Literal["documented", "openvela", "any"] | None = Field(
        default=None,
        description="documented or openvela: the suite checks that one; any: it checks neither "
        "and tells, per difference, which one the watch followed; unset: any on a hardware "
        "rig, the simulator's own sim.interconnect.profile on a simulated one",
    )


class FarmSettings(_Section):
    """How a run treats this rig when it keeps failing for infrastructure."""

    quarantine_after: int | None = Field(
        default=None,
        ge=0,
        le=1000,
        description="rig faults in a row that take the rig out for the rest of the run (0: "
        "never); unset: the ini setting vela_quarantine_after, default 3",
    )


class RigSettings(_Section):
    kind: Literal["sim", "hardware", "process"] = "hardware"
    description: Text = ""
    pool: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$",
        description="the pool of identical rigs this one belongs to: --rig pool:NAME runs each "
        "test once, on whichever rig of the pool is free",
    )
    model: Text | None = Field(
        default=None, description="the watch model, as the farm lists it (pytest-vela rigs)"
    )
    serial: SerialSettings = SerialSettings()
    reset: ResetSettings = ResetSettings()
    timeouts: Timeouts = Timeouts()
    firmware: FirmwareSettings = FirmwareSettings()
    app: AppSettings = AppSettings()
    ble: BleSettings = BleSettings()
    sim: SimSettings = SimSettings()
    farm: FarmSettings = FarmSettings()
    labgrid: LabgridSettings | None = None
    conformance: ConformanceSettings = ConformanceSettings()
    process: ProcessSettings | None = None

    @property
    def expected_link_profile(self) -> Profile | None:
        """The link model this watch is expected to follow; None when the run is to tell."""
        chosen = self.conformance.profile
        if chosen is None:
            return self.sim.interconnect.profile if self.kind == "sim" else None
        return None if chosen == "any" else chosen

    @model_validator(mode="before")
    @classmethod
    def _one_message_limit(cls, data: Any) -> Any:
        """``app.message_limit`` is the watch's limit: the conformance suite expects it, and a
        simulated watch enforces it unless ``sim.interconnect.message_limit`` says otherwise."""
        if not isinstance(data, dict):
            return data
        app, sim = data.get("app"), data.get("sim")
        if not isinstance(app, dict) or "message_limit" not in app:
            return data
        sim = dict(sim) if isinstance(sim, dict) else {}
        rules = sim.get("interconnect")
        rules = dict(rules) if isinstance(rules, dict) else {}
        if "interconnect" in sim and not isinstance(sim["interconnect"], dict):
            return data  # not a table: the field's own check says so
        rules.setdefault("message_limit", app["message_limit"])
        return {**data, "sim": {**sim, "interconnect": rules}}

    @model_validator(mode="before")
    @classmethod
    def _process_resets_by_restart(cls, data: Any) -> Any:
        return with_restart_default(data)

    @model_validator(mode="after")
    def _fits_its_kind(self) -> RigSettings:
        """A hardware rig can be reached; a simulated one is seen to boot."""
        self._fits_its_place()
        misfit = process_misfit(self.kind, self.process, self.reset.method, self.serial.port)
        if misfit:
            raise ValueError(misfit)
        if self.kind == "process":
            return self
        if self.kind == "hardware":
            if not (self.serial.port or self.labgrid):
                raise ValueError(
                    "a hardware rig needs serial.port (a /dev path or a URL) or a [labgrid] "
                    "table naming its place"
                )
            if not (self.ble.address or self.ble.name):
                raise ValueError("a hardware rig needs ble.address or ble.name to find the watch")
        elif not re.search(self.serial.boot_marker, self.sim.boot_line):
            raise ValueError(
                f"the simulated watch prints sim.boot_line {self.sim.boot_line!r} when it has "
                f"booted, which serial.boot_marker {self.serial.boot_marker!r} does not match: "
                "change one of them"
            )
        return self

    def _fits_its_place(self) -> None:
        """A rig on a labgrid place is a watch (hardware) whose console and power come from
        the place; ``reset.method = "labgrid"`` needs such a place."""
        if self.labgrid is None:
            if self.reset.method == "labgrid":
                raise ValueError(
                    'reset.method "labgrid" power-cycles through a labgrid place: add a '
                    '[labgrid] table with place = "NAME", or choose another reset.method'
                )
            return
        if self.kind != "hardware":
            raise ValueError(
                'a rig on a labgrid place is a watch: set kind = "hardware" or remove the '
                "[labgrid] table"
            )
        if self.serial.port:
            raise ValueError(
                "a rig on a labgrid place gets its console from the place's NetworkSerialPort: "
                "remove serial.port, or remove the [labgrid] table to use the port"
            )
        if self.labgrid.tags and self.pool is None:
            raise ValueError(
                'labgrid.tags reserve a place for a pool of rigs: add pool = "NAME" to each '
                "rig file of the pool, or remove tags to run on the place by its name"
            )
