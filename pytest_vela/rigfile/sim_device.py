"""The simulated watch's ``[sim.device]`` table: what its apps' ``@system.device``,
``@system.battery``, ``@system.network``, ``@system.configuration`` and ``@system.brightness``
answer. A test that checks a licence computed from the device id, or a layout for a round
screen, sets these in its rig file and reads them back from ``rig.settings.sim.device``.
"""

from __future__ import annotations

import math
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field


def _text(value: str) -> str:
    if not value or "\x00" in value:
        raise ValueError("must be a non-empty text without NUL bytes")
    return value


def _finite(value: float) -> float:
    if not math.isfinite(value):
        raise ValueError("must be a finite number")
    return value


Text = Annotated[str, AfterValidator(_text)]


class DeviceSettings(BaseModel):
    """The simulated watch as its apps see it (defaults: a round 466 px watch)."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    brand: Text = "Xiaomi"
    manufacturer: Text = "Xiaomi"
    model: Text = Field(default="Vela Sim Watch", description="device.getInfo().model")
    product: Text = "vela-sim"
    os_type: Text = "vela"
    os_version_name: Text = "vela-sim 4.0"
    os_version_code: int = Field(default=4, ge=0)
    platform_version_name: Text = "1.2.0"
    platform_version_code: int = Field(default=1200, ge=0)
    api_level: int = Field(default=3, ge=1, description="device.getInfo().APILevel")
    language: Text = "en"
    region: Text = "US"
    screen_width: int = Field(default=466, ge=1, le=10_000, description="px")
    screen_height: int = Field(default=466, ge=1, le=10_000, description="px")
    screen_shape: Literal["circle", "rect", "pill-shaped"] = "circle"
    screen_density: Annotated[float, AfterValidator(_finite)] = Field(
        default=2.0, gt=0, description="device pixel ratio (PPI / 160)"
    )
    device_type: Literal["watch", "band", "smartspeaker"] = "watch"
    device_id: Text = Field(default="vela-sim-0000000001", description="device.getDeviceId()")
    serial: Text = Field(default="VS0000000001", description="device.getSerial()")
    total_storage: int = Field(default=2 * 1024**3, ge=0, description="bytes")
    available_storage: int = Field(default=1024**3, ge=0, description="bytes")
    battery_level: Annotated[float, AfterValidator(_finite)] = Field(
        default=0.8, ge=0, le=1, description="battery.getStatus().level, 0.0 … 1.0"
    )
    charging: bool = False
    network_type: Literal["2g", "3g", "4g", "5g", "wifi", "bluetooth", "none", "others"] = (
        "bluetooth"
    )
    brightness: int = Field(default=128, ge=0, le=255, description="brightness.getValue()")
