"""The `normalization` check: response ids, `created` and Ollama timestamps the recorder would have normalized."""

from __future__ import annotations

from typing import Any

from llm_fixtures.checking.findings import Finding
from llm_fixtures.facts import hash_of_name
from llm_fixtures.humanizing import plural
from llm_fixtures.normalizing import describe_changes


def check_normalization(path: str, name: str, raw: dict[str, Any]) -> list[Finding]:
    """A warning listing the fields `fixtures normalize` would change."""
    changes = describe_changes(raw, hash_of_name(name))
    if not changes:
        return []
    return [
        Finding(
            path=path,
            check="normalization",
            status="unnormalized",
            severity="warning",
            message=f"response not normalized ({plural(len(changes), 'field')}); `fixtures normalize --write` fixes it",
            details={"changes": changes},
        )
    ]
