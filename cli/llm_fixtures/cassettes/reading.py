"""A cassette's parsed data to the cassette model, its format recognized by content (never by project or path)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from llm_fixtures.cassettes.loading import load_document
from llm_fixtures.cassettes.model import (
    NO_BODY,
    Body,
    Cassette,
    CassetteFormat,
    CassetteStyle,
    Headers,
    Interaction,
    Message,
    Request,
    Response,
)
from llm_fixtures.errors import BadRecording
from llm_fixtures.safepaths import NotRegularFile, read_regular


def read_cassette(path: str | Path, shown: str | None = None) -> tuple[Cassette, int]:
    """The cassette stored at `path` (shown as `shown`) and its size in bytes; BadRecording with a one-line
    reason when the file cannot be read or is not a cassette."""
    label = shown if shown is not None else str(path)
    try:
        data = read_regular(path)
    except NotRegularFile as exc:
        raise BadRecording(label, str(exc)) from None
    except OSError as exc:
        raise BadRecording(label, exc.strerror or str(exc)) from None
    return parse_cassette(data, label), len(data)


def parse_cassette(data: bytes, path: str) -> Cassette:
    """The cassette in a file's bytes (gzip, JSON or YAML)."""
    tree, gzipped, serializer = load_document(data, path)
    return cassette_of(tree, path, compressed=gzipped, serializer=serializer)


def cassette_of(tree: Any, path: str, *, compressed: bool = False, serializer: str = "yaml") -> Cassette:
    """The cassette a parsed document holds: HTTP interactions, WebSocket messages or gRPC samples."""
    version: int | None = None
    if isinstance(tree, dict):
        if "interactions" not in tree:
            raise BadRecording(path, "not a cassette: no `interactions`")
        items = tree["interactions"]
        raw_version = tree.get("version")
        version = raw_version if isinstance(raw_version, int) and not isinstance(raw_version, bool) else None
    elif isinstance(tree, list) and tree and isinstance(tree[0], dict) and "request" in tree[0]:
        items = tree  # vcrpy before 1.0: the interactions were the document
    elif tree is None:
        raise BadRecording(path, "empty file")
    else:
        raise BadRecording(path, f"not a cassette: a YAML {_kind(tree)} at the top")
    if items is None:
        items = []
    if not isinstance(items, list):
        raise BadRecording(path, f"not a cassette: `interactions` is a {_kind(items)}, not a list")
    format_ = _format_of(items)
    style: CassetteStyle = "json" if serializer == "json" else "yaml"
    cassette = Cassette(path=path, format=format_, style=style, compressed=compressed, version=version)
    if format_ == "websocket":
        _read_messages(cassette, items)
    elif format_ == "grpc":
        _read_samples(cassette, items)
    else:
        _read_interactions(cassette, items)
    return cassette


def _kind(value: Any) -> str:
    names: dict[type, str] = {dict: "mapping", list: "list", str: "string", bytes: "binary value"}
    return names.get(type(value), type(value).__name__)


def _format_of(items: list[Any]) -> CassetteFormat:
    for item in items:
        if not isinstance(item, dict):
            continue
        if "request" in item or "response" in item:
            return "vcr"
        if {"request_sample", "response_sample", "request_stream", "response_stream"} & item.keys():
            return "grpc"
        if "direction" in item or item.get("kind") in ("message", "close"):
            return "websocket"
    return "vcr"


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return value.decode("latin-1")
    if value is None:
        return ""
    return str(value)


