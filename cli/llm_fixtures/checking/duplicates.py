"""The `duplicates` check: the same normalized request stored several times (under several test ids)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from llm_fixtures.checking.findings import Finding
from llm_fixtures.hashing import KEY_ERRORS, RuleKeys, family_of, http_key, rule_named, sha256_key, tool_key
from llm_fixtures.humanizing import plural

HTTP_RULE = rule_named("http")


def request_identity(raw: dict[str, Any], keys: RuleKeys | None = None) -> str | None:
    """A digest of what a request asks, test id left out: the current key of its family without `test_id`.
    None for requests without a reproducible key."""
    family = keys.family if keys is not None else family_of(raw)
    try:
        if family == "inference":
            digest = (keys or RuleKeys(raw)).inference_digest(test_id=False)
            return "inference:" + digest if digest is not None else None
        if family == "http":
            key = keys.key(HTTP_RULE) if keys is not None else http_key(raw)  # its payload normalized once
            if key is None:
                return None
            return "http:" + sha256_key({name: value for name, value in key.items() if name != "test_id"})
        if family == "tool":
            return "tool:" + sha256_key(tool_key(raw))
    except KEY_ERRORS:  # an unserializable request has no identity
        return None
    return None


@dataclass(frozen=True, slots=True)
class Copy:
    """One file holding a request: where it is, its test id and its size."""

    path: str
    test_id: str | None
    size: int


def find_duplicates(copies: Iterable[tuple[str, Copy]]) -> list[Finding]:
    """One info finding per group of two or more files with the same request identity, on the group's first
    path; `redundant_bytes` is what all copies but the largest cost."""
    groups: dict[str, list[Copy]] = defaultdict(list)
    for identity, copy in copies:
        groups[identity].append(copy)
    findings: list[Finding] = []
    for identity, members in groups.items():
        if len(members) < 2:
            continue
        members.sort(key=lambda member: member.path)
        redundant = sum(member.size for member in members) - max(member.size for member in members)
        test_ids = sorted({member.test_id or "" for member in members})
        findings.append(
            Finding(
                path=members[0].path,
                check="duplicates",
                status="duplicate",
                severity="info",
                message=f"the same request is stored {len(members)} times ({plural(len(test_ids), 'test id')}); "
                f"{redundant:,} redundant bytes",
                details={
                    "identity": identity,
                    "copies": len(members),
                    "redundant_bytes": redundant,
                    "paths": [member.path for member in members],
                    "test_ids": test_ids,
                },
            )
        )
    findings.sort(key=lambda finding: finding.path)
    return findings
