"""Reading a pytest log for replay misses: lines made plain, node ids found and vetted, every upstream message
read back, each miss given its test, sightings merged. Table-driven, over text (no files)."""

from __future__ import annotations

import copy
import hashlib
import json
import random
import time
from typing import Any

import pytest

from llm_fixtures.explaining import logreading
from llm_fixtures.explaining.logreading import read_log
from llm_fixtures.explaining.logtext import clean_line
from llm_fixtures.explaining.messages import tool_arguments
from llm_fixtures.explaining.model import Miss
from llm_fixtures.explaining.nodeids import find_node_ids
from llm_fixtures.rerecording.nodeids import node_id_problem

H1 = "8a572c8957c1047e5c2418de2e05ccdeb9e114283782de36cf4ad394ddd6928e"
H2 = "f319c2abe26c545b191e47a229c2cf9ccc9b33ee20ab7c91f0713ab2383acf1b"
HINT = "Run './scripts/integration-tests.sh --inference-mode record-if-missing' with required API keys to generate."
NODE = "tests/integration/inference/test_chat.py::test_rounding[txt=openai/gpt-4o]"


@pytest.mark.parametrize(
    ("raw", "plain"),
    [
        ("2025-10-01T12:00:00.1234567Z FAILED x", "FAILED x"),
        ("test\tRun tests\t2025-10-01T12:00:00.1234567Z E   boom", "E   boom"),
        ("\x1b[1m\x1b[31mE   RuntimeError: x\x1b[0m", "E   RuntimeError: x"),
        ("\x1b]0;a title\x07text", "text"),
        ("\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\", "link"),
        ("progress 10%\rprogress 100%\r", "progress 100%"),
        ("##[error]Process completed with exit code 1.", "Process completed with exit code 1."),
        ("##[group]Run pytest", "Run pytest"),
        ("a\x00b\x07c\x85d", "abcd"),
        ("\x9b31mred", "red"),
        ("  kept  \t", "  kept"),
    ],
)
def test_a_line_is_made_plain(raw: str, plain: str) -> None:
    assert clean_line(raw) == plain


@pytest.mark.parametrize(
    ("line", "ids"),
    [
        (f"{NODE} FAILED [ 23%]", [NODE]),
        (f"FAILED {NODE} - RuntimeError: x", [NODE]),
        ("t/test_a.py::test_x[What is 2 + 2?] PASSED", ["t/test_a.py::test_x[What is 2 + 2?]"]),
        ("t/test_a.py::TestA::test_x[a[b]] PASSED", ["t/test_a.py::TestA::test_x[a[b]]"]),
        ("[gw1] [ 50%] FAILED t/test_a.py::test_x", ["t/test_a.py::test_x"]),
        ("t/test_a.py::test_x[cut off", []),
        ("t/test_a.py::test_x[a]b PASSED", []),
        ("/abs/t/test_a.py::test_x PASSED", []),
        ("see t/test_a.py::test_x and t/test_b.py::test_y", ["t/test_a.py::test_x", "t/test_b.py::test_y"]),
    ],
)
def test_node_ids_are_found_with_their_parameters(line: str, ids: list[str]) -> None:
    assert [found for found, _, _ in find_node_ids(line)] == ids


@pytest.mark.parametrize(
    ("node_id", "safe"),
    [
        (NODE, True),
        ("t/test_a.py::test_x[--rm -rf /]", True),  # parameters are data, quoted when shown
        ("-k.py::test_x", False),
        ("--help.py::x", False),
        ("@args.py::x", False),
        ("/etc/test_a.py::test_x", False),
        ("../test_a.py::test_x", False),
        ("t/../../test_a.py::test_x", False),
        ("t\\test_a.py::test_x", False),
        ("C:/t/test_a.py::test_x", False),
        ("t/test_a.txt::test_x", False),
        ("t/test_a.py", False),
        ("t/test_a.py::test_x[\x1b[31m]", False),
        ("t/test_a.py::" + "x" * 2000, False),
    ],
)
def test_only_plain_relative_node_ids_are_safe(node_id: str, safe: bool) -> None:
    assert (node_id_problem(node_id) is None) is safe


def _section(title: str, *body: str) -> list[str]:
    return [f"{'_' * 10} {title} {'_' * 10}", *body]


def one(text: str) -> Any:
    reading = read_log(text)
    assert len(reading.misses) == 1, reading.misses
    return reading.misses[0]


def test_an_inference_miss_in_a_short_traceback() -> None:
    log = "\n".join(
        [
            f"{NODE} FAILED [ 23%]",
            "=" * 10 + " FAILURES " + "=" * 10,
            *_section(
                "test_rounding[txt=openai/gpt-4o]",
                "tests/integration/inference/test_chat.py:16: in test_rounding",
                "    answer = stack.chat(",
                "tests/integration/conftest.py:108: in chat",
                "    raise RuntimeError(",
                f"E   RuntimeError: Recording not found for request hash: {H1}",
                "E   Model: gpt-4o | Request: POST https://api.openai.com/v1/v1/chat/completions",
                "E   ",
                f"E   {HINT}",
            ),
            "=" * 10 + " short test summary info " + "=" * 10,
            f"FAILED {NODE} - RuntimeError: Recording not found for request hash: {H1[:20]}...",
        ]
    )
    miss = one(log)
    assert (miss.kind, miss.test_id, miss.hash, miss.model) == ("inference", NODE, H1, "gpt-4o")
    assert (miss.method, miss.url) == ("POST", "https://api.openai.com/v1/v1/chat/completions")
    assert miss.line == 8


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (
            [f"E   RuntimeError: Recording not found for genai request hash: {H2}", "E   Model: gemini | Endpoint: /g"],
            {"kind": "genai", "hash": H2, "model": "gemini", "endpoint": "/g", "url": "vertexai:///g"},
        ),
        (
            ["E   RuntimeError: Recording not found for rerank request | URL: http://h:8000/v1/rerank", "E   "],
            {"kind": "rerank", "url": "http://h:8000/v1/rerank", "hash": None},
        ),
        (
            ["E   RuntimeError: Recording not found for httpx POST http://0.0.0.0:11434/v1/messages"],
            {"kind": "http", "url": "http://0.0.0.0:11434/v1/messages"},
        ),
        (
            ["E   RuntimeError: Recording not found for httpx stream POST https://g.example/v1beta/interactions"],
            {"kind": "http-stream", "url": "https://g.example/v1beta/interactions"},
        ),
        (
            ["E   RuntimeError: Recording not found for tavily-search.web_search | Request: {'query': 'x', 'n': 3}"],
            {"kind": "tool", "endpoint": "tavily-search.web_search", "tool_kwargs": {"query": "x", "n": 3}},
        ),
        (
            # Before #3760 (October 2025): the request and the model on lines of their own.
            [
                f"E   RuntimeError: No recorded response found for request hash: {H1}",
                "E   Request: POST http://localhost:11434/v1/v1/chat/completions {'model': 'llama3.2:3b'}",
                "E   Model: llama3.2:3b",
                "E   To record this response, run with LLAMA_STACK_TEST_INFERENCE_MODE=record",
            ],
            {
                "kind": "inference",
                "hash": H1,
                "model": "llama3.2:3b",
                "url": "http://localhost:11434/v1/v1/chat/completions",
            },
        ),
        (
            ["E   RuntimeError: No recorded tool result found for tavily.web_search", "E   Request: {'query': 'x'}"],
            {"kind": "tool", "endpoint": "tavily.web_search", "tool_kwargs": {"query": "x"}},
        ),
        (
            # Server mode: the message inside an error's repr, its newlines as `\n`.
            [
                f"E   openai.InternalServerError: {{'detail': 'Recording not found for request hash: {H1}\\nModel: m | "
                "Request: POST http://h/v1/chat/completions\\n'}"
            ],
            {"kind": "inference", "hash": H1, "model": "m", "url": "http://h/v1/chat/completions"},
        ),
    ],
)
def test_every_upstream_message_is_read(message: list[str], expected: dict[str, Any]) -> None:
    miss = one("\n".join(_section("test_x", "t/test_a.py:3: in test_x", *message)))
    assert {key: getattr(miss, key) for key in expected} == expected
    assert miss.test_id == "t/test_a.py::test_x"  # from the section title and the traceback's test file


