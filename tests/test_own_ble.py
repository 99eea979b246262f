"""A test's own BLE code against the simulated watch: the README's example, run as written by
unmodified bleak on the watch's real private dbus-daemon, between tests that use the
harness's own link (before it, the link the example's block must free; after it, the link the
harness must get back)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"

BEFORE = """
import os

from pytest_vela import Peer

ADDRESS_AT_START = os.environ.get("DBUS_SYSTEM_BUS_ADDRESS")


def test_the_harness_link_is_up(peer: Peer) -> None:
    peer.send({"before": True})  # the harness holds the watch's one link now
    assert peer.is_connected
"""

AFTER = """
import os

from pytest_vela import Interconnect, ReadyState
from test_a_harness_link import ADDRESS_AT_START


def test_the_harness_link_comes_back(interconnect: Interconnect) -> None:
    assert interconnect.get_ready_state() == ReadyState.CONNECTED
    assert interconnect.send({"after": True}).ok
    assert os.environ.get("DBUS_SYSTEM_BUS_ADDRESS") == ADDRESS_AT_START
"""


def _readme_example() -> str:
    blocks: list[str] = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    return next(block for block in blocks if "def test_my_own_phone_client" in block)


def test_the_readme_phone_client_scans_connects_and_talks(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\n")
    pytester.makepyfile(
        test_a_harness_link=BEFORE, test_b_readme=_readme_example(), test_c_harness_link=AFTER
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-v")
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(["*test_b_readme.py::test_my_own_phone_client*PASSED*"])
