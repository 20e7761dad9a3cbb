"""The pure core of `fixtures explain`: which recordings bear on a miss, when a recording is certainly the one
replay wanted, how near-duplicates show drift, and how the other causes rank. Over recordings built in memory."""

from __future__ import annotations

import copy
from typing import Any

import pytest

import builders
from llm_fixtures.diffing.volatility import build_volatility
from llm_fixtures.explaining.candidates import rekeyable_key, rekeyed_digest, relate
from llm_fixtures.explaining.drift import find_drift
from llm_fixtures.explaining.model import Explanation, Miss
from llm_fixtures.explaining.report import explain_misses
from llm_fixtures.facts import Facts, derive_facts
from llm_fixtures.hashing import RuleKeys, rule_named

TEST = "tests/integration/inference/test_chat.py::test_q[txt=openai/gpt-4o]"
URL = "https://api.openai.com/v1/v1/chat/completions"
FOLDER = "tests/integration/inference/recordings"
VOLATILITY = build_volatility()


def recording(test_id: str | None = TEST, **body: Any) -> dict[str, Any]:
    request_body = {"model": "gpt-4o", "messages": [{"role": "user", "content": "Hi"}], **body}
    request = builders.sdk_request(URL, "/v1/chat/completions", request_body, model="gpt-4o")
    return builders.recording(request, builders.typed(builders.CHAT_COMPLETION, {"id": "x"}), test_id=test_id)


def digest(raw: dict[str, Any], rule: str = "current") -> str:
    found = RuleKeys(raw).digest(rule_named(rule))
    assert found is not None
    return found


class Project:
    """Recordings in memory, named by a rule (default: the current one), and the tests that are gone."""

    def __init__(self) -> None:
        self.raws: dict[str, dict[str, Any]] = {}
        self.facts: list[Facts] = []
        self.gone: dict[str, str] = {}

    def add(self, raw: dict[str, Any], rule: str = "current", folder: str = FOLDER) -> str:
        path = f"{folder}/{digest(raw, rule)}.json"
        self.raws[path] = raw
        self.facts.append(derive_facts(path, 100, raw))
        return path

    def explain(self, miss: Miss) -> Explanation:
        (explanation,) = explain_misses(
            [miss],
            self.facts,
            lambda facts: copy.deepcopy(self.raws.get(facts.path)),
            lambda facts: self.gone.get(facts.test_id or ""),
            VOLATILITY,
        )
        return explanation


def miss(raw: dict[str, Any] | None = None, test_id: str | None = TEST, **fields: Any) -> Miss:
    """The miss replay raises for `raw`'s request (or for a request nobody recorded)."""
    found = Miss(kind="inference", line=1, test_id=test_id, model="gpt-4o", method="POST", url=URL)
    found.hash = digest(raw) if raw is not None else "0" * 64
    for name, value in fields.items():
        setattr(found, name, value)
    return found


def test_a_recording_named_by_an_older_rule_is_certainly_the_one_replay_wants() -> None:
    project = Project()
    raw = recording(temperature=0.123456789)
    path = project.add(raw, rule="no-normalization")
    explanation = project.explain(miss(raw))
    assert (explanation.cause, explanation.certain) == ("stale-name", True)
    assert explanation.fix == [f"fixtures check --rename --write {path}"]
    [candidate] = explanation.candidates
    assert (candidate.status, candidate.replays_as) == ("stale", "current")


def test_a_recording_named_by_a_newer_rule_than_the_recorder_is_renamed_by_hand() -> None:
    project = Project()
    raw = recording(temperature=0.123456789)
    path = project.add(raw)  # named by today's rule; the replay ran a recorder from before #3403
    old = digest(raw, "no-normalization")
    explanation = project.explain(miss(raw, hash=old))
    assert (explanation.cause, explanation.certain) == ("stale-name", True)
    assert explanation.fix == [f"mv -n -- {path} {FOLDER}/{old}.json"]


def test_the_file_already_named_by_the_missing_hash_is_present() -> None:
    project = Project()
    raw = recording()
    project.add(raw)
    explanation = project.explain(miss(raw))
    assert (explanation.cause, explanation.certain, explanation.fix) == ("present", True, [])


def test_another_tests_recording_of_the_same_request_is_a_renamed_test() -> None:
    project = Project()
    old_id = "tests/integration/inference/test_chat.py::test_old[txt=openai/gpt-4o]"
    path = project.add(recording(test_id=old_id))
    assert rekeyed_digest(rekeyable_key(project.raws[path]), TEST) == digest(recording())
    explanation = project.explain(miss(recording()))
    assert (explanation.cause, explanation.certain) == ("moved-test", True)
    assert explanation.fix == [f"fixtures rerecord '{TEST}'", "fixtures prune"]


def test_a_gone_test_of_the_same_file_is_the_likely_old_id_when_the_request_changed_too() -> None:
    project = Project()
    old_id = "tests/integration/inference/test_chat.py::test_old[txt=openai/gpt-4o]"
    project.add(recording(test_id=old_id, temperature=0.5))
    project.add(recording(test_id="tests/integration/other/test_x.py::test_y", temperature=0.5))  # unrelated
    project.gone[old_id] = "function test_old gone"
    explanation = project.explain(miss(recording()))
    assert [ranked.cause for ranked in explanation.causes] == ["moved-test", "never-recorded"]
    assert [candidate.test_id for candidate in explanation.candidates] == [old_id]
    assert explanation.certain is False


