"""The farm's fields of a rig file: ``model``, ``[farm]``, ``[labgrid]`` and
``reset.method = "labgrid"``, each refused with its field and the fix when it does not fit."""

from __future__ import annotations

import builtins
from pathlib import Path
from typing import Any

import pytest

from pytest_vela.errors import RigConfigError
from pytest_vela.rig.backends import make_backend
from pytest_vela.rig.backends.hardware import HardwareBackend
from pytest_vela.rigfile.loader import load_rig, pool_members
from tests.support.rigs import write_rig


def test_a_rig_on_a_labgrid_place(tmp_path: Path) -> None:
    write_rig(
        tmp_path,
        "watch01",
        """
        model = "Redmi Watch 5"
        [labgrid]
        place = "watch01"
        coordinator = "127.0.0.1:20408"
        wait = 120
        [reset]
        method = "labgrid"
        [ble]
        name = "Vela-watch01"
        [farm]
        quarantine_after = 5
        """,
    )
    rig = load_rig("watch01", tmp_path)
    assert rig.kind == "hardware"
    assert rig.settings.model == "Redmi Watch 5"
    assert rig.settings.labgrid is not None
    assert (rig.settings.labgrid.place, rig.settings.labgrid.wait) == ("watch01", 120)
    assert rig.settings.farm.quarantine_after == 5


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (
            "[reset]\nmethod = 'labgrid'\n[serial]\nport = '/dev/ttyUSB0'\n",
            'reset.method "labgrid" power-cycles through a labgrid place: add a [labgrid] table',
        ),
        (
            "[labgrid]\nplace = 'w'\n[serial]\nport = '/dev/ttyUSB0'\n",
            "gets its console from the place's NetworkSerialPort: remove serial.port",
        ),
        ("[labgrid]\ncoordinator = '127.0.0.1:1'\n", "field labgrid.place: Field required"),
        (
            "[labgrid]\nplace = 'w'\ncoordinator = 'grpc://farm:20408'\n",
            "field labgrid.coordinator: not HOST:PORT (got 'grpc://farm:20408')",
        ),
        ("[labgrid]\nplace = 'w'\nwait = -1\n", "field labgrid.wait: must be a finite number"),
        ("[farm]\nquarantine_after = -1\n", "field farm.quarantine_after"),
        ("kind = 'sim'\n[labgrid]\nplace = 'w'\n", "a rig on a labgrid place is a watch: set kind"),
        ("[ble]\nname = 'x'\n", "a hardware rig needs serial.port (a /dev path or a URL) or a"),
    ],
)
def test_a_farm_field_that_does_not_fit_is_refused(tmp_path: Path, body: str, says: str) -> None:
    if "[ble]" not in body:
        body += "[ble]\nname = 'Vela-w'\n"
    write_rig(tmp_path, "w", body)
    with pytest.raises(RigConfigError) as refused:
        load_rig("w", tmp_path)
    assert says in str(refused.value)
    assert str(tmp_path / "w.toml") in str(refused.value)


def test_a_labgrid_rig_without_labgrid_names_the_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_rig(tmp_path, "w", "[labgrid]\nplace = 'w'\n[ble]\nname = 'Vela-w'\n")
    rig = load_rig("w", tmp_path)
    real_import = builtins.__import__

    def no_labgrid(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "labgrid" or name.startswith("labgrid."):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_labgrid)
    with pytest.raises(RigConfigError, match=r"pip install 'pytest-vela\[labgrid\]'"):
        make_backend(rig)


def test_a_rig_with_a_port_is_no_labgrid_rig(tmp_path: Path) -> None:
    write_rig(tmp_path, "desk", "[serial]\nport = '/dev/ttyUSB0'\n[ble]\nname = 'Vela-desk'\n")
    assert isinstance(make_backend(load_rig("desk", tmp_path)), HardwareBackend)


LABGRID_POOL = "pool = 's4'\n[labgrid]\nplace = 'w'\n"


def test_a_pool_s_tags_are_taken_as_labgrid_takes_them(tmp_path: Path) -> None:
    """labgrid checks only a key's beginning and takes any value (its patterns are applied
    with re.match): what set-tags could give a place is never refused."""
    write_rig(
        tmp_path,
        "w",
        LABGRID_POOL
        + "tags = { board = 'S4-b', rack_1 = 'x y', 'ab-c' = '1' }\npriority = 2.5\n"
        + "[ble]\nname = 'Vela-w'\n",
    )
    labgrid = load_rig("w", tmp_path).settings.labgrid
    assert labgrid is not None
    assert labgrid.tags == {"board": "S4-b", "rack_1": "x y", "ab-c": "1"}
    assert labgrid.priority == 2.5


