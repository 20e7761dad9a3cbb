"""The `{"__type__", "__data__"}` envelope of a stored body item: read as data (the type is a string, never a
class to load), without pydantic, so that folding a stream never pays for the models."""

from __future__ import annotations

from typing import Any


def parse_envelope(item: Any) -> tuple[str | None, Any]:
    """`(type name, data)` of a stored body item; `(None, item)` when it is not an envelope."""
    if isinstance(item, dict) and "__type__" in item and "__data__" in item:
        type_name = item["__type__"]
        return (type_name if isinstance(type_name, str) else None), item["__data__"]
    return None, item
