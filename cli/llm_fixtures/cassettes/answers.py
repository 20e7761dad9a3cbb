"""The final answer of each interaction: its response body handed to `assembling`, as a recording's body is.

`fold_interaction` is the one bridge between cassettes and the assembler: an SSE body goes in as its text, an
NDJSON body (Ollama) or a JSON array of chunks (Gemini's `streamGenerateContent` without `alt=sse`) as the list of
its objects, any other JSON answer as the object itself. The result has the shape `show --assemble --json` gives a
recording, so a cassette's stream and a recording's compare.
"""

from __future__ import annotations

from typing import Any

import orjson

from llm_fixtures.assembling import fold_body, sse
from llm_fixtures.cassettes.bodies import decode
from llm_fixtures.cassettes.model import Interaction


def fold_interaction(interaction: Interaction) -> tuple[str, dict[str, Any], list[str]]:
    """(kind, result, warnings) of an interaction's response, by the rules recordings are assembled by."""
    response = interaction.response
    decoded = decode(response.body, response.headers)
    warnings = [note for note in decoded.notes if not note.endswith(" decoded")]
    if decoded.kind == "sse":
        kind, result, more = fold_body(decoded.text or "", is_streaming=True)
        if kind == "unknown":
            return _events(decoded.text or "", warnings)
    elif decoded.kind == "ndjson":
        kind, result, more = fold_body(decoded.json, is_streaming=True)
    elif decoded.kind == "json":
        streamed = isinstance(decoded.json, list)
        kind, result, more = fold_body(decoded.json, is_streaming=streamed)
    else:
        what = {"none": "no response body", "binary": "a binary body", "text": "a text body"}[decoded.kind]
        type_note = f" ({decoded.content_type})" if decoded.content_type else ""
        kind = "none" if decoded.kind == "none" else "unknown"
        return kind, {"kind": kind, "n_items": 0}, [*warnings, f"nothing to assemble: {what}{type_note}"]
    return kind, result, [*warnings, *more]


def _events(text: str, warnings: list[str]) -> tuple[str, dict[str, Any], list[str]]:
    """An event stream of no LLM dialect (Replicate's text tokens, A2A's JSON-RPC events): what its data lines
    carry, as text joined (when none carries a JSON object) or as the list of events."""
    events = [event for event in sse.parse_text(text) if event.data.strip() != "[DONE]"]
    parsed: list[dict[str, Any]] = []
    for event in events:
        try:
            data: Any = orjson.loads(event.data)
        except orjson.JSONDecodeError:
            data = event.data
        parsed.append({"event": event.name, "data": data})
    if not any(item["data"] and isinstance(item["data"], dict | list) for item in parsed):  # `done` events: `{}`
        joined = "".join(str(item["data"]) for item in parsed if isinstance(item["data"], str))
        result = {"kind": "sse.text", "n_items": len(events), "text": joined}
        return "sse.text", result, [*warnings, "no LLM stream dialect: the data lines' text, joined"]
    result = {"kind": "sse.events", "n_items": len(events), "events": parsed}
    return "sse.events", result, [*warnings, "no LLM stream dialect: the events as sent"]
