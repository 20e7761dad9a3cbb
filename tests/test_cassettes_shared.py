"""The cassettes package on the real cassettes of `../shared/vcr` (pydantic-ai, crewAI, openllmetry): read as vcrpy
itself reads them, every stream assembled to what its data lines carry, secrets found and scrubbed in place."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest
from vcr.serialize import deserialize as vcr_deserialize
from vcr.serializers import yamlserializer

from llm_fixtures.cassettes.answers import fold_interaction
from llm_fixtures.cassettes.bodies import as_bytes, content_decoded, decode
from llm_fixtures.cassettes.describing import describe_cassette, describe_interactions
from llm_fixtures.cassettes.leaks import TextLines
from llm_fixtures.cassettes.linting import check_cassette_bytes
from llm_fixtures.cassettes.reading import parse_cassette, read_cassette
from llm_fixtures.cassettes.scrubbing import MASK, scrub
from vcrkit import CASSETTES, SHARED_VCR, label

needs_shared = pytest.mark.skipif(not CASSETTES, reason="../shared/vcr is not present")


@needs_shared
def test_every_shared_cassette_reads_cleanly() -> None:
    formats: Counter[tuple[str, str]] = Counter()
    for path in CASSETTES:
        cassette, size = read_cassette(path, label(path))
        assert cassette.problems == [], label(path)
        assert size == path.stat().st_size
        formats[(cassette.format, cassette.style)] += 1
    assert formats == Counter({("vcr", "yaml"): 65, ("vcr", "parsed-body"): 52, ("websocket", "yaml"): 10})


def _pydantic_ai_deserialize(text: str) -> Any:
    """What pydantic-ai's own `json_body_serializer.deserialize` does: a `parsed_body` becomes the JSON text of
    the body again (`json.dumps`), under `body.string` for a response."""
    data = yamlserializer.deserialize(text)
    for item in data["interactions"]:
        for kind, side in item.items():
            parsed = side.pop("parsed_body", None)
            if parsed is not None:
                side["body"] = {"string": json.dumps(parsed)} if kind == "response" else json.dumps(parsed)
    return data


class _Serializer:
    @staticmethod
    def deserialize(text: str) -> Any:
        return _pydantic_ai_deserialize(text)


@needs_shared
def test_interactions_are_what_vcrpy_itself_replays() -> None:
    """vcrpy's own deserializer (and pydantic-ai's on top of it) is the oracle: same requests, same answers."""
    compared = 0
    for path in CASSETTES:
        cassette, _size = read_cassette(path, label(path))
        if cassette.format != "vcr":
            continue
        requests, responses = vcr_deserialize(path.read_text(encoding="utf-8"), _Serializer)
        assert len(requests) == len(cassette.interactions), label(path)
        for ours, request, response in zip(cassette.interactions, requests, responses, strict=True):
            assert (ours.request.method, ours.request.uri) == (request.method, request.uri)
            assert {name.lower() for name in ours.request.headers} == {name.lower() for name in request.headers}
            for name, values in ours.request.headers.items():
                value = request.headers[name]  # vcrpy keeps one value per request header, text or bytes
                assert (value.decode() if isinstance(value, bytes) else value) in values
            body = ours.request.body
            expected_body = request.body
            if body.has_parsed:
                assert json.loads(expected_body) == body.parsed
            else:
                assert as_bytes(body.raw) == (expected_body or b""), label(path)
            assert ours.response.status == response["status"]["code"]
            if ours.response.body.has_parsed:
                assert json.loads(response["body"]["string"]) == ours.response.body.parsed
            else:
                assert as_bytes(ours.response.body.raw) == (response["body"]["string"] or b"")
            compared += 1
    assert compared == 258


def _data_lines(text: str) -> list[Any]:
    """The JSON each `data:` line of an event stream carries, read without the assembler (multi-line data
    joined as the event-stream rules say)."""
    events: list[str] = []
    current: list[str] = []
    for line in text.splitlines():
        if line.startswith("data:"):
            current.append(line[5:].removeprefix(" "))
        elif not line.strip() and current:
            events.append("\n".join(current))
            current = []
    if current:
        events.append("\n".join(current))
    carried: list[Any] = []
    for event in events:
        if event.strip() == "[DONE]":
            break
        try:
            carried.append(json.loads(event))
        except json.JSONDecodeError:
            carried.append(event)
    return carried


def _expected_text(kind: str, events: list[Any]) -> str | None:
    """The answer text the data lines carry, by the dialect's own delta fields."""
    if kind == "chat.completion.chunk":
        return "".join(
            choice["delta"].get("content") or ""
            for event in events
            for choice in event.get("choices") or []
            if choice.get("index", 0) == 0 and isinstance(choice.get("delta"), dict)
        )
    if kind == "anthropic":
        return "".join(
            event["delta"].get("text", "")
            for event in events
            if event.get("type") == "content_block_delta" and event["delta"].get("type") == "text_delta"
        )
    if kind == "responses":
        return "".join(event["delta"] for event in events if event.get("type") == "response.output_text.delta")
    if kind == "sse.text":
        return "".join(event for event in events if isinstance(event, str))
    return None


def _assembled_text(kind: str, result: dict[str, Any]) -> str | None:
    if kind == "chat.completion.chunk":
        return str(result["choices"][0]["message"]["content"] or "")
    if kind == "anthropic":
        return "".join(block.get("text", "") for block in result["message"]["content"] if block.get("type") == "text")
    if kind == "responses":
        return "".join(
            part.get("text", "")
            for item in result.get("output") or []
            if item.get("type") == "message"
            for part in item.get("content") or []
            if part.get("type") == "output_text"
        )
    if kind == "sse.text":
        return str(result["text"])
    return None


