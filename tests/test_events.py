"""EventLog semantics: waits hand out each event once, nothing is removed, failures show the
whole timeline."""

from __future__ import annotations

import threading
import time
import xml.etree.ElementTree as ET

import pytest

from pytest_vela.errors import EventTimeout
from pytest_vela.peer.events import Event, EventLog
from pytest_vela.report.sequence_svg import render_svg


def _log(*kinds: str) -> EventLog:
    log = EventLog(started=1000.0)
    for seq, kind in enumerate(kinds, 1):
        code = 1006 if kind in ("error", "close") else None
        log.append(Event(kind, 1000.0 + seq / 100, code=code, seq=seq))
    return log


def test_each_wait_returns_the_earliest_event_not_returned_before() -> None:
    log = _log("open", "message", "open")
    first = log.wait_for("open", timeout=0)
    second = log.wait_for("open", timeout=0)
    assert (first.seq, second.seq) == (1, 3)
    with pytest.raises(EventTimeout):
        log.wait_for("open", timeout=0)
    assert len(log) == 3  # handed out, never removed
    assert log.kinds() == ["open", "message", "open"]


def test_wait_matches_fields() -> None:
    log = _log("close", "error")
    assert log.wait_for("error", timeout=0, code=1006).seq == 2
    with pytest.raises(EventTimeout, match="no close, code=1000"):
        log.wait_for("close", timeout=0, code=1000)


def test_wait_returns_an_event_that_arrives_during_the_wait() -> None:
    log = EventLog()

    def later() -> None:
        time.sleep(0.05)
        log.append(Event("message", time.time(), data="late"))

    threading.Thread(target=later).start()
    assert log.wait_for("message", timeout=5).data == "late"


def test_a_timeout_is_an_assertion_that_shows_the_timeline() -> None:
    log = _log("open", "message")
    with pytest.raises(AssertionError) as raised:
        log.wait_for("close", timeout=0.01)
    text = str(raised.value)
    assert "timeline" in text
    assert "#1   open" in text and "#2   message" in text


def test_bad_kinds_and_fields_are_refused() -> None:
    log = _log("open")
    with pytest.raises(ValueError, match="unknown event kind 'opened'"):
        log.wait_for("opened", timeout=0)
    with pytest.raises(TypeError, match="no field"):
        log.wait_for("open", timeout=0, reconnected=True)
    with pytest.raises(ValueError):
        log.assert_order(["open", "closed"])


def test_assert_order_accepts_a_subsequence() -> None:
    _log("open", "message", "error", "message", "close", "open").assert_order(
        ["error", "close", "open"]
    )


def test_assert_order_failure_names_what_was_missing_and_shows_the_timeline() -> None:
    log = _log("close", "error", "open")
    with pytest.raises(AssertionError) as raised:
        log.assert_order(["error", "close", "open"])
    text = str(raised.value)
    assert "matched ['error'] and then no 'close'" in text
    assert text.count("\n  ") == 3  # one timeline row per event


def test_the_sequence_diagram_has_a_row_per_event() -> None:
    log = _log("open", "message", "error", "close")
    svg = ET.fromstring(render_svg(list(log), log.started))
    rows = [g for g in svg.iter("{http://www.w3.org/2000/svg}g") if g.get("data-seqs")]
    assert [g.get("data-seqs") for g in rows] == ["1", "2", "3", "4"]
    title = rows[2].find("{http://www.w3.org/2000/svg}title")
    assert title is not None and (title.text or "").startswith("#3 error 1006 DISCONNECTED")


@pytest.mark.parametrize("data", [5, 2.5, True, list(range(100)), {str(k): k for k in range(40)}])
def test_a_timeout_shows_events_whose_data_is_not_a_string(data: object) -> None:
    # A watch that parses the phone's message hands its app any JSON value: the timeline of a
    # failing wait must still say so, not fail on it.
    log = EventLog(started=1000.0)
    log.append(Event("message", 1000.5, data=data, seq=1))  # type: ignore[arg-type]
    with pytest.raises(EventTimeout) as raised:
        log.wait_for("close", timeout=0)
    row = str(raised.value).splitlines()[-1]
    assert "#1   message" in row and f"data={repr(data)[:20]}" in row


@pytest.mark.parametrize("ts", [1e300, -1e300, 1e13])
def test_the_timeline_shows_a_time_no_date_holds(ts: float) -> None:
    # A garbled but well-formed watch timestamp maps to a host time beyond any date.
    log = EventLog(started=1000.0)
    log.append(Event("open", ts, seq=1, watch_ts=ts))
    with pytest.raises(EventTimeout) as raised:
        log.wait_for("close", timeout=0)
    assert f"{ts:.6g}" in str(raised.value).splitlines()[-1]
