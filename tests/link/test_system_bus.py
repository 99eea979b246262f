"""The process-wide system bus setting: holders of one address share it (a test's own block
and the harness's connections to the same rig), another address waits for them, and the
environment is put back when the last one leaves."""

from __future__ import annotations

import os
import threading

import pytest

from pytest_vela.link.system_bus import VARIABLE, system_bus


@pytest.fixture(autouse=True)
def host_setting(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv(VARIABLE, "unix:path=host")
    return "unix:path=host"


def test_holders_of_one_address_share_it_and_the_last_puts_the_host_back(host_setting: str) -> None:
    with system_bus("unix:path=rig"):
        with system_bus("unix:path=rig"):  # one lock only would wait here for ever
            assert os.environ[VARIABLE] == "unix:path=rig"
        assert os.environ[VARIABLE] == "unix:path=rig"  # the outer holder still has it
    assert os.environ[VARIABLE] == host_setting


def test_none_keeps_the_host_bus_as_the_environment_has_it(host_setting: str) -> None:
    with system_bus(None):
        assert os.environ[VARIABLE] == host_setting
    assert os.environ[VARIABLE] == host_setting


def test_an_unset_variable_is_unset_again(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(VARIABLE)
    with system_bus("unix:path=rig"):
        assert os.environ[VARIABLE] == "unix:path=rig"
    assert VARIABLE not in os.environ


def test_another_address_waits_until_the_holders_leave(host_setting: str) -> None:
    seen: list[str] = []

    def other_rig() -> None:
        with system_bus("unix:path=other"):
            seen.append(os.environ[VARIABLE])

    with system_bus("unix:path=rig"):
        waiter = threading.Thread(target=other_rig)
        waiter.start()
        waiter.join(0.5)  # it cannot get in while the block holds another address
        assert waiter.is_alive() and not seen
        assert os.environ[VARIABLE] == "unix:path=rig"
    waiter.join(10)
    assert seen == ["unix:path=other"]
    assert os.environ[VARIABLE] == host_setting


def test_the_setting_is_put_back_when_the_block_raises(host_setting: str) -> None:
    with pytest.raises(RuntimeError), system_bus("unix:path=rig"):
        raise RuntimeError("the test's own code failed")
    assert os.environ[VARIABLE] == host_setting
    with system_bus("unix:path=other"):  # nobody holds it any more
        assert os.environ[VARIABLE] == "unix:path=other"