def test_the_hash_of_a_tool_miss_is_computed_as_upstream_does() -> None:
    miss = one(
        "E   RuntimeError: Recording not found for tavily.web_search | Request: {'query': 'OGX', 'max_results': 3}"
    )
    key = {"provider": "tavily", "tool_name": "web_search", "kwargs": {"query": "OGX", "max_results": 3}}
    assert miss.hash == hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()


@pytest.mark.parametrize(
    "text",
    [
        "{'a': 1",  # cut off
        "{'a': 1}...",
        "{'a': f(1)}",  # not a literal
        "{'a': " + "[" * 5000 + "]" * 5000 + "}",  # nested beyond the parser
        "{'a': '" + "x" * 70_000 + "'}",  # too long
        "['a']",  # not keyword arguments
        "{'a': {1, 2}}",  # a set: not JSON, no hash
    ],
)
def test_tool_arguments_that_cannot_be_read_back_exactly_give_no_hash(text: str) -> None:
    value = tool_arguments(text)
    miss = one(f"E   RuntimeError: Recording not found for tavily.web_search | Request: {text}")
    assert value is None or miss.hash is None


def test_the_recorders_own_source_in_a_traceback_is_not_a_miss() -> None:
    log = [
        "tests/integration/conftest.py:180: in rerank",
        '    raise RuntimeError(f"Recording not found for rerank request | URL: {url}\\n\\n{HINT}")',
        '                f"Recording not found for request hash: {request_hash}\\n"',
        "E   RuntimeError: Recording not found for rerank request | URL: http://h/v1/rerank",
    ]
    miss = one("\n".join(_section("test_rerank", *log)))
    assert miss.url == "http://h/v1/rerank"


