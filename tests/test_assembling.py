"""Stream assembly against the real corpus: the 72 expected cases, and every stream assembling without error."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from llm_fixtures.assembling import Assembly, assemble, assemble_sse, comparable
from llm_fixtures.store import load_recording

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
EXPECTED = CORPUS / "expected-assembly.json"


def _cases() -> list[tuple[str, dict[str, Any]]]:
    if not EXPECTED.is_file():
        return []
    cases = json.loads(EXPECTED.read_text())["cases"]
    return [(key, case["expected"]) for key, case in cases.items()]


def _stream_files() -> list[Path]:
    if not CORPUS.is_dir():
        return []
    return sorted(p for p in CORPUS.rglob("*") if p.suffix in (".json", ".sse") and p != EXPECTED)


def differences(actual: Any, expected: Any, path: str = "") -> list[str]:
    """Where two JSON values differ, treating an absent key and null as equal, at every depth."""
    if isinstance(actual, dict) and isinstance(expected, dict):
        found: list[str] = []
        for key in list(actual) + [key for key in expected if key not in actual]:
            found += differences(actual.get(key), expected.get(key), f"{path}.{key}")
        return found
    if isinstance(actual, list) and isinstance(expected, list):
        if len(actual) != len(expected):
            return [f"{path}: {len(actual)} entries, expected {len(expected)}"]
        found = []
        for number, (mine, theirs) in enumerate(zip(actual, expected, strict=True)):
            found += differences(mine, theirs, f"{path}[{number}]")
        return found
    if actual != expected:
        return [f"{path}: {actual!r:.120} != expected {expected!r:.120}"]
    return []


def assemble_file(path: Path) -> Assembly:
    if path.suffix == ".sse":
        return assemble_sse(path.read_text(encoding="utf-8"))
    response = load_recording(path).file.response
    return assemble(response.body, is_streaming=response.is_streaming)


@pytest.mark.parametrize(
    ("actual", "expected", "equal"),
    [
        ({"a": None}, {}, True),
        ({}, {"a": {"b": None}}, False),
        ({"a": {"b": None}}, {"a": {}}, True),
        ({"a": [1, {"x": None}]}, {"a": [1, {}]}, True),
        ({"a": [1]}, {"a": [1, 2]}, False),
        ({"a": "x"}, {}, False),
    ],
)
def test_comparator_treats_absent_and_null_alike(actual: Any, expected: Any, equal: bool) -> None:
    assert (differences(actual, expected) == []) is equal


def test_all_expected_cases_are_present(corpus: Path) -> None:
    del corpus
    assert len(_cases()) == 72


@pytest.mark.parametrize(("key", "expected"), _cases(), ids=lambda value: str(value).rsplit("/", 1)[-1][:40])
def test_expected_assembly(corpus: Path, key: str, expected: dict[str, Any]) -> None:
    assembly = assemble_file(corpus / key)
    assert assembly.kind == expected["kind"]
    assert differences(assembly.result, expected) == []


def test_every_corpus_file_assembles(corpus: Path) -> None:
    files = _stream_files()
    assert files
    streams = 0
    for path in files:
        assembly = assemble_file(path)
        assembly.model_dump_json()  # always serialisable (no lone surrogates)
        assert assembly.result["kind"] == assembly.kind
        if assembly.kind not in ("unknown", "none", "error", "empty"):
            streams += 1
    assert streams >= 180, corpus


def test_stream_and_non_stream_twin_compare_equal() -> None:
    """The non-stream body of a chat completion gives the shape of the stream that says the same thing."""
    message: dict[str, Any] = {"role": "assistant", "content": "Hi", "refusal": None, "annotations": [], "audio": None}
    body = {
        "__type__": "openai.types.chat.chat_completion.ChatCompletion",
        "__data__": {
            "id": "rec-1",
            "object": "chat.completion",
            "created": 0,
            "model": "m",
            "choices": [{"index": 0, "message": message, "finish_reason": "stop", "logprobs": None}],
            "usage": {"total_tokens": 3},
        },
    }
    chunks = [
        {"id": "rec-1", "object": "chat.completion.chunk", "created": 0, "model": "m", "choices": [c]}
        for c in (
            {"index": 0, "delta": {"role": "assistant", "content": "H"}},
            {"index": 0, "delta": {"content": "i"}, "finish_reason": "stop"},
        )
    ] + [{"id": "rec-1", "object": "chat.completion.chunk", "choices": [], "usage": {"total_tokens": 3}}]
    one = assemble(body, is_streaming=False)
    many = assemble(chunks, is_streaming=True)
    assert comparable(one.result) == comparable(many.result)
    assert one.warnings == many.warnings == []
