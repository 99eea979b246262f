"""How a failed test failed — the one classification, and the report's categories made from it.

A test on a rig fails in exactly one way: the watch crashed (``WatchCrashed``, *failed*), the
rig failed (a ``RigError``, *broken*), the product did not do what the test expected (an
assertion, *failed*), or the test itself broke (anything else, *broken*). ``classify`` decides
it, once, where the error is raised (the plugin); the class travels with the test's report
(its verdict) and its Allure result (the ``failure`` label), and everything else reads it from
there: the terminal's closing line, the exit status, Allure 3's categories (label matchers),
``pytest-vela report``'s count.

Allure 2 matches nothing but messages: its ``categories.json`` gets a message pattern made from
the same classes' exception names, which also classifies a result written without the label.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from pytest_vela.errors import RigError, WatchCrashed
from pytest_vela.report.summary import CRASH, PRODUCT, RIG, TEST

LABEL = "failure"  # the Allure label holding a failed result's class


@dataclass(frozen=True)
class FailureClass:
    key: str  # product | crash | rig | test
    name: str  # the report's category
    description: str
    status: str  # the Allure status of such a failure
    errors: tuple[type[BaseException], ...]  # raised as one of these (empty: anything else)


CLASSES = (
    FailureClass(
        RIG,
        "Rig infrastructure",
        "The rig failed (serial port, BLE adapter, flashing, lock, simulator), not the "
        "product: rerun on a healthy rig before filing a bug.",
        "broken",
        (RigError,),
    ),
    FailureClass(
        CRASH,
        "Watch crashed",
        "The firmware panicked during the test: the crash is the root cause, whatever the test "
        "saw next.",
        "failed",
        (WatchCrashed,),
    ),
    FailureClass(
        PRODUCT,
        "Product failures",
        "The watch app or its link did not do what the test expected.",
        "failed",
        (AssertionError,),
    ),
    FailureClass(TEST, "Test errors", "The test itself raised an unexpected error.", "broken", ()),
)
BY_KEY = {c.key: c for c in CLASSES}
BY_NAME = {c.name: c for c in CLASSES}


def classify(error: BaseException, product: tuple[type[BaseException], ...] = ()) -> FailureClass:
    """The class of ``error``; ``product`` names more exceptions that mean the product failed
    (pytest's ``fail``, which this layer does not import)."""
    for cls in CLASSES:
        if cls.errors and isinstance(error, cls.errors):
            return cls
        if cls.key == PRODUCT and product and isinstance(error, product):
            return cls
    return BY_KEY[TEST]


def _names(cls: FailureClass) -> list[str]:
    """The names of the class's exceptions and of all their subclasses."""
    found: set[str] = set()
    pending = list(cls.errors)
    while pending:
        error = pending.pop()
        found.add(error.__name__)
        pending.extend(error.__subclasses__())
    return sorted(found)


def message_pattern(cls: FailureClass) -> str | None:
    """The start of a result's message (``module.Class: text``) raised as one of the class's
    exceptions; None for a class told by its status alone (a product failure's plain
    ``AssertionError`` is matched after crashes, by status)."""
    if cls.key in (PRODUCT, TEST):
        return None
    return rf"(?:[\w.]+\.)?(?:{'|'.join(_names(cls))})\b"


def allure2_categories() -> list[dict[str, Any]]:
    """``categories.json`` for Allure 2 (its regular expressions match the whole message)."""
    found: list[dict[str, Any]] = []
    for cls in CLASSES:
        entry: dict[str, Any] = {
            "name": cls.name,
            "description": cls.description,
            "matchedStatuses": [cls.status],
        }
        pattern = message_pattern(cls)
        if pattern is not None:
            entry["messageRegex"] = f"(?s){pattern}.*"
        found.append(entry)
    return found


def allure3_categories() -> list[dict[str, Any]]:
    """The ``categories`` of an Allure 3 configuration: each matches its class's label."""
    return [
        {
            "id": cls.name,
            "name": cls.name,
            "matchers": {"statuses": [cls.status], "labels": {LABEL: f"^{cls.key}$"}},
        }
        for cls in CLASSES
    ]


def class_of_result(result: dict[str, Any]) -> FailureClass | None:
    """A failed Allure result's class: its label, else (a result written without it) the
    Allure 2 rule; None for a result that did not fail."""
    status = result.get("status")
    if status not in ("failed", "broken"):
        return None
    for label in result.get("labels") or []:
        if label.get("name") == LABEL and label.get("value") in BY_KEY:
            return BY_KEY[str(label["value"])]
    message = (result.get("statusDetails") or {}).get("message") or ""
    for cls in CLASSES:
        pattern = message_pattern(cls)
        if status == cls.status and (pattern is None or re.match(pattern, message)):
            return cls
    return None