@needs_shared
def test_every_sse_body_assembles_to_what_its_data_lines_carry() -> None:
    kinds: Counter[str] = Counter()
    for path in CASSETTES:
        cassette, _size = read_cassette(path, label(path))
        for interaction in cassette.interactions:
            decoded = decode(interaction.response.body, interaction.response.headers)
            if decoded.kind != "sse":
                continue
            events = _data_lines(decoded.text or "")
            kind, result, warnings = fold_interaction(interaction)
            where = f"{label(path)} #{interaction.index}"
            kinds[kind] += 1
            assert result["n_items"] == len(events), where
            if kind == "sse.events":
                assert [item["data"] for item in result["events"]] == events, where
                continue
            expected = _expected_text(kind, events)
            assert expected is not None, f"{where}: no independent reading for {kind}"
            assert _assembled_text(kind, result) == expected, where
            assert not [warning for warning in warnings if "not JSON" in warning], where
    assert kinds == Counter(
        {"responses": 10, "chat.completion.chunk": 5, "sse.text": 3, "sse.events": 3, "anthropic": 2}
    )


@needs_shared
def test_facts_of_known_cassettes() -> None:
    def facts(name: str) -> Any:
        path = next(path for path in CASSETTES if label(path).endswith(name))
        cassette, size = read_cassette(path, label(path))
        return describe_cassette(cassette, size), describe_interactions(cassette)

    stream, rows = facts("test_deepseek/test_deepseek_model_thinking_stream.yaml")
    assert (stream.format, stream.style, stream.interactions, stream.provider, stream.model) == (
        "vcr",
        "parsed-body",
        1,
        "deepseek",
        "deepseek-reasoner",
    )
    assert stream.streaming
    assert stream.test_id == "pydantic-ai/tests/models/test_deepseek.py::test_deepseek_model_thinking_stream"
    assert rows[0].chunks == len(_data_lines(decode(*_response(stream.path)).text or ""))
    gzipped, rows = facts("test_responses/test_responses.yaml")
    assert (gzipped.endpoint, gzipped.model, gzipped.interactions, gzipped.streaming) == (
        "/v1/responses",
        "gpt-4.1-nano",
        2,
        False,
    )
    realtime, rows = facts("test_google_ws/test_tool_call_round.yaml")
    assert (realtime.format, realtime.interactions, realtime.model) == (
        "websocket",
        66,
        "gemini-2.5-flash-native-audio-preview-09-2025",
    )
    assert [row.endpoint for row in rows[:4]] == ["setup", "setupComplete", "client_content", "toolCall"]
    assert [row.method for row in rows[:2]] == ["sent", "received"]


def _response(shown: str) -> tuple[Any, Any]:
    cassette, _size = read_cassette(SHARED_VCR / shown, shown)
    response = cassette.interactions[0].response
    return response.body, response.headers


@needs_shared
def test_gzip_binary_bodies_of_openllmetry_decode_to_json() -> None:
    decoded = 0
    for path in CASSETTES:
        cassette, _size = read_cassette(path, label(path))
        for interaction in cassette.interactions:
            response = interaction.response
            if isinstance(response.body.raw, bytes) and response.body.raw.startswith(b"\x1f\x8b"):
                data, notes = content_decoded(response.body.raw, response.headers)
                assert notes == ["gzip decoded"]
                json.loads(data)
                decoded += 1
    assert decoded == 18


@needs_shared
def test_check_and_scrub_on_every_shared_cassette() -> None:
    """The real cassettes leak Cloudflare session cookies (crewAI): check finds them masked; the scrubber masks
    them changing only those lines, and a second check finds nothing."""
    found: Counter[str] = Counter()
    scrubbed = 0
    for path in CASSETTES:
        data = path.read_bytes()
        findings = check_cassette_bytes(data, label(path))
        secrets = [finding for finding in findings if finding.check == "secrets"]
        found.update(finding.status for finding in secrets)
        for finding in secrets:
            assert finding.details["masked"] in finding.message
        result = scrub(data, label(path))
        if not secrets:
            assert result.after is None, label(path)
            continue
        assert result.refused is None and result.after is not None, label(path)
        old, new = data.decode().splitlines(), result.after.decode().splitlines()
        assert len(old) == len(new)
        for before, after in zip(old, new, strict=True):
            assert before == after or MASK in after, label(path)
        assert [f for f in check_cassette_bytes(result.after, label(path)) if f.check == "secrets"] == []
        again = parse_cassette(result.after, label(path))
        assert again.count == parse_cassette(data, label(path)).count
        scrubbed += 1
    assert found == Counter({"cookie": 46})
    assert scrubbed == 20


@needs_shared
def test_header_values_are_found_on_their_lines_in_the_order_of_the_interactions() -> None:
    """Every header value of every shared cassette, asked for in the order `check` asks (each interaction's
    request headers, then its response headers), is given a line that holds it, or 0 when the text does not
    hold it as written: the search from where the last value was found never misses one or lands elsewhere."""
    asked = 0
    for path in CASSETTES:
        cassette, _size = read_cassette(path, label(path))
        text = path.read_bytes()
        lines = TextLines(text)
        rows = text.split(b"\n")
        for interaction in cassette.interactions:
            for headers in (interaction.request.headers, interaction.response.headers):
                for values in headers.values():
                    for value in values if isinstance(values, list) else [values]:
                        if not isinstance(value, str) or len(value) < 8:
                            continue
                        needle = value.encode("utf-8", "surrogateescape")
                        line = lines.of_value(value)
                        asked += 1
                        if needle in text and b"\n" not in needle:
                            assert line > 0 and needle in rows[line - 1], (label(path), value)
                        else:
                            assert line == 0 or needle in text, (label(path), value)
    assert asked > 1000