def _headers(value: Any, problems: list[str], where: str) -> Headers:
    """Headers as name -> list of strings. vcrpy stores lists; hand-written cassettes sometimes a plain value."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        problems.append(f"{where}: headers are a {_kind(value)}, not a mapping; ignored")
        return {}
    headers: Headers = {}
    for name, values in value.items():
        key = _text(name)
        if isinstance(values, list):
            headers[key] = [_text(item) for item in values]
        else:
            headers[key] = [_text(values)]
    return headers


def _status(value: Any) -> tuple[int | None, str | None]:
    if isinstance(value, dict):
        code, reason = value.get("code"), value.get("message")
    else:
        code, reason = value, None
    if isinstance(code, str) and code.strip().isdigit():
        code = int(code)
    if not isinstance(code, int) or isinstance(code, bool):
        code = None
    return code, reason if isinstance(reason, str) else None


def _body(data: dict[str, Any], *, response: bool) -> Body:
    parsed = data.get("parsed_body", NO_BODY)
    body = data.get("body")
    if response and isinstance(body, dict):
        body = body.get("string")
    if isinstance(body, dict | list) and parsed is NO_BODY:
        return Body(raw=None, parsed=body)  # a JSON body stored as a tree under `body` (hand-edited cassettes)
    if body is not None and not isinstance(body, str | bytes):
        body = str(body)
    return Body(raw=body, parsed=parsed)


def _read_interactions(cassette: Cassette, items: list[Any]) -> None:
    parsed_seen = False
    for index, item in enumerate(items):
        where = f"interaction {index}"
        if not isinstance(item, dict):
            cassette.problems.append(f"{where}: a {_kind(item)}, not a mapping; skipped")
            continue
        request_data = item.get("request")
        response_data = item.get("response")
        if not isinstance(request_data, dict) or not isinstance(response_data, dict):
            missing = "request" if not isinstance(request_data, dict) else "response"
            cassette.problems.append(f"{where}: no {missing} mapping; skipped")
            continue
        parsed_seen = parsed_seen or "parsed_body" in request_data or "parsed_body" in response_data
        status, reason = _status(response_data.get("status"))
        if status is None:
            cassette.problems.append(f"{where}: the response has no status code")
        uri = _text(request_data.get("uri"))
        if not uri:
            cassette.problems.append(f"{where}: the request has no uri")
        request = Request(
            method=_text(request_data.get("method")).upper() or "GET",
            uri=uri,
            headers=_headers(request_data.get("headers"), cassette.problems, f"{where} request"),
            body=_body(request_data, response=False),
        )
        response = Response(
            status=status,
            reason=reason,
            headers=_headers(response_data.get("headers"), cassette.problems, f"{where} response"),
            body=_body(response_data, response=True),
        )
        cassette.interactions.append(Interaction(index=index, request=request, response=response))
    if parsed_seen and cassette.style == "yaml":
        cassette.style = "parsed-body"


def _read_messages(cassette: Cassette, items: list[Any]) -> None:
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            cassette.problems.append(f"message {index}: a {_kind(item)}, not a mapping; skipped")
            continue
        kind = _text(item.get("kind")) or "message"
        direction = item.get("direction")
        code = item.get("code")
        reason = item.get("reason")
        cassette.messages.append(
            Message(
                index=index,
                kind=kind,
                direction=direction if isinstance(direction, str) else None,
                data=item.get("data"),
                code=code if isinstance(code, int) and not isinstance(code, bool) else None,
                reason=reason if isinstance(reason, str) else None,
            )
        )


def _sample(value: Any) -> Body:
    """A gRPC message as stored: its JSON form (`json`, or the list `chunks_json` of a streamed answer) beside its
    protobuf bytes (`raw`; a stream's `chunks_raw` are not kept)."""
    if not isinstance(value, dict):
        return Body()
    raw = value.get("raw")
    parsed = value.get("json", value.get("chunks_json", NO_BODY))
    return Body(raw=raw if isinstance(raw, str | bytes) else None, parsed=parsed)


def _read_samples(cassette: Cassette, items: list[Any]) -> None:
    """gRPC samples (pydantic-ai's xAI cassettes): `request_sample`/`response_sample` for a call, and
    `request_stream`/`response_stream` for a streamed one."""
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            cassette.problems.append(f"interaction {index}: a {_kind(item)}, not a mapping; skipped")
            continue
        sent = item.get("request_sample", item.get("request_stream"))
        got = item.get("response_sample", item.get("response_stream"))
        request = Request(method="RPC", uri="", headers={}, body=_sample(sent))
        response = Response(status=None, reason=None, headers={}, body=_sample(got))
        cassette.interactions.append(Interaction(index=index, request=request, response=response))
