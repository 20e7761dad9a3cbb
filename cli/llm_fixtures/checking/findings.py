"""What a check reports: one Finding per problem (or per file for `hash --all`), with a severity."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from llm_fixtures.escaping import printable

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

    def __post_init__(self) -> None:
        # Findings quote the file (a test id, a field): a lone surrogate in it is kept as its escape, so that
        # every output and the cache can write it.
        if not self.message.isascii():
            self.message = printable(self.message)
        if self.details and not _ascii(self.details):
            self.details = _printable(self.details)

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickled as its fields (the slots dataclass default goes through dataclasses.fields per object).
        return (Finding, (self.path, self.check, self.status, self.severity, self.message, self.details))


def _ascii(value: Any) -> bool:
    if isinstance(value, str):
        return value.isascii()
    if isinstance(value, dict):
        return all(_ascii(item) for item in value.values())
    if isinstance(value, list | tuple):
        return all(_ascii(item) for item in value)
    return True


def _printable(value: Any) -> Any:
    if isinstance(value, str):
        return value if value.isascii() else printable(value)
    if isinstance(value, dict):
        return {key: _printable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_printable(item) for item in value]
    return value


def at_least(finding: Finding, severity: Severity) -> bool:
    """Whether a finding is at or above a severity."""
    return SEVERITY_RANK[finding.severity] >= SEVERITY_RANK[severity]
