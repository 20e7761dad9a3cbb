"""The `schema` check: files the models reject, empty streams, `is_streaming` that disagrees with the body."""

from __future__ import annotations

from typing import Any

from llm_fixtures.checking.findings import Finding

_SSE_PREFIXES = ("data:", "event:", "id:", "retry:", ":")


def unreadable(path: str, reason: str) -> Finding:
    """A file that cannot be read, parsed or validated as a recording."""
    return Finding(path=path, check="schema", status="invalid", severity="error", message=reason)


def _looks_streamed(body: list[Any]) -> bool:
    first = body[0]
    if isinstance(first, str):
        return first.startswith(_SSE_PREFIXES)
    # An envelope (`{"__type__", "__data__"}`) of a stream chunk class; envelopes.parse_envelope says the same,
    # but importing the models would import pydantic for every run.
    type_name = first.get("__type__") if isinstance(first, dict) and "__data__" in first else None
    return isinstance(type_name, str) and type_name.endswith("Chunk")


def _stream_requested(request: Any) -> bool | None:
    """The request body's (or http payload's) `stream` flag, when it says one explicitly."""
    if not isinstance(request, dict):
        return None
    body = request.get("body")
    if body is None:
        body = request.get("payload")
    value = body.get("stream") if isinstance(body, dict) else None
    return value if isinstance(value, bool) else None


def check_schema(path: str, recording: dict[str, Any]) -> list[Finding]:
    """Structural problems of a recording the models accepted (`recording` is its validated JSON, as
    `decoding.check_recording` gives it: defaults are not filled in)."""
    response = recording.get("response")
    if not isinstance(response, dict) or response.get("is_exception"):
        return []  # a failed call stores null or the chunks received before the error
    body = response.get("body")
    streaming = bool(response.get("is_streaming", False))
    problem: tuple[str, str] | None = None
    if streaming:
        if body is None or body == []:
            problem = ("empty-stream", "is_streaming is true but the stream has no chunks")
        elif not isinstance(body, list):
            problem = ("streaming-mismatch", f"is_streaming is true but the body is a {type(body).__name__}")
    elif isinstance(body, list) and body and _looks_streamed(body):
        problem = ("streaming-mismatch", "is_streaming is false but the body is a list of stream chunks")
    if problem is None:
        requested = _stream_requested(recording.get("request"))
        if requested is not None and requested != streaming:
            problem = (
                "streaming-mismatch",
                f"the request asked for stream={str(requested).lower()} but is_streaming is {str(streaming).lower()}",
            )
    if problem is None:
        return []
    status, message = problem
    return [Finding(path=path, check="schema", status=status, severity="error", message=message)]
