"""The simulated link's rules (``[sim.interconnect]``) and the two profiles that set them.

``profile = "documented"`` (the default) is the model of docs/interconnect.md, read from the
vendor's API page and the WebSocket API it mirrors. ``profile = "openvela"`` is what the watch's
own public ``@system.interconnect`` source does (docs/interconnect.md, "The openvela profile",
cites the function and commit each value comes from). A profile only sets the defaults: a rule
written in the rig file wins over its profile.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from pytest_vela.rigfile.values import MAX_MESSAGE_BYTES, Code, DelayMillis, Millis, Section

Profile = Literal["documented", "openvela"]
PROFILES: tuple[Profile, ...] = ("documented", "openvela")

#: The rules whose value under ``openvela`` differs from the field's (documented) default.
OPENVELA: dict[str, object] = {
    "first_open_reconnected": True,
    "later_open_reconnected": False,
    "loss_events": ["close"],
    "loss_code": 1000,
    "connecting_ends_at_first_status": True,
    "connecting_loss_events": ["error"],
    "uninstall_events": ["close"],
    "uninstall_drops_link": True,
    "handler_replay": True,
    "send_acknowledged_by": "daemon",
    "send_data_must_be_object": True,
    "send_queue_while_connecting": True,
    "diagnosis_asks_phone": False,
    "diagnosis_refusals": True,
    "refuse_oversize": False,
}


class InterconnectRules(Section):
    """The simulated platform's link rules (docs/interconnect.md). Each can be set to break on
    purpose, which is how the conformance suite is shown to catch a watch that breaks it."""

    profile: Profile = Field(
        default="documented",
        description="sets the default of every rule below: documented (the vendor's API page) "
        "or openvela (the watch's public source); a rule written here wins",
    )
    # opens and losses
    first_open_reconnected: bool = False
    later_open_reconnected: bool = True
    loss_events: list[Literal["error", "close"]] = Field(default=["error", "close"])
    loss_code: Code = 1006
    clean_close_code: Code = 1000
    connecting_ends_at_first_status: bool = Field(
        default=False,
        description="the app's link counts as connecting only from its start until the phone's "
        "state is first known (openvela); false: during every connection attempt",
    )
    connecting_loss_events: list[Literal["error", "close"]] = Field(
        default=[], description="events when the phone goes away while the link is connecting"
    )
    connecting_loss_code: Code = 1006
    uninstall_events: list[Literal["error", "close"]] = Field(
        default=[], description="events when the phone app becomes uninstalled"
    )
    uninstall_code: Code = 1001
    uninstall_drops_link: bool = False
    handler_replay: bool = Field(
        default=False,
        description="an onopen or onerror assigned after its event gets it then (open with "
        "isReconnected true, the last error)",
    )
    ready_state_tracks_link: bool = True
    # send
    send_down_code: Code = 1006
    send_acknowledged_by: Literal["phone", "daemon"] = Field(
        default="phone",
        description="phone: success once the phone app acknowledges within ack_timeout_ms; "
        "daemon: once the watch's own link daemon has the message",
    )
    ack_timeout_ms: Millis = 1000
    timeout_code: Code = 204
    send_data_must_be_object: bool = False
    send_data_code: Code = 202
    send_queue_while_connecting: bool = False
    send_queue_timeout_ms: Millis = Field(
        default=5000, description="a queued send's timer when the app gives no timeout"
    )
    message_limit: int = Field(
        default=30 * 1024,
        gt=0,
        le=MAX_MESSAGE_BYTES,
        description="the simulated watch's own limit: by default the rig's app.message_limit "
        "(the one limit a rig file names); set here only to simulate a watch that breaks it",
    )
    refuse_oversize: bool = True
    oversize_code: Code = 202
    lost_sends_after_open_ms: DelayMillis = 0
    # diagnosis
    connect_ms: DelayMillis = 30
    diagnosis_waits_for_connect: bool = True
    diagnosis_asks_phone: bool = Field(
        default=True,
        description="a connected link answers OK only after a round trip to the phone app",
    )
    diagnosis_refusals: bool = Field(
        default=False,
        description="while it would wait: a second diagnosis, and a timeout <= 0, are refused",
    )
    diagnosis_overlap_code: Code = 1000
    diagnosis_bad_timeout_code: Code = 1000
    diagnosis_ok_status: Code = 0
    diagnosis_down_status: Code = 1000
    diagnosis_timeout_status: Code = 204
    uninstalled_status: Code = 1001
    # messages and reboots
    message_as_string: bool = True
    reconnect_after_boot: bool = True

    @model_validator(mode="before")
    @classmethod
    def _profile_defaults(cls, data: Any) -> Any:
        """The profile fills in the rules the file leaves out (a bad profile name is left to
        the field's own check, which names the choices)."""
        if isinstance(data, dict) and data.get("profile") == "openvela":
            return {**OPENVELA, **data}
        return data


def profile_defaults(profile: Profile) -> InterconnectRules:
    """Every rule as ``profile`` sets it."""
    return InterconnectRules(profile=profile)