def test_a_summary_line_alone_gives_the_test_and_what_it_kept_of_the_hash() -> None:
    miss = one(f"FAILED {NODE} - RuntimeError: Recording not found for request hash: {H1[:23]}...")
    assert (miss.test_id, miss.hash, miss.hash_prefix) == (NODE, None, H1[:23])


def test_tb_line_and_summary_merge_by_hash_prefix() -> None:
    log = [
        "=" * 5 + " FAILURES " + "=" * 5,
        f"/home/ci/tests/integration/conftest.py:108: RuntimeError: Recording not found for request hash: {H1}",
        "=" * 5 + " short test summary info " + "=" * 5,
        f"FAILED {NODE} - RuntimeError: Recording not found for request hash: {H1[:23]}...",
    ]
    miss = one("\n".join(log))
    assert (miss.test_id, miss.hash, miss.hash_prefix, miss.line) == (NODE, H1, None, 2)


def test_a_cut_off_url_is_not_taken_for_the_url() -> None:
    miss = one(
        "FAILED t/test_a.py::test_r - RuntimeError: Recording not found for rerank request | URL: http://localhos..."
    )
    assert (miss.kind, miss.url, miss.test_id) == ("rerank", None, "t/test_a.py::test_r")


def test_the_title_is_matched_to_the_reported_node_id_and_the_traceback_tells_twins_apart() -> None:
    log = [
        "a/test_x.py::TestA::test_same[p] FAILED",
        "b/test_y.py::TestA::test_same[p] FAILED",
        *_section(
            "TestA.test_same[p]",
            "b/test_y.py:9: in test_same",
            f"E   RuntimeError: Recording not found for request hash: {H1}",
        ),
        *_section(
            "ERROR at setup of TestA.test_same[p]", f"E   RuntimeError: Recording not found for request hash: {H2}"
        ),
    ]
    first, second = read_log("\n".join(log)).misses
    assert first.test_id == "b/test_y.py::TestA::test_same[p]"
    assert second.test_id is None  # two tests bear that title and nothing tells which


def test_a_title_wider_than_the_terminal_and_a_chained_exception() -> None:
    log = [
        "_ test_x[a very long parameter] _",
        "t/test_a.py:4: in test_x",
        "E   KeyError: 1",
        "",
        "During handling of the above exception, another exception occurred:",
        "_ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _",
        f"E   RuntimeError: Recording not found for request hash: {H1}",
    ]
    assert one("\n".join(log)).test_id == "t/test_a.py::test_x[a very long parameter]"


def test_without_results_the_node_id_is_made_from_the_title_and_the_test_file() -> None:
    log = _section(
        "TestA.test_x[a b]",
        "tests/test_a.py:4: in test_x",
        "    client.call()",
        "tests/conftest.py:9: in call",
        f"E   RuntimeError: Recording not found for request hash: {H1}",
    )
    assert one("\n".join(log)).test_id == "tests/test_a.py::TestA::test_x[a b]"


