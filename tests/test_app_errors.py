"""Uncaught JS errors read from console lines, each with its stack."""

from __future__ import annotations

from pytest_vela.device.app_errors import AppErrors
from pytest_vela.rigfile.schema import SerialSettings


def feed(errors: AppErrors, lines: list[str]) -> None:
    for n, line in enumerate(lines):
        errors(line, float(n))


def test_an_error_keeps_its_stack_lines_and_ends_at_the_next_line() -> None:
    errors = AppErrors(SerialSettings().app_error_marker)
    feed(
        errors,
        [
            "[    1.000000] [ INFO] [JS] before",
            "[    1.100000] [ERROR] [JS] Uncaught Error: poison",
            "[    1.100001] [ERROR] [JS]     at Object.handle (pages/index/index.js:117:13)",
            "[    1.100002] [ERROR] [JS]     at conn.onmessage (pages/index/index.js:104:41)",
            "nsh> ",
            "    at not-a-stack-line-any-more (x.js:1:1)",
            "[    2.000000] [ERROR] [JS] Uncaught (in promise) RangeError: late",
        ],
    )
    first, second = errors.errors
    assert first.line.endswith("Uncaught Error: poison")
    assert [line.split("at ", 1)[1] for line in first.stack] == [
        "Object.handle (pages/index/index.js:117:13)",
        "conn.onmessage (pages/index/index.js:104:41)",
    ]
    assert second.line.endswith("Uncaught (in promise) RangeError: late")
    assert second.stack == []
    assert errors.since(1) == [second]
    assert "pages/index/index.js:117:13" in first.render()


def test_ordinary_lines_are_not_errors() -> None:
    errors = AppErrors(SerialSettings().app_error_marker)
    feed(errors, ["[JS] caught it: Error: fine", "Uncaught elsewhere", "PANIC!!! not ours"])
    assert errors.errors == []
