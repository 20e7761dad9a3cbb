"""The `schema` check: files the models reject, empty streams, `is_streaming` that disagrees with the body."""

from __future__ import annotations

from typing import Any

from llm_fixtures.checking.findings import Finding
from llm_fixtures.models import RecordingFile, parse_envelope

_SSE_PREFIXES = ("data:", "event:", "id:", "retry:", ":")


def unreadable(path: str, reason: str) -> Finding:
    """A file that cannot be read, parsed or validated as a recording."""
    return Finding(path=path, check="schema", status="invalid", severity="error", message=reason)


def _looks_streamed(body: list[Any]) -> bool:
    first = body[0]
    if isinstance(first, str):
        return first.startswith(_SSE_PREFIXES)
    type_name, _ = parse_envelope(first)
    return type_name is not None and type_name.endswith("Chunk")


def _stream_requested(file: RecordingFile) -> bool | None:
    """The request body's (or http payload's) `stream` flag, when it says one explicitly."""
    request = file.request
    body = getattr(request, "body", None)
    if body is None:
        body = getattr(request, "payload", None)
    value = body.get("stream") if isinstance(body, dict) else None
    return value if isinstance(value, bool) else None


def check_schema(path: str, file: RecordingFile) -> list[Finding]:
    """Structural problems of a recording the models accepted."""
    response = file.response
    body = response.body
    if response.is_exception:
        return []  # a failed call stores null or the chunks received before the error
    problem: tuple[str, str] | None = None
    if response.is_streaming:
        if body is None or body == []:
            problem = ("empty-stream", "is_streaming is true but the stream has no chunks")
        elif not isinstance(body, list):
            problem = ("streaming-mismatch", f"is_streaming is true but the body is a {type(body).__name__}")
    elif isinstance(body, list) and body and _looks_streamed(body):
        problem = ("streaming-mismatch", "is_streaming is false but the body is a list of stream chunks")
    if problem is None:
        requested = _stream_requested(file)
        if requested is not None and requested != response.is_streaming:
            problem = (
                "streaming-mismatch",
                f"the request asked for stream={str(requested).lower()} but is_streaming is "
                f"{str(response.is_streaming).lower()}",
            )
    if problem is None:
        return []
    status, message = problem
    return [Finding(path=path, check="schema", status=status, severity="error", message=message)]
