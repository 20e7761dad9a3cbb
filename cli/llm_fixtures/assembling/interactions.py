"""The Gemini Interactions fold (`interaction.start` ... `interaction.complete`; ASSEMBLY §7 leaves it out of
scope, so the shape is ours): the interaction envelope plus its content blocks, deltas merged generically."""

from __future__ import annotations

from typing import Any

from llm_fixtures.assembling.items import Item, walk
from llm_fixtures.assembling.merging import as_dict, as_int, finish, merge_field

KIND = "gemini.interactions"


def fold(items: list[Item]) -> tuple[dict[str, Any], list[str]]:
    """Fold Interactions events: `content.start` opens block `index`, `content.delta` merges into it (text
    concatenated, its `type` kept from the start), `interaction.complete` gives status and usage."""
    warnings: list[str] = []
    interaction: dict[str, Any] = {}
    outputs: dict[int, dict[str, Any]] = {}
    complete = False
    read = walk(items)
    warnings.extend(read.warnings)
    for _, event in read.payloads:
        kind = event.get("event_type")
        index = as_int(event.get("index"))
        if kind is None and isinstance(event.get("outputs"), list):  # a non-stream Interaction object
            interaction.update({k: v for k, v in event.items() if v is not None and k != "outputs"})
            outputs = {n: dict(as_dict(o)) for n, o in enumerate(event["outputs"])}
            complete = True
        elif kind in ("interaction.start", "interaction.complete"):
            interaction.update({k: v for k, v in as_dict(event.get("interaction")).items() if v is not None})
            complete = complete or kind == "interaction.complete"
        elif kind == "interaction.status_update" and event.get("status") is not None:
            interaction["status"] = event["status"]
        elif kind == "content.start" and index is not None:
            outputs[index] = dict(as_dict(event.get("content")))
        elif kind == "content.delta" and index is not None:
            block = outputs.setdefault(index, {})
            for key, value in as_dict(event.get("delta")).items():
                if value is not None and not (key == "type" and "type" in block):
                    block[key] = merge_field(key, block.get(key), value)
    if not complete and read.stream_error is None:
        warnings.append("truncated stream: no interaction.complete event")
    result = read.head(KIND)
    result.update(
        {
            "id": interaction.get("id"),
            "model": interaction.get("model"),
            "status": interaction.get("status"),
            "role": interaction.get("role"),
            "outputs": [finish(outputs[index]) for index in sorted(outputs)],
            "usage": interaction.get("usage"),
        }
    )
    return result, warnings
