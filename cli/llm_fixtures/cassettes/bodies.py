"""A stored body to what the client read: content-encoding undone (bounded), text decoded, JSON, SSE or NDJSON told.

vcrpy keeps a body as the server sent it: text when it decodes as UTF-8, `!!binary` otherwise, still gzip-, deflate-
or brotli-compressed when `Content-Encoding` says so (unless the project set `decode_compressed_response`). The
decoders are the ones vcrpy's `decode_response` uses (zlib for gzip and deflate, brotli), each capped at
`MAX_BODY` bytes of output so that a decompression bomb stops at the cap.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass, field
from typing import Any, Literal

import orjson

from llm_fixtures.cassettes.model import Body, Headers, first_header

MAX_BODY = 64 * 1024 * 1024

BodyKind = Literal["none", "json", "sse", "ndjson", "text", "binary"]

_SSE_TYPES = ("text/event-stream",)
_NDJSON_TYPES = ("application/x-ndjson", "application/ndjson", "application/stream+json", "application/jsonl")


@dataclass(slots=True)
class Decoded:
    """A body as the client read it. `kind` says what it is; `json` is the parsed JSON of a "json" body (or the
    list of objects of an "ndjson" one); `text` the decoded text of every kind but "binary" and "none"; `data`
    the bytes after content decoding; `notes` what was undone or could not be."""

    kind: BodyKind
    data: bytes = b""
    text: str | None = None
    json: Any = None
    content_type: str | None = None
    notes: list[str] = field(default_factory=list)


class _TooLarge(Exception):
    pass


def _inflate(data: bytes, wbits: int) -> bytes:
    engine = zlib.decompressobj(wbits)
    out = engine.decompress(data, MAX_BODY + 1)
    if len(out) > MAX_BODY or engine.unconsumed_tail:
        raise _TooLarge
    if not engine.eof:
        raise zlib.error("truncated")
    return out


def _unbrotli(data: bytes) -> bytes:
    import brotli  # only a brotli-encoded body pays for the import

    engine = brotli.Decompressor()
    out = engine.process(data, output_buffer_limit=MAX_BODY + 1)
    if len(out) > MAX_BODY or (not engine.is_finished() and not engine.can_accept_more_data()):
        raise _TooLarge
    return bytes(out)


def _decoders() -> dict[str, Any]:
    return {
        "gzip": lambda data: _inflate(data, zlib.MAX_WBITS | 16),
        "x-gzip": lambda data: _inflate(data, zlib.MAX_WBITS | 16),
        "deflate": lambda data: _deflate(data),
        "br": _unbrotli,
    }


def _deflate(data: bytes) -> bytes:
    try:
        return _inflate(data, zlib.MAX_WBITS)  # zlib-wrapped, as servers usually send it
    except zlib.error:
        return _inflate(data, -zlib.MAX_WBITS)  # raw deflate


def as_bytes(raw: str | bytes | None) -> bytes:
    if raw is None:
        return b""
    if isinstance(raw, bytes):
        return raw
    return raw.encode("utf-8", "surrogateescape")


def content_decoded(raw: str | bytes | None, headers: Headers) -> tuple[bytes, list[str]]:
    """The body bytes with every `Content-Encoding` undone (and a gzip body without the header too, as
    pydantic-ai's serializer does), and notes on what was done or could not be."""
    data = as_bytes(raw)
    notes: list[str] = []
    encodings = [
        token.strip().lower()
        for value in _all(headers, "content-encoding")
        for token in value.split(",")
        if token.strip()
    ]
    if not encodings and isinstance(raw, bytes) and data.startswith(b"\x1f\x8b"):
        encodings = ["gzip"]
    if not data:
        return data, notes
    decoders = _decoders()
    for encoding in reversed(encodings):  # applied in order, so undone last first
        if encoding == "identity":
            continue
        decoder = decoders.get(encoding)
        if decoder is None:
            notes.append(f"{encoding}-encoded body: not decoded")
            break
        if isinstance(raw, str):
            notes.append(f"Content-Encoding {encoding} on a text body: left as stored")
            break
        try:
            data = decoder(data)
        except _TooLarge:
            notes.append(f"{encoding} body inflates past {MAX_BODY // (1024 * 1024)} MiB: not decoded")
            return as_bytes(raw), notes
        except Exception as exc:  # zlib.error, brotli.error: a broken body is a note, never a crash
            notes.append(f"broken {encoding} body: {str(exc)[:80] or type(exc).__name__}")
            return as_bytes(raw), notes
        notes.append(f"{encoding} decoded")
    return data, notes


def _all(headers: Headers, name: str) -> list[str]:
    lowered = name.lower()
    return [value for key, values in headers.items() if key.lower() == lowered for value in values]


def _charset(content_type: str | None) -> str:
    if content_type:
        for part in content_type.split(";")[1:]:
            key, _, value = part.strip().partition("=")
            if key.lower() == "charset" and value:
                return value.strip("\"' ")
    return "utf-8"


def _loads(data: bytes | str) -> Any:
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return json.loads(data)  # lone surrogates: orjson refuses them, the standard library keeps them


def _is_sse(text: str) -> bool:
    head = text.lstrip()[:200]
    return head.startswith(("data:", "event:", "id:", ": ", "retry:"))


def _ndjson(text: str) -> list[Any] | None:
    lines = [line for line in text.splitlines() if line.strip()]
    if len(lines) < 2:
        return None
    items: list[Any] = []
    for line in lines:
        if not line.lstrip().startswith("{"):
            return None
        try:
            items.append(_loads(line))
        except (ValueError, RecursionError):
            return None
    return items


def decode(body: Body, headers: Headers) -> Decoded:
    """What a body holds, by its stored parsed form, its content type and its content."""
    content_type = first_header(headers, "content-type")
    if body.has_parsed:
        return Decoded(kind="json", json=body.parsed, content_type=content_type)
    if body.raw is None or body.raw in ("", b""):
        return Decoded(kind="none", content_type=content_type)
    data, notes = content_decoded(body.raw, headers)
    kind_hint = (content_type or "").split(";", 1)[0].strip().lower()
    try:
        text = data.decode(_charset(content_type))
    except (UnicodeDecodeError, LookupError):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            return Decoded(kind="binary", data=data, content_type=content_type, notes=notes)
    if kind_hint in _SSE_TYPES or (not kind_hint.endswith("json") and _is_sse(text)):
        return Decoded(kind="sse", data=data, text=text, content_type=content_type, notes=notes)
    stripped = text.lstrip()
    if kind_hint in _NDJSON_TYPES:
        items = _ndjson(text)
        if items is not None or not stripped.startswith(("{", "[")):
            return Decoded(
                kind="ndjson", data=data, text=text, json=items or [], content_type=content_type, notes=notes
            )
    if stripped.startswith(("{", "[")) or kind_hint.endswith("json"):
        try:
            return Decoded(kind="json", data=data, text=text, json=_loads(data), content_type=content_type, notes=notes)
        except (ValueError, RecursionError):
            items = _ndjson(text)  # Ollama streams come as application/json too
            if items is not None:
                return Decoded(kind="ndjson", data=data, text=text, json=items, content_type=content_type, notes=notes)
    return Decoded(kind="text", data=data, text=text, content_type=content_type, notes=notes)


def json_of(body: Body, headers: Headers) -> Any:
    """The JSON a body holds (a request's, mostly), or None; cheap for the common cases: the stored tree, or
    text that is JSON. Compressed and binary bodies go through `decode`."""
    if body.has_parsed:
        return body.parsed
    raw = body.raw
    if isinstance(raw, str) and raw[:1] in ("{", "["):
        try:
            return _loads(raw)
        except (ValueError, RecursionError):
            return None
    if isinstance(raw, bytes) and raw:
        decoded = decode(body, headers)
        return decoded.json if decoded.kind == "json" else None
    return None
