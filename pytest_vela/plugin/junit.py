"""The JUnit file (``--junitxml``) as CI servers read it (Jenkins, GitLab): each test case of a
rig carries its rig, its class in words and what the rig ran as properties, and the element of
its failure follows its class — a rig fault is an ``<error>`` (the infrastructure broke), a
product failure or a watch crash a ``<failure>``, whichever phase it came in.

pytest's own writer gives each test case the properties of its last report, and calls what
failed in the test's body a failure and anything else an error; the properties are added to
that report here, and the writer's file is put right once it is written (in the process that
writes it: the controller under xdist).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from pytest_vela.plugin.record import TestRecord
from pytest_vela.report.summary import CRASH, PRODUCT, RIG, TEST

CATEGORY = "category"
WORDS = {
    PRODUCT: "product failure",
    CRASH: "watch crash",
    RIG: "rig fault",
    TEST: "test error",
}
AS_ERROR = {WORDS[RIG], WORDS[TEST]}
AS_FAILURE = {WORDS[PRODUCT], WORDS[CRASH]}
IDENTITY = ("firmware", "os", "model", "app", "app.version", "app.sha256", "agent")


def add_properties(report: pytest.TestReport, record: TestRecord, identity: dict[str, str]) -> None:
    """The test's properties, on its last report (the one pytest's writer reads them from)."""
    if record.failure is not None:
        category = WORDS.get(record.failure.kind, record.failure.kind)
    else:
        category = "skipped" if record.skipped else "passed"
    report.user_properties.append(("rig", record.rig))
    report.user_properties.append((CATEGORY, category))
    for key in IDENTITY:
        if identity.get(key):
            report.user_properties.append((key, identity[key]))


def categorised(xml: Path) -> None:
    """Rewrite the JUnit file so that each failed test case's element follows its category,
    and the suites' counts follow the elements."""
    tree = ET.parse(xml)
    for suite in tree.iter("testsuite"):
        for case in suite.iter("testcase"):
            _retag(case)
        suite.set("errors", str(sum(1 for _ in suite.iter("error"))))
        suite.set("failures", str(sum(1 for _ in suite.iter("failure"))))
    tree.write(xml, encoding="utf-8", xml_declaration=True)


def _retag(case: ET.Element) -> None:
    category = next(
        (p.get("value") for p in case.iter("property") if p.get("name") == CATEGORY), None
    )
    if category in AS_ERROR:
        wrong, right = "failure", "error"
    elif category in AS_FAILURE:
        wrong, right = "error", "failure"
    else:
        return
    for element in case.findall(wrong):
        element.tag = right


class JUnitCategories:
    """Registered where pytest writes the JUnit file; runs after its writer."""

    def __init__(self, xml: Path) -> None:
        self.xml = xml

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self) -> None:
        if self.xml.is_file():
            categorised(self.xml)
