"""The report's categories, one set of rules for the terminal and both Allure generators.

A test on a rig fails in exactly one way: the watch crashed (``WatchCrashed``, *failed*), the
rig failed (a ``RigError``, *broken*), the product did not do what the test expected (any other
assertion, *failed*), or the test itself broke (any other exception, *broken*). Allure matches a
result's status and message (the exception's ``module.Class: text``), first rule first.
Allure 2 reads ``categories.json`` (Java regular expressions matched against the whole
message); Allure 3 takes them from its configuration (JavaScript ones, searched).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pytest_vela.errors import rig_fault_names

RIG_INFRASTRUCTURE = "Rig infrastructure"
WATCH_CRASHED = "Watch crashed"
PRODUCT_FAILURES = "Product failures"
TEST_ERRORS = "Test errors"


@dataclass(frozen=True)
class Category:
    name: str
    description: str
    status: str
    exceptions: tuple[str, ...] = ()  # exception class names the message must start with


def categories() -> list[Category]:
    return [
        Category(
            RIG_INFRASTRUCTURE,
            "The rig failed (serial port, BLE adapter, flashing, lock, simulator), not the "
            "product: rerun on a healthy rig before filing a bug.",
            "broken",
            tuple(rig_fault_names()),
        ),
        Category(
            WATCH_CRASHED,
            "The firmware panicked during the test: the crash is the root cause, whatever the "
            "test saw next.",
            "failed",
            ("WatchCrashed",),
        ),
        Category(
            PRODUCT_FAILURES,
            "The watch app or its link did not do what the test expected.",
            "failed",
        ),
        Category(TEST_ERRORS, "The test itself raised an unexpected error.", "broken"),
    ]


def _names(category: Category) -> str:
    return "|".join(category.exceptions)


def allure2_categories() -> list[dict[str, Any]]:
    """``categories.json`` for Allure 2 (its regular expressions match the whole message)."""
    found: list[dict[str, Any]] = []
    for category in categories():
        entry: dict[str, Any] = {
            "name": category.name,
            "description": category.description,
            "matchedStatuses": [category.status],
        }
        if category.exceptions:
            entry["messageRegex"] = rf"(?s)(?:[\w.]+\.)?(?:{_names(category)})\b.*"
        found.append(entry)
    return found


def allure3_categories() -> list[dict[str, Any]]:
    """The ``categories`` of an Allure 3 configuration (regular expressions searched)."""
    found: list[dict[str, Any]] = []
    for category in categories():
        matcher: dict[str, Any] = {"statuses": [category.status]}
        if category.exceptions:
            matcher["message"] = rf"^(?:[\w.]+\.)?(?:{_names(category)})\b"
        found.append({"id": category.name, "name": category.name, "matchers": matcher})
    return found
