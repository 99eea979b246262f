"""The rig file's schema: one TOML file per watch, validated into typed, frozen settings."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from pytest_vela.wire.profile import BRIDGE_RX_UUID, BRIDGE_SERVICE_UUID, BRIDGE_TX_UUID

PositiveFloat = Annotated[float, Field(gt=0)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SerialSettings(_Section):
    """How to reach the watch's console."""

    port: str | None = Field(
        default=None,
        description="device path (prefer /dev/serial/by-id/…) or a pyserial URL "
        "(rfc2217://host:port, socket://host:port); filled in by the simulator for sim rigs",
    )
    baud: int = Field(default=921600, gt=0)
    prompt: str = Field(default="nsh> ", min_length=1, description="the shell prompt, literally")
    boot_marker: str = Field(
        default=r"booting completed|Boot completed",
        description="regular expression printed once boot is done",
    )
    crash_marker: str = Field(default=r"PANIC!!!|ASSERTION FAILED")
    app_error_marker: str = Field(
        default=r"\[JS\] Uncaught\b",
        description="regular expression of the line a watch app's uncaught JS error starts with "
        "(its stack follows); a match fails the running test",
    )
    newline: str = Field(default="\r", description="sent after each command line")

    @field_validator("boot_marker", "crash_marker", "app_error_marker")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a valid regular expression ({exc})") from None
        return value


class ResetSettings(_Section):
    """How to reboot the watch."""

    method: Literal["console", "dtr", "command"] = "console"
    command: list[str] | None = Field(
        default=None, description="argv of an external reset command (method = 'command')"
    )
    pulse_ms: int = Field(default=100, gt=0)

    @model_validator(mode="after")
    def _command_needs_argv(self) -> ResetSettings:
        if self.method == "command" and not self.command:
            raise ValueError('method \'command\' needs command = ["program", "arg", …]')
        return self


class Timeouts(_Section):
    """Seconds each step may take before the rig is declared at fault."""

    boot: PositiveFloat = 30.0
    shell: PositiveFloat = 10.0
    flash: PositiveFloat = 300.0
    install: PositiveFloat = 60.0
    launch: PositiveFloat = 10.0
    connect: PositiveFloat = 10.0
    command: PositiveFloat = 15.0
    install_retry_wait: float = Field(default=3.0, ge=0, description="pause after 'installer busy'")
    install_attempts: int = Field(default=5, ge=1, le=50)


class FirmwareSettings(_Section):
    image: Path | None = Field(default=None, description="firmware image flashed with --flash")
    dest: str = Field(default="/data", description="directory the device's rb receives into")
    receive_command: str = Field(default="rb", description="starts the YMODEM receiver")
    hash_command: str = Field(default="sha256", description="prints '<sha256> <size>' of a file")
    info_command: str = Field(default="imginfo", description="prints the running image's sha256")
    apply_command: str = Field(default="ota", description="stages a received image for boot")
    transfer_attempts: int = Field(default=3, ge=1, le=10)


class AppSettings(_Section):
    """The quick app under test (the agent, or an app embedding it)."""

    package: str = Field(default="com.vela.agent", pattern=r"^[A-Za-z][\w]*(\.[A-Za-z][\w]*)+$")
    rpk: Path | None = None
    under_test: Path | None = Field(
        default=None,
        description="the rpk of the user's own watch app: installed and launched at session "
        "start instead of the agent, and the peer fixture talks to it directly "
        "(--vela-app overrides it)",
    )
    dir: Path | None = Field(default=None, description="quick app project, for preflight checks")
    android_package: str | None = None
    android_cert: Path | None = None
    install_dir: str = "/data/app"
    message_limit: int = Field(
        default=30 * 1024,
        gt=8,
        description="bytes of serialised JSON one send must carry (the conformance suite checks "
        "this size passes and one byte more is refused)",
    )


class BleSettings(_Section):
    """The bridge peripheral on the watch."""

    address: str | None = Field(default=None, pattern=r"^([0-9A-Fa-f]{2}:){5}[0-9A-Fa-f]{2}$")
    name: str | None = None
    adapter: str = "hci0"
    service_uuid: str = BRIDGE_SERVICE_UUID
    rx_uuid: str = BRIDGE_RX_UUID
    tx_uuid: str = BRIDGE_TX_UUID
    mtu: int = Field(default=247, ge=23, le=517)
    max_message_bytes: int = Field(default=65536, gt=0)
    scan_timeout: PositiveFloat = 10.0
    connect_attempts: int = Field(default=3, ge=1, le=20)


class InterconnectRules(_Section):
    """The simulated platform's link rules (docs/interconnect.md). Each can be set to break on
    purpose, which is how the conformance suite is shown to catch a watch that breaks it."""

    first_open_reconnected: bool = False
    later_open_reconnected: bool = True
    loss_events: list[Literal["error", "close"]] = ["error", "close"]
    loss_code: int = 1006
    clean_close_code: int = 1000
    ready_state_tracks_link: bool = True
    send_down_code: int = 1006
    ack_timeout_ms: int = Field(default=1000, gt=0)
    timeout_code: int = 204
    connect_ms: int = Field(default=30, ge=0)
    diagnosis_waits_for_connect: bool = True
    diagnosis_ok_status: int = 0
    diagnosis_down_status: int = 1000
    diagnosis_timeout_status: int = 204
    uninstalled_status: int = 1001
    message_limit: int = Field(default=30 * 1024, gt=0)
    oversize_code: int = 202
    message_as_string: bool = True
    lost_sends_after_open_ms: int = Field(default=0, ge=0)
    reconnect_after_boot: bool = True


class SimSettings(_Section):
    """Settings of the simulated watch (kind = 'sim' only)."""

    pace: bool = Field(default=True, description="pace console output at baud/10 bytes per second")
    boot_ms: int = Field(default=150, ge=0)
    boot_line: str = Field(default="booting completed", description="printed when boot is done")
    interconnect: InterconnectRules = InterconnectRules()


class RigSettings(_Section):
    kind: Literal["sim", "hardware"] = "hardware"
    description: str = ""
    serial: SerialSettings = SerialSettings()
    reset: ResetSettings = ResetSettings()
    timeouts: Timeouts = Timeouts()
    firmware: FirmwareSettings = FirmwareSettings()
    app: AppSettings = AppSettings()
    ble: BleSettings = BleSettings()
    sim: SimSettings = SimSettings()

    @model_validator(mode="after")
    def _hardware_needs_port(self) -> RigSettings:
        if self.kind == "hardware":
            if not self.serial.port:
                raise ValueError("a hardware rig needs serial.port (a /dev path or a URL)")
            if not (self.ble.address or self.ble.name):
                raise ValueError("a hardware rig needs ble.address or ble.name to find the watch")
        return self