@pytest.mark.parametrize(
    ("line", "says"),
    [
        (
            "tags = { Board = 's4' }",
            "field labgrid.tags: tag key 'Board' is not one labgrid takes: a key begins with a "
            "lowercase letter and a lowercase letter, digit or '_' (labgrid's [a-z][a-z0-9_]+)",
        ),
        ("tags = { b = 's4' }", "tag key 'b' is not one labgrid takes"),
        ("tags = { 'a=b' = 's4' }", "tag key 'a=b' is not one labgrid takes"),
        (
            "tags = { board = 4 }",
            "field labgrid.tags: tag 'board': the value is int 4; labgrid's tags are strings: "
            'write board = "4"',
        ),
        (
            "tags = { board = '' }",
            "tag 'board': value '' is not one a place can carry: give a non-empty text without "
            "'=' or NUL (labgrid-client set-tags deletes a tag given an empty value",
        ),
        ("tags = { board = 'a=b' }", "tag 'board': value 'a=b' is not one a place can carry"),
        (
            "tags = {}",
            "field labgrid.tags: an empty table would reserve any place of the coordinator",
        ),
        ("tags = 's4'", 'field labgrid.tags: a table of strings, as tags = { board = "s4" }'),
        ("priority = nan", "field labgrid.priority: must be a finite number"),
    ],
)
def test_a_tag_labgrid_would_not_take_is_refused(tmp_path: Path, line: str, says: str) -> None:
    write_rig(tmp_path, "w", f"{LABGRID_POOL}{line}\n[ble]\nname = 'Vela-w'\n")
    with pytest.raises(RigConfigError) as refused:
        load_rig("w", tmp_path)
    assert says in str(refused.value)
    assert str(tmp_path / "w.toml") in str(refused.value)


def test_tags_need_a_pool(tmp_path: Path) -> None:
    write_rig(tmp_path, "w", "[labgrid]\nplace = 'w'\ntags = { board = 's4' }\n[ble]\nname = 'x'\n")
    with pytest.raises(RigConfigError, match=r"labgrid\.tags reserve a place for a pool of rigs"):
        load_rig("w", tmp_path)


def _member(tmp_path: Path, name: str, labgrid: str) -> None:
    body = f"pool = 's4'\n{labgrid}\n[ble]\nname = 'Vela-{name}'\n"
    write_rig(tmp_path, name, body)


@pytest.mark.parametrize(
    ("other", "said"),
    [
        (
            "[labgrid]\nplace = 'b'\ntags = { board = 's5' }",
            "tags board=s5, coordinator unset, wait 0, priority 0",
        ),
        (
            "[labgrid]\nplace = 'b'\ntags = { board = 's4' }\ncoordinator = 'farm:20408'",
            "tags board=s4, coordinator farm:20408, wait 0, priority 0",
        ),
        ("[labgrid]\nplace = 'b'\ntags = { board = 's4' }\nwait = 5", "wait 5"),
        ("[labgrid]\nplace = 'b'", "no tags (place 'b' named alone)"),
        ("[serial]\nport = '/dev/ttyUSB1'", "no [labgrid] table"),
    ],
)
def test_a_pool_s_rig_files_must_agree_on_its_reservation(
    tmp_path: Path, other: str, said: str
) -> None:
    _member(tmp_path, "s4-a", "[labgrid]\nplace = 'a'\ntags = { board = 's4' }")
    _member(tmp_path, "s4-b", other)
    with pytest.raises(RigConfigError) as refused:
        pool_members("s4", tmp_path)
    message = str(refused.value)
    assert "pool 's4': its rig files disagree on the labgrid reservation" in message
    assert f"{tmp_path / 's4-a.toml'}: tags board=s4, coordinator unset, wait 0" in message
    assert f"{tmp_path / 's4-b.toml'}: " in message and said in message
    assert "give every rig file of the pool the same [labgrid] tags, coordinator, wait" in message


def test_a_pool_of_places_named_one_by_one_may_mix_with_ports(tmp_path: Path) -> None:
    _member(tmp_path, "s4-a", "[labgrid]\nplace = 'a'\nwait = 30")
    _member(tmp_path, "s4-b", "[serial]\nport = '/dev/ttyUSB1'")
    assert [rig.name for rig in pool_members("s4", tmp_path)] == ["s4-a", "s4-b"]
