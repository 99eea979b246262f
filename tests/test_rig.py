"""Rig files: lookup by plain name, validation errors that name file, field and fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_vela.errors import RigConfigError
from pytest_vela.rigfile.loader import known_rigs, load_rig, split_names
from tests.support.rigs import write_rig

HARDWARE = """
    kind = "hardware"
    [serial]
    port = "/dev/serial/by-id/usb-watch01"
    baud = 2000000
    prompt = "openvela-ap> "
    [ble]
    address = "AA:BB:CC:DD:EE:01"
    [firmware]
    image = "images/vela.bin"
    [app]
    rpk = "../apps/agent.rpk"
"""


def test_hardware_rig_loads_with_paths_relative_to_the_file(tmp_path: Path) -> None:
    write_rig(tmp_path / "rigs", "watch01", HARDWARE)
    rig = load_rig("watch01", tmp_path / "rigs")
    assert rig.kind == "hardware"
    assert rig.settings.serial.baud == 2000000
    assert rig.settings.serial.prompt == "openvela-ap> "
    assert rig.settings.firmware.image == (tmp_path / "rigs" / "images" / "vela.bin").resolve()
    assert rig.settings.app.rpk == (tmp_path / "apps" / "agent.rpk").resolve()
    assert rig.path == tmp_path / "rigs" / "watch01.toml"


def test_sim_exists_without_a_file(tmp_path: Path) -> None:
    rig = load_rig("sim", tmp_path / "no-such-dir")
    assert rig.kind == "sim"
    assert rig.path is None


def test_a_sim_file_overrides_the_builtin_sim_and_stays_a_sim(tmp_path: Path) -> None:
    write_rig(tmp_path, "sim", "[serial]\nprompt = 'goldfish-armv8a-ap> '\n[sim]\npace = false\n")
    rig = load_rig("sim", tmp_path)
    assert rig.kind == "sim"
    assert rig.settings.serial.prompt == "goldfish-armv8a-ap> "
    assert rig.settings.sim.pace is False


def test_one_message_limit_the_suite_expects_and_the_simulated_watch_enforces(
    tmp_path: Path,
) -> None:
    write_rig(tmp_path, "sim", "[app]\nmessage_limit = 20000\n")
    rig = load_rig("sim", tmp_path)
    assert rig.settings.app.message_limit == rig.settings.sim.interconnect.message_limit == 20000
    # A simulated watch that breaks the limit on purpose says so in its own table.
    write_rig(
        tmp_path,
        "sim",
        "[app]\nmessage_limit = 20000\n[sim.interconnect]\nmessage_limit = 19999\n",
    )
    broken = load_rig("sim", tmp_path).settings
    assert (broken.app.message_limit, broken.sim.interconnect.message_limit) == (20000, 19999)


def test_unknown_rig_lists_the_known_ones(tmp_path: Path) -> None:
    write_rig(tmp_path, "watch01", HARDWARE)
    write_rig(tmp_path, "bench2", HARDWARE)
    with pytest.raises(RigConfigError) as err:
        load_rig("watch99", tmp_path)
    message = str(err.value)
    assert "watch99" in message
    assert "Known rigs: bench2, sim, watch01" in message
    assert known_rigs(tmp_path) == ["bench2", "sim", "watch01"]


@pytest.mark.parametrize(
    "name", ["../watch01", "rigs/watch01", "/etc/passwd", "watch01.toml/..", "..", "", "a b"]
)
def test_names_that_are_paths_are_refused(tmp_path: Path, name: str) -> None:
    write_rig(tmp_path, "watch01", HARDWARE)
    with pytest.raises(RigConfigError, match="not a plain name"):
        load_rig(name, tmp_path)


def test_split_names_accepts_repeats_and_commas_in_order() -> None:
    assert split_names(["watch01,sim", " watch02 ", "sim,watch01"]) == ["watch01", "sim", "watch02"]
    with pytest.raises(RigConfigError, match="not a plain name"):
        split_names(["ok,../bad"])


def _error_for(tmp_path: Path, body: str) -> str:
    path = write_rig(tmp_path, "broken", body)
    with pytest.raises(RigConfigError) as err:
        load_rig("broken", tmp_path)
    message = str(err.value)
    assert str(path) in message, "the error must name the file"
    return message


def test_unknown_field_is_named_with_its_section(tmp_path: Path) -> None:
    message = _error_for(tmp_path, HARDWARE + "\n[timeouts]\nbot = 5\n")
    assert "field timeouts.bot" in message
    assert "unknown field" in message


def test_wrong_type_names_the_field_and_the_value(tmp_path: Path) -> None:
    message = _error_for(tmp_path, HARDWARE.replace("baud = 2000000", 'baud = "fast"'))
    assert "field serial.baud" in message
    assert "'fast'" in message


def test_out_of_range_value_says_what_is_allowed(tmp_path: Path) -> None:
    message = _error_for(tmp_path, HARDWARE + "\n[timeouts]\nboot = -1\n")
    assert "field timeouts.boot" in message
    assert "more than 0 and at most 86400 (a day)" in message


def test_literal_field_lists_the_allowed_values(tmp_path: Path) -> None:
    message = _error_for(tmp_path, HARDWARE + '\n[reset]\nmethod = "relay"\n')
    assert "field reset.method" in message
    for allowed in ("console", "dtr", "command"):
        assert allowed in message


def test_bad_regular_expression_is_explained(tmp_path: Path) -> None:
    message = _error_for(
        tmp_path, HARDWARE.replace('prompt = "openvela-ap> "', 'boot_marker = "boot(ed"')
    )
    assert "field serial.boot_marker" in message
    assert "not a valid regular expression" in message


def test_hardware_rig_without_a_port_says_what_to_add(tmp_path: Path) -> None:
    message = _error_for(tmp_path, '[ble]\nname = "Watch S1"\n')
    assert "serial.port" in message


def test_hardware_rig_without_ble_identity_says_what_to_add(tmp_path: Path) -> None:
    message = _error_for(tmp_path, '[serial]\nport = "rfc2217://farm:4001"\n')
    assert "ble.address or ble.name" in message


def test_command_reset_needs_argv(tmp_path: Path) -> None:
    message = _error_for(tmp_path, HARDWARE + '\n[reset]\nmethod = "command"\n')
    assert "command" in message
    assert "field reset" in message


def test_invalid_toml_points_at_the_syntax(tmp_path: Path) -> None:
    message = _error_for(tmp_path, "[serial\nport = 1\n")
    assert "not valid TOML" in message
    assert "line 1" in message


def test_every_error_is_listed_not_just_the_first(tmp_path: Path) -> None:
    message = _error_for(
        tmp_path,
        HARDWARE + '\n[timeouts]\nboot = 0\nshell = "x"\n[ble_extra]\nx = 1\n',
    )
    assert "field timeouts.boot" in message
    assert "field timeouts.shell" in message
    assert "field ble_extra" in message


def test_with_settings_replaces_a_section_and_keeps_the_rest(tmp_path: Path) -> None:
    rig = load_rig("sim", tmp_path)
    moved = rig.with_settings(serial=rig.settings.serial.model_copy(update={"port": "/dev/x"}))
    assert moved.settings.serial.port == "/dev/x"
    assert rig.settings.serial.port is None
    assert moved.settings.timeouts == rig.settings.timeouts


@pytest.mark.parametrize("name", ["sim", "sim-openvela", "watch01"])
def test_the_shipped_rig_files_are_valid(name: str) -> None:
    rigs = Path(__file__).resolve().parents[1] / "rigs"
    rig = load_rig(name, rigs)
    assert rig.path == rigs / f"{name}.toml"
    assert rig.kind == ("hardware" if name == "watch01" else "sim")


# --- what is in the file is not a rig file at all ------------------------------------------


@pytest.mark.parametrize(
    ("content", "where"),
    [
        (b"\xff\xfe", "byte 0xff at offset 0 (line 1)"),
        ('kind = "sim"\ndescription = "café"\n'.encode("latin-1"), "byte 0xe9 at offset 31"),
        ("kind = 'sim'\n".encode("utf-16"), "UTF-16 byte-order mark"),
    ],
    ids=["bom-bytes", "latin-1", "utf-16"],
)
def test_a_rig_file_that_is_not_utf8_is_named(tmp_path: Path, content: bytes, where: str) -> None:
    path = tmp_path / "latin.toml"
    path.write_bytes(content)
    with pytest.raises(RigConfigError) as err:
        load_rig("latin", tmp_path)
    message = str(err.value)
    assert message.startswith(f"{path}: not UTF-8 text")
    assert where in message
    assert "save the file as UTF-8" in message


def test_a_utf8_byte_order_mark_is_tolerated(tmp_path: Path) -> None:
    (tmp_path / "bom.toml").write_bytes('\ufeffkind = "sim"\ndescription = "café"\n'.encode())
    assert load_rig("bom", tmp_path).settings.description == "café"


def test_deeply_nested_arrays_are_refused_not_a_recursion_error(tmp_path: Path) -> None:
    message = _error_for(tmp_path, "kind = 'sim'\ndescription = " + "[" * 5000 + "]" * 5000)
    assert "nested too deeply" in message


def test_a_huge_file_is_refused_before_it_is_parsed(tmp_path: Path) -> None:
    message = _error_for(tmp_path, "kind = 'sim'\n" + "# padding\n" * 200_000)
    assert "larger than 1024 KiB" in message


# --- every value is checked where it is read -------------------------------------------------

SIM = 'kind = "sim"\n'


@pytest.mark.parametrize(
    ("section", "field", "value"),
    [
        ("serial", "port", '"/dev/ttyUSB0\\u0000"'),
        ("firmware", "image", '"images/vela\\u0000.bin"'),
        ("app", "rpk", '"\\u0000"'),
        ("app", "dir", '"../app\\u0000"'),
        ("app", "android_cert", '"phone\\u0000.apk"'),
        ("reset", "command", '["relay\\u0000", "1"]'),
        ("firmware", "receive_command", '"rb\\u0000"'),
        ("serial", "prompt", '"nsh\\u0000> "'),
    ],
)
def test_a_nul_byte_is_refused_naming_the_field(
    tmp_path: Path, section: str, field: str, value: str
) -> None:
    message = _error_for(tmp_path, f"{SIM}[{section}]\n{field} = {value}\n")
    assert f"field {section}.{field}" in message
    assert "contains a NUL byte" in message


@pytest.mark.parametrize(
    ("section", "field"),
    [("app", "rpk"), ("app", "dir"), ("app", "android_cert"), ("firmware", "image")],
)
@pytest.mark.parametrize("value", ['""', '"  "'])
def test_an_empty_path_is_refused_not_taken_as_the_rig_folder(
    tmp_path: Path, section: str, field: str, value: str
) -> None:
    message = _error_for(tmp_path, f"{SIM}[{section}]\n{field} = {value}\n")
    assert f"field {section}.{field}: empty path" in message


def test_a_path_that_is_not_a_string_says_what_a_path_is(tmp_path: Path) -> None:
    message = _error_for(tmp_path, f"{SIM}[app]\nrpk = 3\n")
    assert 'field app.rpk: a path is a string, as in "dist/app.rpk" (got 3)' in message


@pytest.mark.parametrize("value", ["inf", "-inf", "nan", "1e300", "0", "-1", "86400.5"])
@pytest.mark.parametrize(
    "field",
    [
        "timeouts.boot",
        "timeouts.shell",
        "timeouts.flash",
        "timeouts.install",
        "timeouts.launch",
        "timeouts.connect",
        "timeouts.command",
        "ble.scan_timeout",
    ],
)
def test_every_timeout_is_finite_positive_and_at_most_a_day(
    tmp_path: Path, field: str, value: str
) -> None:
    section, name = field.split(".")
    message = _error_for(tmp_path, f"{SIM}[{section}]\n{name} = {value}\n")
    assert (
        f"field {field}: must be a finite number of seconds, more than 0 and at most 86400 "
        "(a day)" in message
    )


def test_a_timeout_of_exactly_a_day_and_an_integer_are_accepted(tmp_path: Path) -> None:
    write_rig(tmp_path, "slow", f"{SIM}[timeouts]\nflash = 86400\nboot = 0.5\n")
    timeouts = load_rig("slow", tmp_path).settings.timeouts
    assert (timeouts.flash, timeouts.boot) == (86400.0, 0.5)


def test_the_retry_wait_may_be_zero_but_is_bounded(tmp_path: Path) -> None:
    write_rig(tmp_path, "eager", f"{SIM}[timeouts]\ninstall_retry_wait = 0\n")
    assert load_rig("eager", tmp_path).settings.timeouts.install_retry_wait == 0
    message = _error_for(tmp_path, f"{SIM}[timeouts]\ninstall_retry_wait = inf\n")
    assert "field timeouts.install_retry_wait: must be a finite number of seconds, at least 0" in (
        message
    )


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("1e23", "Input should be a valid integer (got 1e+23)"),
        ("921600.0", "Input should be a valid integer (got 921600.0)"),
        ("true", "Input should be a valid integer (got True)"),
        ('"921600"', "Input should be a valid integer (got '921600')"),
        ("49", "Input should be greater than or equal to 50"),
        ("20000001", "Input should be less than or equal to 20000000"),
    ],
)
def test_baud_is_an_integer_within_a_sane_range(tmp_path: Path, value: str, says: str) -> None:
    message = _error_for(tmp_path, f"{SIM}[serial]\nbaud = {value}\n")
    assert f"field serial.baud: {says}" in message


@pytest.mark.parametrize(
    ("section", "field", "value", "says"),
    [
        ("reset", "pulse_ms", "0", "finite number of ms, more than 0 and at most 86400000"),
        ("reset", "pulse_ms", "1.5", "valid integer"),
        ("sim", "boot_ms", "86400001", "finite number of ms, at least 0 and at most 86400000"),
        ("sim.interconnect", "ack_timeout_ms", "1e9", "valid integer"),
        ("sim.interconnect", "connect_ms", "-1", "at least 0"),
        ("sim.interconnect", "lost_sends_after_open_ms", "99999999999", "at most 86400000"),
        ("sim.interconnect", "loss_code", "-1", "greater than or equal to 0"),
        ("sim.interconnect", "uninstalled_status", "65536", "less than or equal to 65535"),
        ("sim.interconnect", "message_limit", "16777217", "less than or equal to 16777216"),
        ("app", "message_limit", "1e6", "valid integer"),
        ("ble", "max_message_bytes", "16777217", "less than or equal to 16777216"),
        ("ble", "mtu", "23.0", "valid integer"),
        ("timeouts", "install_attempts", "51", "less than or equal to 50"),
    ],
)
def test_other_numbers_are_integers_within_bounds(
    tmp_path: Path, section: str, field: str, value: str, says: str
) -> None:
    message = _error_for(tmp_path, f"{SIM}[{section}]\n{field} = {value}\n")
    assert f"field {section}.{field}: " in message
    assert says in message


@pytest.mark.parametrize("field", ["prompt", "boot_marker", "newline", "port"])
def test_empty_texts_the_console_looks_for_or_sends_are_refused(tmp_path: Path, field: str) -> None:
    message = _error_for(tmp_path, f'{SIM}[serial]\n{field} = ""\n')
    assert f"field serial.{field}: must not be empty" in message


def test_an_empty_crash_marker_is_refused_saying_detection_cannot_be_off(tmp_path: Path) -> None:
    message = _error_for(tmp_path, f'{SIM}[serial]\ncrash_marker = ""\n')
    assert "field serial.crash_marker: must not be empty" in message
    assert "crash detection off, which is not a supported setting" in message


@pytest.mark.parametrize("field", ["boot_marker", "crash_marker"])
def test_markers_are_valid_regexes_naming_the_field_and_the_error(
    tmp_path: Path, field: str
) -> None:
    message = _error_for(tmp_path, f'{SIM}[serial]\n{field} = "PANIC[("\n')
    assert f"field serial.{field}: not a valid regular expression (" in message
    assert "unterminated character set at position 5" in message


@pytest.mark.parametrize("regex", ["x|", ".*", "(PANIC)?", "a*"])
def test_markers_that_match_the_empty_string_are_refused(tmp_path: Path, regex: str) -> None:
    message = _error_for(tmp_path, f'{SIM}[serial]\ncrash_marker = "{regex}"\n')
    assert "field serial.crash_marker: the regular expression" in message
    assert "matches the empty string" in message


def test_a_sim_boot_line_its_boot_marker_misses_is_refused(tmp_path: Path) -> None:
    message = _error_for(tmp_path, f'{SIM}[sim]\nboot_line = "ready"\n')
    assert "sim.boot_line 'ready'" in message
    assert "serial.boot_marker" in message


@pytest.mark.parametrize(
    ("section", "field", "value"),
    [
        ("ble", "service_uuid", '"not-a-uuid"'),
        ("app", "android_package", '"phone app"'),
        ("ble", "name", '""'),
        ("firmware", "dest", '""'),
    ],
)
def test_other_texts_are_checked_too(tmp_path: Path, section: str, field: str, value: str) -> None:
    message = _error_for(tmp_path, f"{SIM}[{section}]\n{field} = {value}\n")
    assert f"field {section}.{field}: " in message


def test_a_long_value_is_cut_short_in_the_message(tmp_path: Path) -> None:
    message = _error_for(tmp_path, f'{SIM}[serial]\nbaud = "{"9" * 5000}"\n')
    assert "… (5002 characters)" in message
    assert len(message) < 400
