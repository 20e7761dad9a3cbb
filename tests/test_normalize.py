"""Upstream response normalization: which fields change, what is left alone, and the corpus as evidence."""

from __future__ import annotations

from typing import Any

import pytest

import builders
from conftest import corpus_files
from llm_fixtures.decoding import dump_upstream, parse_json
from llm_fixtures.facts import hash_of_name
from llm_fixtures.normalizing import (
    EPOCH_TIMESTAMP,
    normalize_data,
    normalize_response,
)

HASH = "0123456789abcdef" * 4


def envelope(**data: Any) -> dict[str, Any]:
    return builders.typed(builders.CHAT_COMPLETION, data)


@pytest.mark.parametrize(
    ("data", "changed", "after"),
    [
        ({"id": "chatcmpl-1", "created": 17}, ["id", "created"], {"id": "rec-0123456789ab", "created": 0}),
        ({"id": "rec-0123456789ab", "created": 0}, [], {"id": "rec-0123456789ab", "created": 0}),
        (
            {"id": "gpt-4o", "object": "model", "created": 5},
            [],
            {"id": "gpt-4o", "object": "model", "created": 5},
        ),
        ({"created_at": "2025-01-01T00:00:00Z"}, ["created_at"], {"created_at": EPOCH_TIMESTAMP}),
        (
            {"object": "model", "created_at": 3},
            ["created_at"],
            {"object": "model", "created_at": EPOCH_TIMESTAMP},
        ),
        (
            {"total_duration": 5, "load_duration": None, "eval_duration": 0, "prompt_eval_duration": 2},
            ["total_duration", "prompt_eval_duration"],
            {"total_duration": 0, "load_duration": None, "eval_duration": 0, "prompt_eval_duration": 0},
        ),
        ({"nested": {"id": "x", "created": 4}}, [], {"nested": {"id": "x", "created": 4}}),
    ],
)
def test_normalize_data(data: dict[str, Any], changed: list[str], after: dict[str, Any]) -> None:
    new, fields = normalize_data(data, HASH)
    assert fields == changed
    assert new == after
    assert list(new) == list(data)  # key order kept


def test_normalize_response_stream_keeps_request_and_order() -> None:
    raw: dict[str, Any] = {
        "test_id": "t",
        "request": {"body": {"id": "chatcmpl-request", "created": 9}},
        "response": {
            "body": [
                envelope(id="c-1", created=5),
                envelope(id="c-1", created=5),
                {"plain": "dict", "id": "x"},
            ],
            "is_streaming": True,
        },
    }
    new, changes = normalize_response(raw, HASH)
    assert new["request"] is raw["request"]
    assert [item.get("__data__", item).get("id") for item in new["response"]["body"]] == [
        "rec-0123456789ab",
        "rec-0123456789ab",
        "x",
    ]
    assert changes == [
        "response.body[*].id -> 'rec-0123456789ab' (2 of 3 objects)",
        "response.body[*].created -> 0 (2 of 3 objects)",
    ]
    # the input is not modified
    assert raw["response"]["body"][0]["__data__"]["id"] == "c-1"


def test_bools_are_never_taken_for_normalized_numbers_in_a_stream() -> None:
    rid = "rec-0123456789ab"
    raw = {"response": {"body": [envelope(id=rid, created=0), envelope(id=rid, created=False)]}}
    assert normalize_response(raw, HASH)[1] == ["response.body[*].created -> 0 (1 of 2 objects)"]
    raw = {"response": {"body": [envelope(id=rid, created=False), envelope(id=rid, created=0)]}}
    assert normalize_response(raw, HASH)[1] == ["response.body[*].created -> 0 (1 of 2 objects)"]
    raw = {"response": {"body": [envelope(id=[1], created=0)]}}  # unhashable: still handled
    assert normalize_response(raw, HASH)[1] == ["response.body[*].id -> 'rec-0123456789ab' (1 of 1 objects)"]


def test_normalize_response_single_body_and_nothing_to_do() -> None:
    raw = {"request": {}, "response": {"body": envelope(id="x", created=1), "is_streaming": False}}
    new, changes = normalize_response(raw, HASH)
    assert changes == ["response.body.id -> 'rec-0123456789ab'", "response.body.created -> 0"]
    again, none = normalize_response(new, HASH)
    assert none == []
    assert again is new
    for body in (None, "text", {"a": 1}, [1, 2]):
        assert normalize_response({"request": {}, "response": {"body": body}}, HASH)[1] == []


@pytest.mark.usefixtures("corpus")
def test_corpus_new_snapshot_is_already_normalized() -> None:
    # Only the 5 files renamed after recording carry ids of another hash than their name.
    changed = []
    for path in corpus_files("llama-stack"):
        data = path.read_bytes()
        raw = parse_json(data, path)
        new, changes = normalize_response(raw, hash_of_name(path.name))
        if changes:
            changed.append(path.name[:12])
            assert all(".id -> " in change for change in changes)
            assert dump_upstream(new) != data
        else:
            assert dump_upstream(new) == data
    assert sorted(changed) == ["3027fe9da37c", "4094a6c77e0e", "632ce0140a65", "8fe0bae4f48f", "b2bdf9be3e67"]


@pytest.mark.usefixtures("corpus")
def test_corpus_old_snapshot_is_raw() -> None:
    changed = 0
    for path in corpus_files("llama-stack-2025-08"):
        raw = parse_json(path.read_bytes(), path)
        new, changes = normalize_response(raw, hash_of_name(path.name))
        changed += bool(changes)
        assert new["request"] == raw["request"]
    assert changed == 24  # the other 6 hold no id, created or duration fields (pull, tags, ps, embeddings)
