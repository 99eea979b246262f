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
from pytest_vela.rigfile.loader import load_rig
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
