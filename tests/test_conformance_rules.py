"""Each conformance test catches the watch that breaks its rule.

The simulated runtime reads every rule of the link model from the rig file; here each rule is
broken in turn and the conformance test that guards it must fail, while the suite passes
against the unbroken simulator.
"""

from __future__ import annotations

import pytest

SUITE = "pytest_vela.conformance"

# (rule in [sim.interconnect], broken value, the conformance test(s) that must fail)
BROKEN_RULES = [
    (
        "ready_state_tracks_link",
        "false",
        ["test_ready_state_is_disconnected_after_the_phone_closes"],
    ),
    ("diagnosis_ok_status", "1000", ["test_diagnosis_ok_on_a_healthy_link"]),
    ("uninstalled_status", "1000", ["test_diagnosis_reports_the_phone_app_uninstalled"]),
    (
        "diagnosis_timeout_status",
        "1000",
        ["test_diagnosis_times_out_when_the_phone_app_does_not_answer"],
    ),
    ("diagnosis_down_status", "0", ["test_diagnosis_reports_others_while_the_link_is_closed"]),
    ("diagnosis_waits_for_connect", "false", ["test_diagnosis_waits_for_a_connection_in_progress"]),
    ("send_down_code", "1000", ["test_send_while_disconnected_fails_1006"]),
    ("timeout_code", "1000", ["test_send_without_acknowledgement_fails_204"]),
    ("lost_sends_after_open_ms", "2000", ["test_send_right_after_open_is_delivered"]),
    ("message_limit", str(30 * 1024 - 1), ["test_a_message_at_the_size_limit_is_sent"]),
    ("message_limit", str(30 * 1024 + 1), ["test_a_message_one_byte_over_the_limit_is_refused"]),
    ("message_as_string", "false", ["test_a_phone_message_arrives_as_a_json_string"]),
    (
        "loss_events",
        '["close", "error"]',
        ["test_abrupt_loss_fires_error_then_close_and_reopens_as_reconnected"],
    ),
    ("loss_code", "1000", ["test_abrupt_loss_fires_error_then_close_and_reopens_as_reconnected"]),
    (
        "later_open_reconnected",
        "false",
        ["test_abrupt_loss_fires_error_then_close_and_reopens_as_reconnected"],
    ),
    ("clean_close_code", "1006", ["test_clean_close_fires_close_1000_without_error"]),
    (
        "first_open_reconnected",
        "true",
        ["test_link_recovers_after_a_watch_reset_with_a_first_open"],
    ),
    ("reconnect_after_boot", "false", ["test_link_recovers_after_a_watch_reset_with_a_first_open"]),
]


def _sim_rig(pytester: pytest.Pytester, rule: str | None = None, value: str | None = None) -> None:
    body = "kind = 'sim'\n[timeouts]\nconnect = 3\n[sim.interconnect]\nack_timeout_ms = 300\n"
    if rule is not None:
        body += f"{rule} = {value}\n"
    pytester.path.joinpath("rigs").mkdir(exist_ok=True)
    pytester.path.joinpath("rigs", "sim.toml").write_text(body)


def test_the_suite_passes_on_the_unbroken_simulator(pytester: pytest.Pytester) -> None:
    _sim_rig(pytester)
    result = pytester.runpytest_subprocess("--pyargs", SUITE, "-p", "no:cacheprovider")
    result.assert_outcomes(passed=20)


@pytest.mark.parametrize(
    ("rule", "value", "guards"),
    BROKEN_RULES,
    ids=[f"{rule}={value}" for rule, value, _ in BROKEN_RULES],
)
def test_breaking_a_rule_fails_its_conformance_test(
    pytester: pytest.Pytester, rule: str, value: str, guards: list[str]
) -> None:
    _sim_rig(pytester, rule, value)
    result = pytester.runpytest_subprocess(
        "--pyargs", SUITE, "-p", "no:cacheprovider", "-k", " or ".join(guards), "-rf"
    )
    outcomes = result.parseoutcomes()
    assert outcomes.get("failed", 0) >= len(guards), result.stdout.str()[-3000:]
    for name in guards:
        result.stdout.re_match_lines([rf"FAILED .*::{name}\b.*"])
