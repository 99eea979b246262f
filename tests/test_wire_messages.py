"""``decode``: a garbled or hostile message is a ``ProtocolError``, never another exception."""

from __future__ import annotations

import pytest

from pytest_vela.errors import ProtocolError
from pytest_vela.wire.messages import EventReport, decode


@pytest.mark.parametrize("opener", ["[", '{"a":'])
def test_json_nested_too_deeply_to_parse_is_a_protocol_error(opener: str) -> None:
    # json raises RecursionError beyond ~1000 levels; a cut mirror line can hold that many.
    with pytest.raises(ProtocolError, match="nested too deeply"):
        decode(opener * 5000)
    with pytest.raises(ProtocolError, match="nested too deeply"):
        decode((opener * 5000).encode())


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity"])
def test_numbers_json_has_no_words_for_are_refused(number: str) -> None:
    with pytest.raises(ProtocolError, match=f"{number} is not a JSON number"):
        decode(f'{{"t":"evt","seq":1,"kind":"open","ts":{number}}}')
    with pytest.raises(ProtocolError, match="not JSON"):
        decode(f'{{"t":"app","data":"x","extra":[{number}]}}')


def test_a_number_beyond_a_float_is_refused_where_a_number_is_required() -> None:
    with pytest.raises(ProtocolError, match="ts must be a finite number"):
        decode('{"t":"evt","seq":1,"kind":"open","ts":1e400}')  # reads as infinity
    with pytest.raises(ProtocolError, match="clock must be a finite number"):
        decode('{"t":"res","id":1,"ok":true,"clock":-1e400}')
    with pytest.raises(ProtocolError, match="ts must be a finite number"):
        decode(f'{{"t":"evt","seq":1,"kind":"open","ts":{10**400}}}')  # no float holds it


def test_large_but_finite_numbers_are_still_numbers() -> None:
    assert decode('{"t":"evt","seq":1,"kind":"open","ts":1e300}') == EventReport(1, "open", 1e300)
    assert decode(f'{{"t":"evt","seq":1,"kind":"open","ts":{10**300}}}') == EventReport(
        1, "open", 10**300
    )
