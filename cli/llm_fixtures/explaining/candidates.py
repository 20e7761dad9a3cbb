"""The recordings that bear on a miss: the test's own for that endpoint and model, its other models and
parametrizations, other tests' for the same endpoint and model; what `check` says of each name, and whether its
content is the very request replay looked for."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from llm_fixtures.checking.hashes import check_hash
from llm_fixtures.explaining.model import Candidate, Miss, Relation
from llm_fixtures.facts import Facts
from llm_fixtures.filtering import matches_node_id
from llm_fixtures.hashing import KEY_ERRORS, RULES, RuleKeys, family_of, http_key, inference_key, sha256_key

# Models a miss message prints when the request named none.
_NO_MODEL = frozenset({"", "unknown", "None"})


@dataclass(slots=True)
class Related:
    """The facts of the recordings that bear on one miss, by how they relate to its test. `named` are files
    already named by the missing hash (the log is older than the files, or the file is in another folder)."""

    this_test: list[Facts] = field(default_factory=list)
    other_models: list[Facts] = field(default_factory=list)
    other_parametrizations: list[Facts] = field(default_factory=list)
    other_tests: list[Facts] = field(default_factory=list)
    named: list[Facts] = field(default_factory=list)

    def all(self) -> list[tuple[Relation, Facts]]:
        groups: tuple[tuple[Relation, list[Facts]], ...] = (
            ("this-test", self.this_test),
            ("other-model", self.other_models),
            ("other-parametrization", self.other_parametrizations),
            ("other-test", self.other_tests),
        )
        return [(relation, facts) for relation, group in groups for facts in group]


def _path_of(url: str | None) -> str | None:
    if url is None:
        return None
    try:
        return urlsplit(url).path
    except ValueError:
        return None


def endpoint_of(miss: Miss) -> str | None:
    """The endpoint a miss is about, as a recording's facts name it: the URL path (which is what an inference key
    holds), the genai endpoint, the URL of an http call, `provider.tool` for a tool."""
    if miss.kind in ("inference", "genai"):
        return miss.endpoint if miss.kind == "genai" and miss.endpoint else _path_of(miss.url)
    if miss.kind == "tool":
        return miss.endpoint
    return miss.url


def serves(facts: Facts, miss: Miss) -> bool:
    """Whether a recording is of the call that missed (same kind of call, same endpoint)."""
    if miss.kind == "tool":
        return facts.kind == "tool" and facts.endpoint == miss.endpoint
    if miss.kind in ("rerank", "http", "http-stream"):
        return facts.kind == "http" and (miss.url is None or facts.url == miss.url)
    if facts.kind != "inference":
        return False
    if miss.url is None:
        return miss.endpoint is None or facts.endpoint == miss.endpoint
    # The same URL path, or another provider's base path before the same endpoint (`/openai/v1` + `/v1/chat/...`).
    path = _path_of(miss.url) or ""
    return _path_of(facts.url) == path or (facts.endpoint.startswith("/") and path.endswith(facts.endpoint))


def same_model(facts: Facts, miss: Miss) -> bool:
    return miss.model is None or miss.model in _NO_MODEL or facts.model == miss.model


def _function(test_id: str) -> str:
    return test_id.split("[", 1)[0]


def relate(miss: Miss, facts: Iterable[Facts]) -> Related:
    """Sort the project's recordings by how they bear on the miss (pure: over their facts)."""
    related = Related()
    test = miss.test_id
    for fact in facts:
        if miss.hash is not None and fact.hash == miss.hash:
            related.named.append(fact)
        if not serves(fact, miss):
            continue
        if test is not None and matches_node_id(fact.test_id, test):
            (related.this_test if same_model(fact, miss) else related.other_models).append(fact)
        elif test is not None and fact.test_id and matches_node_id(_function(fact.test_id), _function(test)):
            related.other_parametrizations.append(fact)
        elif same_model(fact, miss):
            related.other_tests.append(fact)
    return related


def rekeyable_key(raw: dict[str, Any]) -> dict[str, Any] | None:
    """The current rule's key of a recording (inference or http), whose `test_id` can be set to another test's:
    None for a kind whose key has no test id, or no key."""
    family = family_of(raw)
    try:
        if family == "inference":
            return inference_key(raw)
        if family == "http":
            return http_key(raw)
    except KEY_ERRORS:
        return None
    return None


def rekeyed_digest(key: dict[str, Any] | None, test_id: str) -> str | None:
    """The hash of `rekeyable_key` had test `test_id` made the request (a model list's key holds no test id and
    is unchanged)."""
    if key is None:
        return None
    try:
        return sha256_key({**key, "test_id": test_id} if "test_id" in key else key)
    except KEY_ERRORS:
        return None


@dataclass(slots=True)
class Examined:
    """What a recording is, whatever the miss: `check`'s verdict on its name and its keys (computed once per file
    and run, since many misses can bear on one file)."""

    facts: Facts
    raw: dict[str, Any] | None
    keys: RuleKeys | None = None
    status: str = "unreadable"
    message: str = "could not be read again"
    check_cause: str | None = None
    expected_name: str | None = None
    _rekeyable: dict[str, Any] | None = None
    _rekeyed: bool = False

    @classmethod
    def of(cls, facts: Facts, raw: dict[str, Any] | None) -> Examined:
        examined = cls(facts, raw)
        if raw is not None:
            examined.keys = RuleKeys(raw)
            finding, verdict = check_hash(facts.path, facts.name, raw, examined.keys)
            examined.status, examined.message = finding.status, finding.message
            examined.check_cause, examined.expected_name = verdict.cause, verdict.expected_name
        return examined

    def rekeyable(self) -> dict[str, Any] | None:
        if not self._rekeyed and self.raw is not None:
            self._rekeyable, self._rekeyed = rekeyable_key(self.raw), True
        return self._rekeyable


def replayed_as(examined: Examined, miss: Miss, relation: Relation) -> str | None:
    """The rule under which the recording's content hashes to the missing hash, if one does: its own test id
    for the test's recordings (and for tool calls, whose key has none), the missing test's for other tests'.
    Of several rules that agree, the one that gives the file its own name, else the first (current rules first)."""
    raw, keys = examined.raw, examined.keys
    if miss.hash is None or raw is None or keys is None:
        return None
    if relation == "other-test" and miss.kind != "tool" and miss.test_id is not None:
        return "current" if rekeyed_digest(examined.rekeyable(), miss.test_id) == miss.hash else None
    matching = [rule for rule in RULES if rule.applies(raw) and keys.digest(rule) == miss.hash]
    named = [rule for rule in matching if keys.name(rule) == examined.facts.name]
    return (named or matching)[0].name if matching else None


def judge(examined: Examined, relation: Relation, miss: Miss, gone: str | None) -> Candidate:
    """A recording as a candidate for the miss: its `check` hash status and, when its content hashes to the
    missing hash, the rule that says so."""
    facts = examined.facts
    return Candidate(
        path=facts.path,
        test_id=facts.test_id,
        relation=relation,
        model=facts.model,
        status=examined.status,
        message=examined.message,
        check_cause=examined.check_cause,
        expected_name=examined.expected_name,
        replays_as=replayed_as(examined, miss, relation),
        test_gone=gone,
    )
