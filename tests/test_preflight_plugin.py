"""A hardware rig that names its quick app runs the doctor before touching the watch."""

from __future__ import annotations

import json

import pytest


def test_a_failing_preflight_stops_the_rig_before_the_console(pytester: pytest.Pytester) -> None:
    app = pytester.mkdir("myapp")
    (app / "src").mkdir()
    (app / "src" / "manifest.json").write_text(
        json.dumps({"package": "com.example.watchapp", "features": []})
    )
    pytester.mkdir("rigs").joinpath("desk.toml").write_text(
        "kind = 'hardware'\n"
        "[serial]\nport = '/dev/serial/by-id/no-such-watch'\n"
        "[ble]\nname = 'Vela-desk'\n"
        "[app]\ndir = '../myapp'\nandroid_package = 'com.example.phoneapp'\n"
    )
    pytester.makepyfile("def test_one(watch):\n    pass\n\ndef test_two(watch):\n    pass\n")
    result = pytester.runpytest_subprocess("--rig", "desk", "-p", "no:cacheprovider")
    result.assert_outcomes(errors=2)
    out = result.stdout.str()
    assert "preflight checks failed; nothing was flashed or installed" in out
    assert "com.example.phoneapp" in out  # the remedy names the package to set
    assert "cannot open serial port" not in out  # stopped before the console was opened
