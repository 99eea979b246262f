"""Check results and how they are shown.

Every check ends in one line a developer can act on: what was found and, when it is not a pass,
the one change that fixes it. The same data is rendered for people and as JSON for machines.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from enum import StrEnum


class Status(StrEnum):
    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"


@dataclass(frozen=True)
class Check:
    """One verdict: ``id`` is stable (for scripts), ``summary`` says what was found."""

    id: str
    status: Status
    summary: str
    remedy: str = ""

    def to_dict(self) -> dict[str, str]:
        data = asdict(self)
        data["status"] = self.status.value
        return data


@dataclass
class Report:
    """The doctor's verdicts for one quick app project, in the order they were made."""

    app_dir: str
    android_package: str
    checks: list[Check] = field(default_factory=list)

    def add(self, check_id: str, status: Status, summary: str, remedy: str = "") -> Check:
        check = Check(check_id, status, summary, remedy)
        self.checks.append(check)
        return check

    def passed(self, check_id: str, summary: str) -> Check:
        return self.add(check_id, Status.PASS, summary)

    def failed(self, check_id: str, summary: str, remedy: str) -> Check:
        return self.add(check_id, Status.FAIL, summary, remedy)

    def warned(self, check_id: str, summary: str, remedy: str) -> Check:
        return self.add(check_id, Status.WARN, summary, remedy)

    @property
    def ok(self) -> bool:
        """True when nothing failed; warnings do not block."""
        return not self.failures

    @property
    def failures(self) -> list[Check]:
        return [c for c in self.checks if c.status is Status.FAIL]

    def get(self, check_id: str) -> Check:
        for check in self.checks:
            if check.id == check_id:
                return check
        raise KeyError(check_id)

    def count(self, status: Status) -> int:
        return sum(1 for c in self.checks if c.status is status)

    def to_json(self) -> str:
        return json.dumps(
            {
                "ok": self.ok,
                "app_dir": self.app_dir,
                "android_package": self.android_package,
                "checks": [c.to_dict() for c in self.checks],
            },
            indent=2,
            ensure_ascii=False,
        )

    def render(self) -> str:
        """Human-readable report: one line per check, the remedy indented under it."""
        lines = [f"pytest-vela doctor: {self.app_dir} (Android package {self.android_package})"]
        for check in self.checks:
            lines.append(f"  {check.status.value.upper():<4}  {check.summary}")
            if check.remedy:
                lines.append(f"        fix: {check.remedy}")
        lines.append(
            f"{self.count(Status.FAIL)} failed, {self.count(Status.WARN)} warning(s), "
            f"{self.count(Status.PASS)} passed"
        )
        return "\n".join(lines)
