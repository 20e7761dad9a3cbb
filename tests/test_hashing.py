"""The upstream hash rules: normalization steps, keys, names, verdicts; and every corpus file's verdict."""

from __future__ import annotations

import copy
import hashlib
import json
import random
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
import upstreamrecorder

import builders
from conftest import corpus_files
from llm_fixtures import hashing
from llm_fixtures.decoding import parse_json
from llm_fixtures.hashing import (
    CURRENT,
    KEY_ERRORS,
    LONG_STRING,
    NONE,
    RULES,
    HashRule,
    Normalization,
    RuleKeys,
    family_of,
    inference_key,
    model_list_digest,
    normalize_body,
    recorded_hash,
    request_key_name,
    sha256_key,
    verify_name,
)

TEST_ID = "tests/integration/inference/test_x.py::test_y[param]"
UUID = "0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d"


def chat(
    body: dict[str, Any], *, url: str = "http://0.0.0.0:11434/v1/v1/chat/completions", **top: Any
) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "test_id": TEST_ID,
        "request": {
            "method": "POST",
            "url": url,
            "headers": {},
            "body": body,
            "endpoint": "/v1/chat/completions",
            "model": body.get("model", ""),
        },
        "response": {"body": None, "is_streaming": False},
        "id_normalization_mapping": {},
    }
    raw.update(top)
    return raw


def digest(key: Any) -> str:
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()


# --- normalization ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "steps", "expected"),
    [
        (0.123456789, CURRENT, 0.12346),
        (0.123456789, NONE, 0.123456789),
        (3, CURRENT, 3),
        (True, CURRENT, True),
        ("pi is 3.14159265 and 2.5", CURRENT, "pi is 3.14159 and 2.5"),
        ("-0.000012345", CURRENT, "-0.00001"),
        ("1.234", CURRENT, "1.234"),
        ("score: 0.8123, x", CURRENT, "score: __NORMALIZED__, x"),
        ("score: 1e-3", CURRENT, "score: __NORMALIZED__"),
        ("text, attributes: {'a': 1} end", CURRENT, "text end"),
        (
            "document_id: 0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b.",
            CURRENT,
            "document_id: __NORMALIZED__.",
        ),
        ("see <|0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b|>", CURRENT, "see <|__NORMALIZED__|>"),
        ("score: 0.81234567", Normalization(file_search=False), "score: 0.81235"),
        ("score: 0.81234567", NONE, "score: 0.81234567"),
    ],
)
def test_normalize_scalars(value: Any, steps: Normalization, expected: Any) -> None:
    assert normalize_body(value, steps) == expected


def test_project_id_is_stripped_at_the_root_and_in_list_items_only() -> None:
    body = {
        "extra_body": {"project_id": "p", "keep": 1},
        "extra_query": {"project_id": "q"},
        "nested": {"extra_body": {"project_id": "kept"}},
        "items": [{"extra_body": {"project_id": "gone"}}],
    }
    assert normalize_body(body) == {
        "extra_body": {"keep": 1},
        "extra_query": {},
        "nested": {"extra_body": {"project_id": "kept"}},
        "items": [{"extra_body": {}}],
    }
    assert normalize_body(body, Normalization(project_id=False)) == body


def test_bedrock_stream_options_only_at_the_root() -> None:
    body = {"stream_options": {"include_usage": True}, "x": {"stream_options": 1}}
    assert normalize_body(body, bedrock=True) == {"x": {"stream_options": 1}}
    assert normalize_body(body) == body


def test_normalize_body_takes_python_values_too() -> None:
    class Text(str):
        pass

    class Mapping(dict[str, Any]):
        pass

    value = Mapping(t=Text("x 0.123456789"), items=(1.234567891, {"extra_body": {"project_id": "p"}}))
    assert normalize_body(value) == {"t": "x 0.12346", "items": (1.23457, {"extra_body": {}})}
    changed: set[str] = set()
    normalize_body({"a": 1.5, "b": "no decimals"}, changed=changed)
    assert changed == set()
    normalize_body({"a": 1.234567891, "extra_body": {"project_id": "p"}}, changed=changed)
    assert changed == {"numbers", "project_id"}