def test_never_recorded_names_the_parametrizations_that_were() -> None:
    project = Project()
    ollama = recording(test_id=TEST.replace("openai/gpt-4o", "ollama/llama3.2:3b"))
    ollama["request"]["body"]["model"] = ollama["request"]["model"] = "llama3.2:3b"
    project.add(ollama)
    explanation = project.explain(miss(recording()))
    assert explanation.cause == "never-recorded"
    assert explanation.reason.endswith(
        "it was recorded with llama3.2:3b only ([txt=ollama/llama3.2:3b]): this setup is not in the record matrix"
    )
    assert [c.relation for c in explanation.candidates] == ["other-parametrization"]


def test_the_same_test_with_another_model_is_a_changed_model() -> None:
    project = Project()
    other = recording()
    other["request"]["body"]["model"] = other["request"]["model"] = "gpt-4o-mini"
    project.add(other)
    explanation = project.explain(miss(recording()))
    assert [ranked.cause for ranked in explanation.causes] == ["model-changed", "never-recorded"]
    assert explanation.fix == [f"fixtures rerecord '{TEST}' --prune-superseded"]


def test_only_stale_names_rank_a_hashing_change_first() -> None:
    project = Project()
    path = project.add(recording(temperature=0.123456789), rule="no-normalization")
    explanation = project.explain(miss(recording(temperature=0.9)))
    assert [ranked.cause for ranked in explanation.causes] == ["stale-names", "request-changed"]
    assert explanation.fix == [
        f"fixtures check --rename --write {path}",
        f"fixtures rerecord '{TEST}' --prune-superseded",
    ]


def test_an_unknown_test_is_said_and_nothing_is_rerecorded() -> None:
    project = Project()
    project.add(recording(temperature=0.1))
    explanation = project.explain(miss(recording(), test_id=None))
    assert (explanation.cause, explanation.fix) == ("unknown-test", [])


def pair(**changes: Any) -> list[tuple[str, dict[str, Any]]]:
    a = recording(max_tokens=None, messages=[{"role": "user", "content": "Hi"}])
    b = copy.deepcopy(a)
    for key, value in changes.items():
        b["request"]["body"][key] = value
    return [("a.json", a), ("b.json", b)]


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        ({"max_tokens": 0}, ["max_tokens"]),
        ({"max_tokens": ""}, ["max_tokens"]),
        ({"messages": [{"role": "user", "content": [{"type": "text", "text": "Hi"}]}]}, ["messages[0].content"]),
        (
            {
                "messages": [
                    {"role": "user", "content": "Hi"},
                    {"role": "tool", "tool_call_id": "call_1", "content": "sunny"},
                ]
            },
            None,  # a message more is a different request, not drift
        ),
        ({"max_tokens": 64}, None),
        ({"user": None}, ["user"]),  # left out vs null
        ({"temperature": 0.0}, None),  # left out vs 0 is a choice: 0 is not the default
        ({"stream": False}, None),  # False is a value, not an empty one
    ],
)
def test_drift_is_only_volatile_looking_differences(changes: dict[str, Any], fields: list[str] | None) -> None:
    drift = find_drift(pair(**changes), VOLATILITY)
    assert (drift and [field.field for field in drift.fields]) == fields


def test_tool_call_ids_drift_and_are_named_by_their_paths() -> None:
    def conversation(call_id: str) -> dict[str, Any]:
        return recording(
            messages=[
                {"role": "user", "content": "Weather?"},
                {
                    "role": "assistant",
                    "tool_calls": [{"id": call_id, "type": "function", "function": {"name": "w", "arguments": "{}"}}],
                },
                {"role": "tool", "tool_call_id": call_id, "content": "sunny"},
            ]
        )

    drift = find_drift([("a.json", conversation("call_a")), ("b.json", conversation("call_b"))], VOLATILITY)
    assert drift is not None
    assert [field.field for field in drift.fields] == ["messages.*.tool_call_id", "messages.*.tool_calls.*.id"]
    assert drift.duplicates == ["a.json", "b.json"]


def test_a_test_with_two_calls_and_one_drifting_pair() -> None:
    first, second = recording(max_tokens=None), recording(max_tokens=0)
    other_call = recording(messages=[{"role": "user", "content": "Bye"}])
    drift = find_drift([("1.json", first), ("2.json", second), ("3.json", other_call)], VOLATILITY)
    assert drift is not None and drift.duplicates == ["1.json", "2.json"]


def test_relate_sorts_recordings_by_how_they_bear_on_the_test() -> None:
    project = Project()
    own = project.add(recording())
    param = project.add(recording(test_id=TEST.replace("gpt-4o]", "gpt-4o-mini]")))
    other = project.add(recording(test_id="tests/integration/x/test_y.py::test_z"))
    elsewhere = recording()
    elsewhere["request"]["url"] = "https://api.openai.com/v1/v1/embeddings"
    elsewhere["request"]["endpoint"] = "/v1/embeddings"
    project.add(elsewhere)
    related = relate(miss(recording(temperature=1.0)), project.facts)
    assert [f.path for f in related.this_test] == [own]
    assert [f.path for f in related.other_parametrizations] == [param]
    assert [f.path for f in related.other_tests] == [other]
