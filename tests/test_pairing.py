"""Pairing: by path first, then within one test id and endpoint by request similarity; the rest added/removed."""

from __future__ import annotations

from typing import Any

from llm_fixtures.diffing.pairing import Candidate, Pair, pair_by_path, pair_by_test, request_tokens, similarity


def chat(*contents: str, model: str = "gpt-4o") -> dict[str, Any]:
    return {"body": {"model": model, "messages": [{"role": "user", "content": c} for c in contents]}}


def test_pair_by_path_splits_both_sides() -> None:
    pairs, old_rest, new_rest = pair_by_path(["a", "b", "c"], ["c", "d", "b"])
    assert pairs == [Pair("b", "b", "path"), Pair("c", "c", "path")]
    assert old_rest == ["a"]
    assert new_rest == ["d"]


def test_similarity_bounds() -> None:
    a = request_tokens(chat("hello", "world"))
    assert similarity(a, a) == 1.0
    assert similarity(frozenset(), frozenset()) == 1.0
    b = request_tokens(chat("hello", "there"))
    assert 0 < similarity(a, b) < 1


def test_changed_request_in_the_same_test_is_one_pair() -> None:
    old = [Candidate("old.json", "t::a", "/v1/chat/completions", chat("What is 2+2?"))]
    new = [Candidate("new.json", "t::a", "/v1/chat/completions", chat("What is 2+2? Be brief."))]
    assert pair_by_test(old, new).pairs == [Pair("old.json", "new.json", "test")]


def test_different_tests_or_endpoints_never_pair() -> None:
    old = [
        Candidate("o1", "t::a", "/v1/chat/completions", chat("x")),
        Candidate("o2", "t::b", "/v1/embeddings", chat("x")),
    ]
    new = [
        Candidate("n1", "t::b", "/v1/chat/completions", chat("x")),
        Candidate("n2", "t::a", "/v1/embeddings", chat("x")),
    ]
    assert pair_by_test(old, new).pairs == [Pair("o1", None), Pair("o2", None), Pair(None, "n1"), Pair(None, "n2")]


def test_multi_turn_test_pairs_each_turn_with_its_counterpart() -> None:
    turns_old = [chat("q1"), chat("q1", "a1", "q2"), chat("q1", "a1", "q2", "a2", "q3")]
    turns_new = [chat("q1!"), chat("q1!", "a1", "q2"), chat("q1!", "a1", "q2", "a2", "q3")]
    old = [Candidate(f"old{i}", "t::conv", "/v1/chat/completions", r) for i, r in enumerate(turns_old)]
    # file names are hashes: their order says nothing about the turn
    new = [Candidate(f"new{2 - i}", "t::conv", "/v1/chat/completions", r) for i, r in enumerate(turns_new)]
    pairs = sorted((p.old, p.new) for p in pair_by_test(old, new).pairs)
    assert pairs == [("old0", "new2"), ("old1", "new1"), ("old2", "new0")]


def test_surplus_recordings_are_added_or_removed() -> None:
    old = [Candidate("o1", "t::a", "/e", chat("one"))]
    new = [Candidate("n1", "t::a", "/e", chat("one")), Candidate("n2", "t::a", "/e", chat("something else"))]
    assert pair_by_test(old, new).pairs == [Pair("o1", "n1", "test"), Pair(None, "n2")]


def test_shared_pool_without_test_id_needs_similar_requests() -> None:
    old = [Candidate("o1", None, "/v1/models", {"body": {}, "method": "POST"})]
    new = [
        Candidate("n1", None, "/v1/models", {"body": {}, "method": "POST"}),
        Candidate("n2", None, "/v1/chat/completions", chat("a")),
    ]
    assert pair_by_test(old, new).pairs == [Pair("o1", "n1", "test"), Pair(None, "n2")]
    unrelated_old = [Candidate("o1", None, "/e", chat("a", "b", "c", model="m1"))]
    unrelated_new = [Candidate("n1", None, "/e", {"payload": {"x": 1}})]
    assert pair_by_test(unrelated_old, unrelated_new).pairs == [Pair("o1", None), Pair(None, "n1")]


def _request(model: str, question: str) -> dict[str, object]:
    return {"body": {"messages": [{"role": "user", "content": question}], "temperature": 0}, "model": model}


def test_a_renamed_parameter_pairs_within_the_test_function_and_endpoint() -> None:
    old_id = "tests/t.py::test_store[client-txt=bedrock/openai.gpt-oss-20b-True]"
    new_id = "tests/t.py::test_store[client-txt=bedrock/openai.gpt-oss-20b-1:0-True]"
    old = [
        Candidate("a.json", old_id, "/v1/chat/completions", _request("m", "What is 2+2?")),
        Candidate("b.json", old_id, "/v1/chat/completions", _request("m", "Name a color.")),
    ]
    new = [
        Candidate("c.json", new_id, "/v1/chat/completions", _request("m", "Name a color.")),
        Candidate("d.json", new_id, "/v1/chat/completions", _request("m", "What is 2+2?")),
    ]
    pairs = pair_by_test(old, new).pairs
    assert pairs == [Pair("b.json", "c.json", "parameters"), Pair("a.json", "d.json", "parameters")]


def test_parametrizations_that_both_still_exist_are_not_paired() -> None:
    azure = "tests/t.py::test_search[txt=azure/gpt-4o]"
    openai = "tests/t.py::test_search[txt=openai/gpt-4o]"
    old = [Candidate("a.json", azure, "/v1/responses", _request("m", "q")), Candidate("k.json", openai, "/x", None)]
    new = [Candidate("b.json", openai, "/v1/responses", _request("m", "q")), Candidate("l.json", azure, "/x", None)]
    pairs = pair_by_test(old, new).pairs
    assert Pair("a.json", None) in pairs and Pair(None, "b.json") in pairs


def test_the_same_recording_elsewhere_is_one_moved_pair() -> None:
    old = [
        Candidate("common/recordings/a.json", None, "/v1/chat/completions", _request("m", "q"), "same"),
        Candidate("common/recordings/b.json", None, "/v1/chat/completions", _request("m", "r"), "other"),
    ]
    new = [
        Candidate(
            "agents/recordings/c.json", "tests/agents/t.py::t", "/v1/chat/completions", _request("m", "q"), "same"
        ),
    ]
    pairs = pair_by_test(old, new).pairs
    assert pairs == [
        Pair("common/recordings/a.json", "agents/recordings/c.json", "moved"),
        Pair("common/recordings/b.json", None),
    ]


def test_the_same_request_moved_and_re_recorded_is_a_moved_pair() -> None:
    old = [Candidate("common/recordings/a.json", None, "/v1/x", _request("m", "q"), "before", "ask-q")]
    new = [Candidate("inference/recordings/b.json", "tests/t.py::t", "/v1/x", _request("m", "q"), "after", "ask-q")]
    assert pair_by_test(old, new).pairs == [Pair("common/recordings/a.json", "inference/recordings/b.json", "moved")]
