"""Plain-text protocols through ``peer``: a ``str`` goes verbatim, ``expect_text`` gives the
text as the watch app sent it, ``collect`` and ``expect_no_message`` wait without failing (the
agent plays the watch app; what it receives is in the event log, what it sends goes to the
phone)."""

from __future__ import annotations

import time

import pytest

from pytest_vela.peer.interconnect import Interconnect
from pytest_vela.peer.phone import Peer


def test_a_string_reaches_onmessage_verbatim_and_an_object_as_its_json(
    interconnect: Interconnect, peer: Peer
) -> None:
    peer.send("start")
    peer.send("00e1733333333333aGVsbG8=")
    peer.send({"op": "ping", "n": 1})
    texts = [interconnect.events.wait_for("message", timeout=5).data for _ in range(3)]
    assert texts == ["start", "00e1733333333333aGVsbG8=", '{"op": "ping", "n": 1}']


def test_expect_text_returns_the_text_the_watch_sent(
    interconnect: Interconnect, peer: Peer
) -> None:
    assert interconnect.send({"n": 1, "s": "é"}).ok
    assert peer.expect_text(timeout=5) == '{"n":1,"s":"é"}'
    assert interconnect.send({"n": 2}).ok
    assert peer.expect_message(timeout=5) == {"n": 2}  # read in order, each once
    assert peer.texts == ['{"n":1,"s":"é"}', '{"n":2}']
    assert peer.messages == [{"n": 1, "s": "é"}, {"n": 2}]


def test_collect_returns_what_came_in_the_time_and_nothing_is_no_failure(
    interconnect: Interconnect, peer: Peer
) -> None:
    assert peer.collect(0.2) == []
    for n in range(3):
        assert interconnect.send({"n": n}).ok
    assert peer.collect(0.3) == [{"n": 0}, {"n": 1}, {"n": 2}]
    assert interconnect.send({"n": 3}).ok
    assert peer.collect(0.3, text=True) == ['{"n":3}']
    with pytest.raises(AssertionError, match=r"no message within 0\.2 s"):
        peer.expect_message(timeout=0.2)  # every one was read by collect


def test_expect_no_message_passes_on_silence_and_names_what_came(
    interconnect: Interconnect, peer: Peer
) -> None:
    started = time.monotonic()
    peer.expect_no_message(within=0.3)
    assert time.monotonic() - started >= 0.3
    assert interconnect.send({"late": True}).ok
    with pytest.raises(AssertionError, match=r'expected no message .* #1: \{"late":true\}'):
        peer.expect_no_message(within=1.0)
