"""The `hash` check: does the file name follow from the file's own content, and under which rule."""

from __future__ import annotations

from typing import Any

from llm_fixtures.checking.findings import Finding, Severity
from llm_fixtures.hashing import HashVerdict, RuleKeys, verify_name

SEVERITY: dict[str, Severity] = {"ok": "info", "stale": "error", "mismatch": "error", "unverifiable": "info"}


def check_hash(path: str, name: str, raw: dict[str, Any], keys: RuleKeys | None = None) -> tuple[Finding, HashVerdict]:
    """One finding for every file, `ok` included (the caller drops those unless asked for them)."""
    verdict = verify_name(name, raw, keys=keys)
    details: dict[str, Any] = {"rule": verdict.rule, "expected_name": verdict.expected_name}
    if verdict.cause is not None:
        details["cause"] = verdict.cause
    finding = Finding(
        path=path,
        check="hash",
        status=verdict.status,
        severity=SEVERITY[verdict.status],
        message=verdict.message,
        details=details,
    )
    return finding, verdict
