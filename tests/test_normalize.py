"""Upstream response normalization: which fields change, what is left alone, and the corpus as evidence."""

from __future__ import annotations

import random
from typing import Any

import pytest

import builders
from conftest import corpus_files
from llm_fixtures import normalizing
from llm_fixtures.decoding import dump_upstream, parse_json
from llm_fixtures.errors import BadRecording
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


_VALUES = ["rec-0123456789ab", "chatcmpl-1", "model", "chat.completion.chunk", 0, 1, 0.0, 1.0, 2, True, False, None, ""]
_FIELDS = ["object", "id", "created", "created_at", "total_duration", "eval_duration"]


def _random_item(rng: random.Random, created_at: bool) -> Any:
    roll = rng.random()
    if roll < 0.02:
        return rng.choice(["text", 7, None, [], {"__data__": {"id": "x"}}, {"__type__": "t", "__data__": "x"}])
    if roll < 0.04:
        return {"__type__": "t", "__data__": {"id": [1], "object": "x", "created": 0}}  # unhashable
    # Mostly the fields a chat chunk has, `created_at` in all items of a body or in none; now and then a field
    # missing, or one of Ollama's.
    fields = [name for name in _FIELDS[:3] if rng.random() < 0.97]
    fields += [name for name in _FIELDS[3:] if rng.random() < (0.97 if name == "created_at" and created_at else 0.03)]
    return envelope(**{name: rng.choice(_VALUES) for name in fields})


@pytest.mark.parametrize("seed", range(300))
def test_the_count_by_signature_gives_what_the_item_by_item_count_gives(seed: int) -> None:
    # Bodies of a few kinds of items (often the same item repeated, as streams are): bools beside the numbers
    # they equal, model entries, missing fields, `created_at` in some items only, Ollama durations, non-envelopes.
    rng = random.Random(seed)
    created_at = rng.random() < 0.3
    kinds = [_random_item(rng, created_at) for _ in range(rng.randint(1, 4))]
    if rng.random() < 0.5 and isinstance(kinds[0], dict) and isinstance(kinds[0].get("__data__"), dict):
        # Twins: the first kind with one value swapped for one equal to it (0, 0.0, False; 1, 1.0, True)
        data = kinds[0]["__data__"]
        for name, value in data.items():
            if type(value) in (int, float, bool) and value in (0, 1):
                twin = rng.choice([twin for twin in (0, 0.0, False, 1, 1.0, True) if twin == value])
                kinds.append({**kinds[0], "__data__": {**data, name: twin}})
    body = [rng.choice(kinds) for _ in range(rng.randint(1, 12))]
    plain = normalizing._plain_signatures(body)
    record_id = normalizing.normalized_id(HASH)
    if plain is not None:
        counts, examples = normalizing._changes_of_plain(*plain, record_id)
        expected_counts, expected_examples = normalizing._changes_of_items(body, record_id)
        assert list(counts.items()) == list(expected_counts.items())  # the same counts, fields in the same order
        assert examples == expected_examples


def test_most_streams_are_counted_by_signature() -> None:
    rid = "rec-0123456789ab"
    stream = [envelope(id=rid, created=0, object="chat.completion.chunk") for _ in range(5)]
    assert normalizing._plain_signatures(stream) is not None
    with_created_at = [{**item, "__data__": {**item["__data__"], "created_at": 0}} for item in stream]
    assert normalizing._plain_signatures(with_created_at) is not None
    assert normalizing._plain_signatures([*stream, envelope(id=rid, created=False)]) is None  # a bool
    assert normalizing._plain_signatures([*stream, envelope(id=rid)]) is None  # a field missing


@pytest.mark.usefixtures("corpus")
def test_every_corpus_body_counted_by_signature_is_counted_the_same_item_by_item() -> None:
    counted = 0
    for path in corpus_files():
        try:
            raw = parse_json(path.read_bytes(), str(path))
        except BadRecording:
            continue
        response = raw.get("response") if isinstance(raw, dict) else None
        body = response.get("body") if isinstance(response, dict) else None
        items = body if isinstance(body, list) else [body]
        plain = normalizing._plain_signatures(items)
        if plain is None:
            continue
        counted += 1
        for request_hash in (HASH, hash_of_name(path.name)):
            record_id = normalizing.normalized_id(request_hash)
            counts, examples = normalizing._changes_of_plain(*plain, record_id)
            expected_counts, expected_examples = normalizing._changes_of_items(items, record_id)
            assert list(counts.items()) == list(expected_counts.items()), path.name
            assert examples == expected_examples, path.name
    assert counted > 100  # streams of chat chunks, completions, model lists, single answers