def test_a_node_id_that_could_be_an_option_or_a_path_outside_is_set_aside() -> None:
    for bad in ("--co.py::x", "../../x.py::test_x"):
        miss = one(f"FAILED {bad} - RuntimeError: Recording not found for request hash: {H1}")
        assert miss.test_id in (None,)
        if bad.startswith(".."):
            assert miss.rejected_test_id == bad


def test_the_same_session_miss_in_several_tests_is_one_miss_per_test() -> None:
    log = [
        f"ERROR t/test_a.py::test_{name} - RuntimeError: Recording not found for request hash: {H1}" for name in "ab"
    ]
    assert [miss.test_id for miss in read_log("\n".join(log)).misses] == ["t/test_a.py::test_a", "t/test_a.py::test_b"]


def test_results_are_counted_failed_apart() -> None:
    log = "\n".join(["t/test_a.py::test_a PASSED [ 50%]", "t/test_a.py::test_b FAILED [100%]", "ERROR t/test_c.py::x"])
    reading = read_log(log)
    assert reading.tests == {"t/test_a.py::test_a", "t/test_a.py::test_b", "t/test_c.py::x"}
    assert reading.failed == {"t/test_a.py::test_b", "t/test_c.py::x"}
    assert reading.misses == []


def test_a_hostile_log_is_read_without_error() -> None:
    hostile = "\n".join(
        [
            "\x00" * 1000,
            "Recording not found for " * 1000,
            "_" * 100_000,
            "t/test_a.py::" + "[" * 10_000,
            "E   RuntimeError: Recording not found for request hash: " + "f" * 500,
            "E   Model: " + "| Request: " * 1000,
            "\x1b[" + "1;" * 10_000 + "m",
        ]
    )
    reading = read_log(hostile)
    assert all(miss.hash is None or len(miss.hash) == 64 for miss in reading.misses)


def _merged_pairwise(misses: list[Miss]) -> list[Miss]:
    """`merge` as it was first written: each sighting compared with every miss kept before it."""
    merged: list[Miss] = []
    for miss in misses:
        for kept in merged:
            if logreading._same(kept, miss):
                logreading._absorb(kept, miss)
                break
        else:
            merged.append(miss)
    return merged


def _random_miss(rng: random.Random, line: int) -> Miss:
    full = rng.choice(["a1b2c3d4e5f6a7b8", "a1b2c3d4e5f6ffff", "a1b2c3ffffffffff", "a1b2", "0f0f0f0f0f0f0f0f"])
    known = rng.choice([None, full, full[: rng.randint(2, len(full))]])
    return Miss(
        kind=rng.choice(["inference", "tool"]),
        line=line,
        test_id=rng.choice([None, "t.py::a", "t.py::b"]),
        hash=known if known is not None and rng.random() < 0.5 else None,
        hash_prefix=known if known is not None and rng.random() < 0.5 else None,
        url=rng.choice([None, "http://h/v1/chat/completions", "http://h/v1/models"]),
        model=rng.choice([None, "m1", "m2"]),
    )


@pytest.mark.parametrize("seed", range(200))
def test_merging_by_index_gives_what_comparing_every_pair_gives(seed: int) -> None:
    # Sightings with and without test ids, whole hashes and prefixes of every length (shorter than the index's
    # key too), agreeing and not: the same misses, each with the same fields.
    rng = random.Random(seed)
    misses = [_random_miss(rng, line) for line in range(rng.randint(1, 30))]
    assert logreading.merge(copy.deepcopy(misses)) == _merged_pairwise(copy.deepcopy(misses))


def test_a_log_of_thousands_of_misses_is_merged_in_a_moment() -> None:
    hashes = [hashlib.sha256(str(n).encode()).hexdigest() for n in range(20_000)]
    misses = [Miss(kind="inference", line=n, test_id=f"t.py::t{n}", hash=hashes[n]) for n in range(20_000)]
    misses += [Miss(kind="inference", line=n, hash_prefix=hashes[n][:12]) for n in range(20_000)]  # summary lines
    started = time.monotonic()
    merged = logreading.merge(misses)
    assert time.monotonic() - started < 5  # comparing every pair took minutes
    assert len(merged) == 20_000
