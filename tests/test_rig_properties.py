"""Property: whatever a rig file holds, loading it gives valid settings or a RigConfigError
that names the file; never any other exception.

Documents are generated field by field from the schema itself, each field given a value that is
sometimes plausible (its default, a near miss) and sometimes anything TOML can say; the file
content is also tried as arbitrary bytes and arbitrary text.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, find, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from pytest_vela.errors import RigConfigError
from pytest_vela.rigfile.loader import Rig, load_rig
from pytest_vela.rigfile.schema import RigSettings

PROPERTY = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def schema_fields(model: type[BaseModel], prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every leaf field of the schema as its path, e.g. ``("sim", "interconnect", "loss_code")``."""
    found: list[tuple[str, ...]] = []
    for name, info in model.model_fields.items():
        sub = info.annotation
        if isinstance(sub, type) and issubclass(sub, BaseModel):
            found += schema_fields(sub, (*prefix, name))
        else:
            found.append((*prefix, name))
    return found


FIELDS = schema_fields(RigSettings)


def default_of(path: tuple[str, ...]) -> Any:
    value: Any = RigSettings(kind="sim")
    for part in path:
        value = getattr(value, part)
    return value.model_dump(mode="json") if isinstance(value, BaseModel) else value


# --- TOML values ---------------------------------------------------------------------------

keys = st.from_regex(r"[a-z_]{1,8}", fullmatch=True) | st.text(max_size=6)
scalars = (
    st.booleans()
    | st.integers()
    | st.floats()  # NaN and infinities included
    | st.text(max_size=40)
    | st.dates()
    | st.times()
    | st.datetimes(timezones=st.none() | st.just(dt.UTC))
)
anything = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=3),
    max_leaves=8,
)
NEAR_INTS = [0, 1, -1, 49, 50, 23, 517, 65535, 65536, 86400, 86401, 921600, 2**63, 10**30]
NEAR_FLOATS = [0.0, 0.5, -0.5, 1.5, 86400.0, 1e23, 1e300, math.inf, -math.inf, math.nan]
NEAR_TEXTS = ["", " ", "x", "a\x00b", "nsh> ", "rb", "(", "x|", ".*", "PANIC", "dist/app.rpk"]
NEAR_OTHERS = ["com.example.app", "AA:BB:CC:DD:EE:01", "console", "command", "sim", "hardware"]
NEAR_LISTS = [[], [""], ["error"], ["reboot-relay", "1"], {}, True, False]
near_misses = st.sampled_from([*NEAR_INTS, *NEAR_FLOATS, *NEAR_TEXTS, *NEAR_OTHERS, *NEAR_LISTS])


def value_for(path: tuple[str, ...]) -> st.SearchStrategy[Any]:
    default = default_of(path)
    plausible = st.just(default) if default is not None else near_misses
    return st.one_of(plausible, near_misses, anything)


def toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else toml_string(key)


def toml_string(text: str) -> str:
    out = []
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{toml_key(k)} = {toml_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(value)


@st.composite
def rig_documents(draw: st.DrawFn) -> str:
    """A TOML document giving values to some of the schema's fields (and maybe a stray one)."""
    chosen = draw(st.lists(st.sampled_from(FIELDS), unique=True, max_size=8))
    tables: dict[tuple[str, ...], dict[str, Any]] = {}
    for path in chosen:
        tables.setdefault(path[:-1], {})[path[-1]] = draw(value_for(path))
    if draw(st.booleans()):
        section = draw(st.sampled_from([(), ("serial",), ("timeouts",), ("sim", "interconnect")]))
        tables.setdefault(section, {})[draw(keys)] = draw(anything)
    kind = draw(st.sampled_from(["sim", "sim", "hardware", "", "watch"]))
    top = {"kind": kind, **tables.pop((), {})}
    lines = [f"{toml_key(k)} = {toml_value(v)}" for k, v in top.items()]
    for section, body in tables.items():
        lines.append("[" + ".".join(section) + "]")
        lines += [f"{toml_key(k)} = {toml_value(v)}" for k, v in body.items()]
    return "\n".join(lines) + "\n"


# --- the property --------------------------------------------------------------------------


def load_or_explain(rig_dir: Path, content: bytes) -> Rig | None:
    """Load ``content`` as a rig file: a Rig, or None after checking the error names the file."""
    path = rig_dir / "prop.toml"
    path.write_bytes(content)
    try:
        rig = load_rig("prop", rig_dir)
    except RigConfigError as exc:
        assert str(exc).startswith(f"{path}:"), str(exc)
        return None
    # What loads must also survive the trip to the simulated watch (JSON) unchanged, with every
    # number finite.
    dumped = rig.settings.model_dump_json()
    assert RigSettings.model_validate_json(dumped) == rig.settings
    assert all(math.isfinite(v) for v in _numbers(rig.settings.model_dump()))
    return rig


def _numbers(value: Any) -> list[float]:
    if isinstance(value, dict):
        return [n for v in value.values() for n in _numbers(v)]
    if isinstance(value, list):
        return [n for v in value for n in _numbers(v)]
    if isinstance(value, int | float) and not isinstance(value, bool):
        return [float(value)]
    return []


@PROPERTY
@given(rig_documents())
@example('kind = "sim"\n[timeouts]\nboot = inf\n')
@example('kind = "sim"\n[app]\nrpk = "a\\u0000b"\n')
@example('kind = "sim"\n[serial]\ncrash_marker = ""\n')
def test_any_rig_document_loads_or_is_a_rig_config_error(tmp_path: Path, document: str) -> None:
    load_or_explain(tmp_path, document.encode())


@PROPERTY
@given(st.binary(max_size=300))
@example(b"\xff\xfe")
@example(b"kind = 'sim'\ndescription = \"caf\xe9\"\n")
def test_any_bytes_load_or_are_a_rig_config_error(tmp_path: Path, content: bytes) -> None:
    load_or_explain(tmp_path, content)


@PROPERTY
@given(st.text(max_size=300))
def test_any_text_loads_or_is_a_rig_config_error(tmp_path: Path, content: str) -> None:
    load_or_explain(tmp_path, content.encode("utf-8", errors="surrogatepass"))


def test_the_schema_walk_finds_every_field() -> None:
    assert len(FIELDS) > 60
    assert {("kind",), ("serial", "baud"), ("sim", "interconnect", "loss_code")} <= set(FIELDS)


def test_the_documents_are_not_all_refused(tmp_path: Path) -> None:
    """The generator is not vacuous: documents that set several fields also load."""
    find(
        rig_documents(),
        lambda doc: doc.count(" = ") >= 4 and load_or_explain(tmp_path, doc.encode()) is not None,
        settings=settings(max_examples=2000, deadline=None, database=None),
    )


# Fields whose default is None (an optional path, a port) have nothing to write.
WITH_DEFAULTS = [path for path in FIELDS if default_of(path) is not None]


@pytest.mark.parametrize("path", WITH_DEFAULTS, ids=".".join)
def test_each_fields_default_written_as_toml_loads(tmp_path: Path, path: tuple[str, ...]) -> None:
    """The serialiser writes each default so that it reads back as that default."""
    default = default_of(path)
    section = "\n[" + ".".join(path[:-1]) + "]" if len(path) > 1 else ""
    kind = "" if path == ("kind",) else 'kind = "sim"'
    document = f"{kind}{section}\n{path[-1]} = {toml_value(default)}\n"
    rig = load_or_explain(tmp_path, document.encode())
    assert rig is not None, document
