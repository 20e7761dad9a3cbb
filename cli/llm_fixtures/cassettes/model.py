"""The cassette model: a file of interactions (an HTTP request and its response) or of WebSocket messages.

Plain dataclasses, not pydantic: `ls` builds thousands of them, and a cassette is read once per command.
Every field holds what the file stores, normalized only in shape (headers as lists of strings); bodies are decoded
on demand by `bodies`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

# "vcr": HTTP interactions (vcrpy, pytest-recording, pytest-vcr; YAML or JSON); "websocket": the JSON frames of a
# realtime session (pydantic-ai `tests/realtime/`); "grpc": request and response samples of a gRPC API
# (pydantic-ai's xAI cassettes), JSON and raw protobuf side by side.
CassetteFormat = Literal["vcr", "websocket", "grpc"]
# How the bodies are stored: "yaml" and "json" are vcrpy's serializers (bodies as text or `!!binary`);
# "parsed-body" is pydantic-ai's serializer, which stores a JSON body as a YAML tree under `parsed_body`.
CassetteStyle = Literal["yaml", "json", "parsed-body"]

Headers = dict[str, list[str]]

NO_BODY: Any = object()  # `parsed` of a body that has no parsed form stored


@dataclass(slots=True)
class Body:
    """A body as stored: `raw` is the text or bytes of `body` (`body.string` for a response), or None;
    `parsed` is the JSON tree stored beside it (pydantic-ai's `parsed_body`), or NO_BODY."""

    raw: str | bytes | None = None
    parsed: Any = NO_BODY

    @property
    def has_parsed(self) -> bool:
        return self.parsed is not NO_BODY

    @property
    def empty(self) -> bool:
        return self.parsed is NO_BODY and not self.raw


@dataclass(slots=True)
class Request:
    method: str
    uri: str
    headers: Headers
    body: Body


@dataclass(slots=True)
class Response:
    status: int | None
    reason: str | None
    headers: Headers
    body: Body


@dataclass(slots=True)
class Interaction:
    """One request and its response, at position `index` (from 0) in its cassette."""

    index: int
    request: Request
    response: Response


@dataclass(slots=True)
class Message:
    """One WebSocket frame of a realtime cassette (`kind` "message"), or the close that ended the session
    (`kind` "close", with its code and reason)."""

    index: int
    kind: str
    direction: str | None
    data: Any
    code: int | None = None
    reason: str | None = None


@dataclass(slots=True)
class Cassette:
    """A cassette file read: its interactions (or messages), how it was written, and what was odd in it
    (`problems`: one sentence each; the readable rest is kept)."""

    path: str
    format: CassetteFormat
    style: CassetteStyle
    compressed: bool
    version: int | None
    interactions: list[Interaction] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        """The number of interactions (or messages, for a WebSocket cassette)."""
        return len(self.messages) if self.format == "websocket" else len(self.interactions)


def header(headers: Headers, name: str) -> list[str]:
    """Every value of a header, by case-insensitive name ([] when absent)."""
    lowered = name.lower()
    values: list[str] = []
    for key, value in headers.items():
        if key.lower() == lowered:
            values.extend(value)
    return values


def first_header(headers: Headers, name: str) -> str | None:
    values = header(headers, name)
    return values[0] if values else None
