"""``link_profile``: the link model a rig's watch is expected to follow (the ``documented``
model of the vendor's API page, or ``openvela``, what the watch's public source does), and,
for each point where the two differ, which one the watch behaved like.

A test that meets such a difference states both expectations; the rig decides which is
checked (``RigSettings.expected_link_profile``): a simulated rig its own profile, a hardware
rig the one its file declares. Where none is declared the test fails only when the watch
follows neither, and the run tells, per difference, which one it followed: in a "link
profile" section at the end of the terminal output, and on each test in Allure (a
``link_profile`` label and an attachment). Under xdist the observations reach the controller
as the reports' user properties.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import allure
import pytest

from pytest_vela.rigfile.link_rules import PROFILES
from pytest_vela.rigfile.loader import Rig

RECORD = "vela_link_profile"  # the user property of one observation


def verdict(matched: set[str]) -> str:
    """What a set of matching profiles is called."""
    if not matched:
        return "neither"
    return next(iter(matched)) if len(matched) == 1 else "either (not told apart)"


@dataclass
class LinkProfile:
    """The link model this test's watch is expected to follow, and the checks of the points
    where the models differ."""

    rig: str
    expected: str | None  # None: the run tells which one the watch followed
    _node: pytest.Item

    def only(self, profile: str, why: str) -> None:
        """Skip unless the watch is expected to follow ``profile`` (a check that means
        nothing, or a timing race, under the other)."""
        if self.expected != profile:
            said = self.expected or "any (not declared)"
            pytest.skip(
                f"checks the {profile} profile only; rig {self.rig!r} expects {said}: " + why
            )

    def check(self, difference: str, seen: str, **matches: bool) -> None:
        """One difference observed: ``documented=`` and ``openvela=`` say whether what was
        ``seen`` is what each profile does. Fails when it is not what the rig expects (or,
        with nothing expected, what neither does)."""
        __tracebackhide__ = True
        if set(matches) != set(PROFILES):
            raise TypeError(f"check({difference!r}) needs exactly {', '.join(PROFILES)}=…")
        matched = {name for name, ok in matches.items() if ok}
        told = verdict(matched)
        record = {"rig": self.rig, "difference": difference, "matched": sorted(matched)}
        self._node.user_properties.append((RECORD, json.dumps(record)))
        checked = self.expected or "any (the run tells)"
        allure.dynamic.label("link_profile", f"{difference}: {told}")
        allure.attach(
            f"{difference}: the watch behaved like {told}\nseen: {seen}\nexpected: {checked}\n",
            name=f"link profile: {difference}",
            attachment_type=allure.attachment_type.TEXT,
        )
        if self.expected is not None and self.expected not in matched:
            raise AssertionError(
                f"{difference}: rig {self.rig!r} expects the {self.expected} profile, but the "
                f"watch behaved like {told} (seen: {seen})"
            )
        if not matched:
            raise AssertionError(
                f"{difference}: the watch follows neither the documented nor the openvela "
                f"profile (seen: {seen})"
            )


@pytest.fixture
def link_profile(request: pytest.FixtureRequest, rig: Rig) -> LinkProfile:
    """The link model this rig's watch is expected to follow: ``.expected`` is
    ``"documented"``, ``"openvela"`` or None (nothing declared: the run tells, per
    difference, which one the watch followed). ``.check(difference, seen, documented=bool,
    openvela=bool)`` checks one point where the two differ; ``.only(profile, why)`` skips a
    test that checks one profile only."""
    return LinkProfile(rig.name, rig.settings.expected_link_profile, request.node)


def observations(reports: list[Any]) -> dict[str, dict[str, list[set[str]]]]:
    """rig → difference → the profiles each observation matched."""
    found: dict[str, dict[str, list[set[str]]]] = defaultdict(lambda: defaultdict(list))
    for report in reports:
        if getattr(report, "when", None) != "call":
            continue
        for key, value in getattr(report, "user_properties", ()):
            if key == RECORD:
                record = json.loads(value)
                found[record["rig"]][record["difference"]].append(set(record["matched"]))
    return found


def summary(observed: list[set[str]]) -> str:
    """One difference over every test that observed it."""
    if not all(observed):
        return "neither"
    common = set.intersection(*observed)
    return verdict(common) if common else "mixed (tests disagree)"


def pytest_terminal_summary(terminalreporter: Any) -> None:
    reports = [r for kind in terminalreporter.stats.values() for r in kind]
    found = observations(reports)
    if not found:
        return
    terminalreporter.write_sep("-", "link profile")
    for rig, differences in sorted(found.items()):
        terminalreporter.write_line(f"rig {rig}: which profile the watch behaved like")
        for name, seen in sorted(differences.items()):
            terminalreporter.write_line(f"  {name}: {summary(seen)}")
