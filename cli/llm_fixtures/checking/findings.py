"""What a check reports: one Finding per problem (or per file for `hash --all`), with a severity."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Severity = Literal["info", "warning", "error"]
CheckName = Literal["hash", "place", "normalization", "secrets", "schema", "duplicates", "size"]

CHECK_NAMES: tuple[CheckName, ...] = ("hash", "place", "normalization", "secrets", "schema", "duplicates", "size")
SEVERITY_RANK: dict[str, int] = {"info": 0, "warning": 1, "error": 2}


@dataclass(slots=True)
class Finding:
    """One result of one check on one file. `status` is the check's own word (`stale`, `misplaced`, ...);
    `details` holds what a script needs (the expected name, the masked secret, the byte counts).

    A dataclass rather than a pydantic model: thousands are made per run, cached and sent between processes,
    and `--json` writes them with orjson in field order."""

    path: str
    check: CheckName
    status: str
    severity: Severity
    message: str
    details: dict[str, Any] = field(default_factory=dict)

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickled as its fields (the slots dataclass default goes through dataclasses.fields per object).
        return (Finding, (self.path, self.check, self.status, self.severity, self.message, self.details))


def at_least(finding: Finding, severity: Severity) -> bool:
    """Whether a finding is at or above a severity."""
    return SEVERITY_RANK[finding.severity] >= SEVERITY_RANK[severity]
