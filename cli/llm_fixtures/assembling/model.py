"""The result of stream assembly as a pydantic model (what `show --assemble` prints and tests dump)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class Assembly(BaseModel):
    """The final message of a response. `result` has the shape of `expected` in expected-assembly.json for
    its kind (`kind` and `n_items` included); `warnings` says what was odd about the stream."""

    kind: str
    result: dict[str, Any]
    warnings: list[str] = Field(default_factory=list)