def test_normalize_body_does_not_mutate_its_input() -> None:
    body = {"extra_body": {"project_id": "p"}, "t": 0.1234567}
    before = copy.deepcopy(body)
    normalize_body(body, bedrock=True)
    assert body == before


# --- keys ------------------------------------------------------------------------------------------------


def test_sha256_key_is_upstream_json_dumps() -> None:
    key = {"b": [1, 2.5, "é"], "a": None}
    assert sha256_key(key) == hashlib.sha256(b'{"a": null, "b": [1, 2.5, "\\u00e9"]}').hexdigest()


JSON_VALUES = [
    {"z": {"y": [True, False, None]}, "a": [1e-07, 1e16, -0.0, 10**40, float("nan"), float("inf"), -float("inf")]},
    ['\x00\x1f\x7f"\\/', "é\u2028", "\ud800", "😀"],
    "a string alone",
    0.1,
    None,
]


@pytest.mark.parametrize("c_encoder", [True, False])
def test_the_canonical_json_is_json_dumps_with_sorted_keys(c_encoder: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    if not c_encoder:  # a Python without json's C accelerator
        monkeypatch.setattr(json.encoder, "c_make_encoder", None)
    canonical_json = hashing._canonical_encoder()
    for value in JSON_VALUES:
        assert canonical_json(value) == json.dumps(value, sort_keys=True)


@pytest.mark.parametrize(
    ("url", "has_test_id"),
    [
        ("http://localhost:8080/v1/models", False),
        ("http://x/api/tags", False),
        ("http://x/v1/openai/v1/models", False),
        ("http://0.0.0.0:11434/v1/v1/models", True),
        ("https://x/v1beta/openai/v1/models", True),
        ("http://0.0.0.0:11434/v1/v1/chat/completions", True),
    ],
)
def test_test_id_is_left_out_only_for_exact_shared_paths(url: str, has_test_id: bool) -> None:
    key = inference_key(chat({}, url=url))
    assert ("test_id" in key) is has_test_id
    assert key["endpoint"] == urlparse(url).path


def test_bedrock_is_decided_by_the_host() -> None:
    body = {"model": "m", "stream_options": {"include_usage": True}}
    bedrock = inference_key(chat(body, url="https://bedrock-runtime.us-west-2.amazonaws.com/openai/v1/chat"))
    other = inference_key(chat(body, url="https://api.openai.com/v1/v1/chat/completions"))
    assert "stream_options" not in bedrock["body"]
    assert "stream_options" in other["body"]


def test_current_name_of_an_inference_recording() -> None:
    body = {"model": "gpt-4o", "temperature": 0.123456789}
    raw = chat(body)
    expected = digest(
        {
            "method": "POST",
            "endpoint": "/v1/v1/chat/completions",
            "body": {"model": "gpt-4o", "temperature": 0.12346},
            "test_id": TEST_ID,
        }
    )
    assert request_key_name(raw) == f"{expected}.json"


def test_null_and_absent_test_id_both_hash_as_null() -> None:
    with_null = chat({"model": "m"}, test_id=None)
    absent = chat({"model": "m"})
    del absent["test_id"]
    assert request_key_name(with_null) == request_key_name(absent)


def model_list(url: str, ids: list[str], endpoint: str = "/v1/models") -> dict[str, Any]:
    raw = chat({}, url=url)
    raw["request"]["endpoint"] = endpoint
    raw["response"]["body"] = [
        {"__type__": "openai.types.model.Model", "__data__": {"id": i, "object": "model"}} for i in ids
    ]
    return raw


def test_model_list_name_has_the_model_set_digest() -> None:
    raw = model_list("http://0.0.0.0:11434/v1/v1/models", ["b", "a", "b"])
    ids_digest = hashlib.sha256(b"a|b").hexdigest()[:8]
    key = {"method": "POST", "endpoint": "/v1/v1/models", "body": {}, "test_id": TEST_ID}
    assert model_list_digest(raw) == ids_digest
    assert request_key_name(raw) == f"models-{digest(key)}-{ids_digest}.json"
    assert verify_name(f"models-{digest(key)}-{ids_digest}.json", raw).rule == "model-list"


def test_model_list_hashed_without_test_id_by_newer_upstream_is_ok() -> None:
    raw = model_list("http://0.0.0.0:11434/v1/v1/models", ["a"])
    key = {"method": "POST", "endpoint": "/v1/v1/models", "body": {}}
    name = f"models-{digest(key)}-{hashlib.sha256(b'a').hexdigest()[:8]}.json"
    verdict = verify_name(name, raw)
    assert (verdict.status, verdict.rule) == ("ok", "model-list-shared")
    assert verdict.expected_name != name  # the snapshot's recorder still keys model lists by test id


def test_ollama_tags_digest_uses_model_field() -> None:
    raw = chat({}, url="http://localhost:11434/api/tags")
    raw["request"]["endpoint"] = "/api/tags"
    raw["response"]["body"] = {
        "__type__": "ollama._types.ListResponse",
        "__data__": {"models": [{"model": "llama3.2:3b", "name": "ignored"}]},
    }
    assert model_list_digest(raw) == hashlib.sha256(b"llama3.2:3b").hexdigest()[:8]


@pytest.mark.parametrize(
    "models",
    [
        [{"id": "a"}, {"id": 3}],  # an id that is not a string
        [{"id": "a"}, "b"],  # an entry that is not an object
        [{"__data__": 5}],
        [{"__data__": {"id": ["a"]}}],  # an unhashable id
        [{"name": "no id"}],
    ],
)
def test_a_model_list_with_an_entry_without_a_string_id_has_no_digest(models: list[Any]) -> None:
    raw = chat({}, url="http://localhost:8080/v1/models")
    raw["request"]["endpoint"] = "/v1/models"
    raw["response"]["body"] = models
    assert model_list_digest(raw) is None


def test_model_ids_are_digested_once_each_in_order() -> None:
    raw = chat({}, url="http://localhost:8080/v1/models")
    raw["request"]["endpoint"] = "/v1/models"
    raw["response"]["body"] = [{"__data__": {"id": "b"}}, {"id": "a"}, {"id": "b"}]
    assert model_list_digest(raw) == hashlib.sha256(b"a|b").hexdigest()[:8]


def http_recording(test_id: str | None = TEST_ID) -> dict[str, Any]:
    request = builders.http_request("https://api.anthropic.com/v1/messages", {"t": 0.1234567}, test_id=test_id)
    return builders.recording(request, {}, test_id=test_id, status=200, mapping=False)


def test_http_key_includes_host_and_request_test_id() -> None:
    raw = http_recording()
    key = {
        "test_id": TEST_ID,
        "url": "https://api.anthropic.com/v1/messages",
        "method": "POST",
        "payload": {"t": 0.12346},
    }
    assert family_of(raw) == "http"
    assert request_key_name(raw) == f"{digest(key)}.json"
    # The hash saw the ContextVar (request.test_id), not the top-level fallback.
    raw["test_id"] = "something/else.py::t"
    assert request_key_name(raw) == f"{digest(key)}.json"


def test_tool_key_has_no_test_id_and_no_normalization() -> None:
    raw = {
        "test_id": TEST_ID,
        "request": {
            "test_id": TEST_ID,
            "provider": "tavily",
            "tool_name": "web_search",
            "kwargs": {"x": 0.1234567},
        },
        "response": {"body": None, "is_streaming": False},
    }
    key = {"provider": "tavily", "tool_name": "web_search", "kwargs": {"x": 0.1234567}}
    assert request_key_name(raw) == f"{digest(key)}.json"
    assert verify_name(f"{digest(key)}.json", raw).rule == "tool"


# --- verdicts --------------------------------------------------------------------------------------------


def test_verdict_ok_current() -> None:
    raw = chat({"model": "m"})
    name = request_key_name(raw)
    assert name is not None
    verdict = verify_name(name, raw)
    assert (verdict.status, verdict.rule, verdict.expected_name) == ("ok", "current", name)


def test_verdict_stale_pre_file_search() -> None:
    raw = chat({"messages": [{"role": "tool", "content": "score: 0.91, text"}]})
    old = {
        "method": "POST",
        "endpoint": "/v1/v1/chat/completions",
        "body": {"messages": [{"role": "tool", "content": "score: 0.91, text"}]},
        "test_id": TEST_ID,
    }
    verdict = verify_name(f"{digest(old)}.json", raw)
    assert (verdict.status, verdict.rule) == ("stale", "pre-file_search-scrub")
    assert verdict.expected_name == request_key_name(raw)
    assert "pre-file_search-scrub" in verdict.message


def test_verdict_stale_no_normalization() -> None:
    raw = chat({"temperature": 0.123456789})
    old = {
        "method": "POST",
        "endpoint": "/v1/v1/chat/completions",
        "body": {"temperature": 0.123456789},
        "test_id": TEST_ID,
    }
    verdict = verify_name(f"{digest(old)}.json", raw)
    assert (verdict.status, verdict.rule) == ("stale", "no-normalization")


def test_verdict_legacy_12hex_is_ok() -> None:
    raw = chat({"model": "m"})
    del raw["test_id"], raw["id_normalization_mapping"]
    key = {"method": "POST", "endpoint": "/v1/v1/chat/completions", "body": {"model": "m"}}
    verdict = verify_name(f"{digest(key)[:12]}.json", raw)
    assert (verdict.status, verdict.rule) == ("ok", "legacy-12hex")


def test_verdict_mismatch_after_an_edit() -> None:
    raw = chat({"model": "m"})
    name = request_key_name(raw)
    assert name is not None
    raw["request"]["body"]["model"] = "edited"
    verdict = verify_name(name, raw)
    assert (verdict.status, verdict.rule, verdict.cause) == ("mismatch", None, None)
    assert verdict.expected_name == request_key_name(raw)


def test_verdict_mismatch_explained_by_the_ogx_rename() -> None:
    before = chat({"model": "m"}, test_id="tests/integration/x/test_a.py::t[llama_stack_client-m]")
    name = request_key_name(before)
    assert name is not None
    after = json.loads(json.dumps(before).replace("llama_stack_client", "ogx_client"))
    verdict = verify_name(name, after)
    assert (verdict.status, verdict.cause) == ("mismatch", "ogx-rename")


def test_verdict_mismatch_explained_by_the_response_ids() -> None:
    raw = chat({"model": "m"})
    raw["response"]["body"] = {"__type__": "X", "__data__": {"id": "rec-0123456789ab"}}
    verdict = verify_name("f" * 64 + ".json", raw)
    assert (verdict.status, verdict.cause) == ("mismatch", "renamed")
    assert "rec-0123456789ab" in verdict.message
    assert recorded_hash(raw) == "0123456789ab"


def test_verdict_name_not_a_hash() -> None:
    verdict = verify_name("my-fixture.json", chat({}))
    assert verdict.status == "mismatch"
    assert "not a request hash" in verdict.message


def test_verdict_unverifiable_file_processor_and_no_url() -> None:
    raw = {
        "test_id": TEST_ID,
        "request": {"test_id": TEST_ID, "provider": "pypdf", "api": "file_processors", "file_id": "file-1"},
        "response": {"body": None, "is_streaming": False},
    }
    assert verify_name("a" * 64 + ".json", raw).status == "unverifiable"
    assert request_key_name(raw) is None
    no_url = {"request": {"endpoint": "/v1/chat/completions", "body": {}}, "response": {"body": []}}
    verdict = verify_name("x.json", no_url)
    assert verdict.status == "unverifiable"
    assert "url" in verdict.message


def test_a_model_list_without_model_ids_is_unverifiable() -> None:
    raw = model_list("http://0.0.0.0:11434/v1/v1/models", [])
    raw["response"] = {"body": None, "is_streaming": False, "is_exception": True}
    verdict = verify_name("models-" + "a" * 64 + "-01234567.json", raw)
    assert verdict.status == "unverifiable"
    assert "model ids" in verdict.message


def test_garbage_request_never_raises() -> None:
    for raw in (
        {},
        {"request": 3},
        {"request": {"url": 5}},
        {"request": {"url": "http://x/y", "body": {1, 2}}},
    ):
        assert verify_name("a.json", raw).status in {"unverifiable", "mismatch"}


# --- the real corpus -------------------------------------------------------------------------------------

NEW = "llama-stack/tests/integration/"
# suite/recordings/<name prefix>: (status, rule, cause)
ANOMALY_TABLE = """
responses 8d11bfc599a2 stale pre-file_search-scrub -
responses 906ff8446030 stale pre-file_search-scrub -
responses c5aaabcc5c1a stale pre-file_search-scrub -
responses 2443581bf4a7 stale no-normalization -
responses abb544a92652 stale no-normalization -
responses c060e0e12e3b stale no-normalization -
responses 064011776e02 mismatch - ogx-rename
inference models-0037f2d2065a mismatch - ogx-rename
responses 4094a6c77e0e mismatch - renamed
tool_runtime 3027fe9da37c mismatch - renamed
tool_runtime 632ce0140a65 mismatch - renamed
tool_runtime 8fe0bae4f48f mismatch - renamed
tool_runtime b2bdf9be3e67 mismatch - renamed
responses 268e65efffed unverifiable - -
responses a2af3b8ac57b unverifiable - -
agents 1d82e9439ae3 mismatch - -
agents 3a1a67912f65 mismatch - -
agents 5cc7605f9950 mismatch - -
agents accd741d4b74 mismatch - -
"""
# The 4 legacy 12-hex files in agents/ carry tool-call ids made from their own names
# (`toolcall-<name[:8]>-0`) in their bodies: rewritten after naming, so no rule reproduces them.


def _anomalies(corpus: Path) -> dict[Path, tuple[str, str | None, str | None]]:
    table: dict[Path, tuple[str, str | None, str | None]] = {}
    for line in ANOMALY_TABLE.strip().splitlines():
        suite, prefix, status, rule, cause = line.split()
        (path,) = (corpus / NEW / suite / "recordings").glob(f"{prefix}*.json")
        table[path] = (status, None if rule == "-" else rule, None if cause == "-" else cause)
    return table


def _load(path: Path) -> dict[str, Any]:
    raw = parse_json(path.read_bytes(), path)
    assert isinstance(raw, dict)
    return raw


def test_corpus_anomalies(corpus: Path) -> None:
    anomalies = _anomalies(corpus)
    assert len(anomalies) == 19
    for path, expected in anomalies.items():
        verdict = verify_name(path.name, _load(path))
        assert (verdict.status, verdict.rule, verdict.cause) == expected, path.name


def test_every_other_upstream_corpus_file_is_ok(corpus: Path) -> None:
    files = corpus_files("llama-stack") + corpus_files("llama-stack-2025-08")
    assert len(files) == 197
    anomalies = _anomalies(corpus)
    rules: dict[str, int] = {}
    for path in files:
        if path in anomalies:
            continue
        verdict = verify_name(path.name, _load(path))
        assert verdict.status == "ok", (path, verdict.message)
        assert verdict.rule is not None
        rules[verdict.rule] = rules.get(verdict.rule, 0) + 1
    assert rules == {"current": 113, "http": 14, "model-list": 15, "tool": 6, "legacy-12hex": 30}


def _independent_name(rule: HashRule, raw: dict[str, Any]) -> str | None:
    """A rule's name computed from scratch, without the shortcuts RuleKeys takes."""
    if not rule.applies(raw):
        return None
    try:
        key = rule.key(raw) if rule.key is not None else inference_key(raw, rule.steps, with_test_id=rule.test_id)
    except KEY_ERRORS:
        return None
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()
    if rule.style == "short":
        return f"{digest[:12]}.json"
    if rule.model_list:
        models = model_list_digest(raw)
        return f"models-{digest}-{models}.json" if models is not None else None
    return f"{digest}.json"


@pytest.mark.usefixtures("corpus")
def test_shared_keys_give_the_same_names_as_computing_each_rule_alone() -> None:
    for path in corpus_files():
        raw = _load(path)
        if not isinstance(raw.get("request"), dict):
            continue
        keys = RuleKeys(raw)
        verify_name(path.name, raw, keys=keys)  # fills the shared caches in the order the check does
        for rule in RULES:
            assert keys.name(rule) == _independent_name(rule, raw), (path.name, rule.name)


# --- long strings and shared hashing (speed paths that must not change a name) -------------------------------


IMAGE = "data:image/png;base64," + "iVBORw0KGgoAAAANSUhEUg" * 400  # longer than LONG_STRING


@pytest.mark.parametrize(
    "content",
    [
        IMAGE,  # stood in for while dumping, spliced back
        IMAGE + "\n",  # a control character: json.dumps escapes it, so it is dumped as it is
        IMAGE + "é",  # not ASCII: escaped too
        IMAGE + ' "quoted" \\',  # a quote and a backslash
        ["\x000\x00", IMAGE],  # a string that looks like the stand-in: the key is dumped without stand-ins
        [IMAGE, IMAGE, "score: 0.123456 " * 300],  # two stand-ins, and a long string that normalization changes
    ],
)
def test_long_strings_give_the_names_computed_without_shortcuts(content: Any) -> None:
    assert len(IMAGE) > LONG_STRING
    raw = chat({"model": "m", "messages": [{"role": "user", "content": content}], "temperature": 0.123456789})
    keys = RuleKeys(raw)
    verify_name("x.json", raw, keys=keys)
    for rule in RULES:
        assert keys.name(rule) == _independent_name(rule, raw), rule.name
    without = {k: v for k, v in inference_key(raw).items() if k != "test_id"}
    assert keys.inference_digest(test_id=False) == sha256_key(without)
    assert keys.inference_digest() == sha256_key(inference_key(raw))


def _nested(depth: int) -> Any:
    value: Any = "leaf 0.1234567"
    for level in range(depth):
        value = {"k": value} if level % 2 else [value]
    return value


# Bodies dumped as stored when their JSON text shows that no step changes them, else walked: either way, the
# names must be those of the walk.
@pytest.mark.parametrize(
    "body",
    [
        {"model": "m", "messages": [{"role": "user", "content": "hi"}], "temperature": 0.7},
        {"model": "m", "temperature": 0.0001, "top_p": 0.9},  # a float with a decimal tail that rounding keeps
        {"model": "m", "temperature": 0.0001, "prompt": "pi is 3.1416"},  # and a string with one
        {"model": "m", "prompt": "pi is 3.14159"},  # a string's tail that rewriting keeps
        {"model": "m", "prompt": "v1.2345", "seed": 0.5},
        {"model": "m", "prompt": "\u00e91.23456 and \u07191.23456"},  # escapes end in digits before a decimal
        {"model": "m", "temperature": 1.5e-07},  # a negative exponent: rounded to 0.0
        {"model": "m", "temperature": 1e-05, "prompt": "e-5"},
        {"model": "m", "temperature": 0.123456789},
        {"model": "m", "big": 1e300, "nan": float("nan"), "inf": float("inf"), "zero": -0.0},
        {"model": "m", "prompt": "<|begin_of_text|> no citation"},
        {"model": "m", "prompt": "see <|12345678-1234-1234-1234-123456789abc|>"},
        {"model": "m", "prompt": "score: 0.9, attributes: {'a': 1}"},
        {"model": "m", "score": 1},  # a word in a key: walked, nothing changes
        # file_search words: scrubbed by the current rule, dumped as stored by the rule of before the scrub
        {"model": "m", "prompt": "score: 0.5 document_id: 12345678-1234-1234-1234-123456789abc <|x|>"},
        {"model": "m", "prompt": "score: 0.123456"},  # and a decimal that both rules rewrite
        {"model": "m", "items": [{"extra_body": {"project_id": "p"}}], "prompt": "attributes: {}"},
        {"model": "m", "extra_body": {"project_id": "p", "other": 1}},
        {"model": "m", "stream": True, "stream_options": {"include_usage": True}},
        {"model": "m", "huge": 10**100, "surrogate": "\ud800 lone"},
        {"model": "m", "deep": _nested(100)},
        {"model": "m", "deep": _nested(250)},
        [1, 2.5, "x"],
        "just a prompt",
        None,
    ],
)
@pytest.mark.parametrize(
    "url",
    [
        "http://0.0.0.0:11434/v1/v1/chat/completions",
        "https://bedrock-runtime.x.com/v1/c",
        "http://h/" + "p" * 3000 + "/v1/chat/completions;params",  # too long to be kept parsed
    ],
)
def test_bodies_dumped_as_stored_give_the_names_computed_without_shortcuts(body: Any, url: str) -> None:
    raw = chat({}, url=url)
    raw["request"]["body"] = body
    keys = RuleKeys(raw)
    verify_name("x.json", raw, keys=keys)
    for rule in RULES:
        assert keys.name(rule) == _independent_name(rule, raw), rule.name
    try:
        without = {k: v for k, v in inference_key(raw).items() if k != "test_id"}
        expected: str | None = digest(without)
    except KEY_ERRORS:
        expected = None
    assert keys.inference_digest(test_id=False) == expected


def test_strings_are_normalized_as_upstream_does() -> None:
    # Random strings of the pieces the file_search and number steps look for (the attributes block is
    # found from its literal, the spaces and comma before it added back): upstream's own code decides.
    pieces = [" ", "\t", "\n", "\u00a0", ",", ", ", "attributes", "attributes:", ": ", "{", "}", "{'k': 1}", "x"]
    pieces += ["score:", "score: 0.5", " 1e-3", "document_id: ", UUID, "<|", "|>", "3.14159265", "-2.5", "7.1234"]
    rng = random.Random(7)
    for _ in range(20_000):
        value = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 12)))
        assert normalize_body(value) == upstreamrecorder.normalize_body(value), value


def test_long_strings_shared_by_recordings_give_each_its_own_name() -> None:
    # The hash up to an image is kept from one recording to the next that holds it after the same text.
    other = IMAGE[:-1] + "A"  # as long as IMAGE, another string
    for image, model in ((IMAGE, "a"), (IMAGE, "b"), (other, "c"), (IMAGE, "d")):
        raw = chat({"messages": [{"role": "user", "content": [{"image_url": {"url": image}}]}], "model": model})
        keys = RuleKeys(raw)
        for rule in RULES:
            assert keys.name(rule) == _independent_name(rule, raw), rule.name


def test_a_long_test_id_is_hashed_whole() -> None:
    raw = chat({"model": "m", "messages": [{"role": "user", "content": IMAGE}]})
    raw["test_id"] = "tests/t.py::t[" + "p" * (2 * LONG_STRING) + "]"
    keys = RuleKeys(raw)
    assert keys.inference_digest(test_id=False) == sha256_key(inference_key(raw, with_test_id=False))
    assert keys.inference_digest() == sha256_key(inference_key(raw))
