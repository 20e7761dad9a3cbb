"""What a re-record would do: which recordings are selected, the tests to run or the requests to send, and the
tokens they used last time (from the stored usage). Pure: takes parsed recordings, returns models."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel

from llm_fixtures.envelopes import parse_envelope
from llm_fixtures.errors import UsageError
from llm_fixtures.facts import Facts
from llm_fixtures.filtering import Filters, keep
from llm_fixtures.hashing import verify_name
from llm_fixtures.rerecording.calls import Unsupported, build_call, key_env_for

Runner = Literal["pytest", "http"]
Action = Literal["run", "send", "skip"]


class Usage(BaseModel):
    """Tokens a recording used, as its stored usage says."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            prompt_tokens=self.prompt_tokens + other.prompt_tokens,
            completion_tokens=self.completion_tokens + other.completion_tokens,
            total_tokens=self.total_tokens + other.total_tokens,
        )


class PlanItem(BaseModel):
    """One selected recording and what would happen to it."""

    path: str
    test_id: str | None
    endpoint: str
    model: str | None
    streaming: bool
    action: Action
    method: str | None = None
    url: str | None = None
    key_env: str | None = None
    reason: str | None = None
    usage: Usage | None = None


class Plan(BaseModel):
    """The whole re-record: the runner, every selected recording, the tests (pytest) and the token total."""

    runner: Runner
    items: list[PlanItem]
    tests: list[str]
    to_do: int
    skipped: int
    usage: Usage
    usage_known: int


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _usage_of(data: Any) -> Usage | None:
    if not isinstance(data, dict):
        return None
    usage = data.get("usage")
    if isinstance(usage, dict):
        # OpenAI names, Anthropic Messages names, Gemini Interactions names.
        prompt = _int(usage.get("prompt_tokens")) or _int(usage.get("input_tokens")) or 0
        prompt = prompt or _int(usage.get("total_input_tokens")) or 0
        completion = _int(usage.get("completion_tokens")) or _int(usage.get("output_tokens")) or 0
        completion = completion or _int(usage.get("total_output_tokens")) or 0
        total = _int(usage.get("total_tokens")) or prompt + completion
        if prompt or completion or total:
            return Usage(prompt_tokens=prompt, completion_tokens=completion, total_tokens=total)
    metadata = data.get("usage_metadata")  # google-genai
    if isinstance(metadata, dict):
        prompt = _int(metadata.get("prompt_token_count")) or 0
        completion = _int(metadata.get("candidates_token_count")) or 0
        total = _int(metadata.get("total_token_count")) or prompt + completion
        if prompt or completion or total:
            return Usage(prompt_tokens=prompt, completion_tokens=completion, total_tokens=total)
    prompt_eval, eval_count = _int(data.get("prompt_eval_count")), _int(data.get("eval_count"))  # Ollama
    if prompt_eval is not None or eval_count is not None:
        prompt, completion = prompt_eval or 0, eval_count or 0
        return Usage(prompt_tokens=prompt, completion_tokens=completion, total_tokens=prompt + completion)
    return None


def stored_usage(raw: dict[str, Any]) -> Usage | None:
    """The tokens a recording used: its body's usage, or for a stream the last chunk that carries one."""
    response = raw.get("response")
    body = response.get("body") if isinstance(response, dict) else None
    items = body if isinstance(body, list) else [body]
    found: Usage | None = None
    for item in items:
        usage = _usage_of(parse_envelope(item)[1])
        if usage is not None:
            found = usage
    return found


def is_stale(name: str, raw: dict[str, Any]) -> bool:
    """What `check` flags: a name that the current upstream rule does not give the stored request."""
    return verify_name(name, raw).status in ("stale", "mismatch")


def nothing_chosen(refs: Sequence[str], filters: Filters, stale: bool, everything: bool) -> bool:
    return not refs and filters == Filters() and not stale and not everything


def select_facts(facts: Iterable[Facts], filters: Filters) -> list[Facts]:
    """The recordings the filters of `ls` keep, sorted by path."""
    return sorted((f for f in facts if keep(f, filters)), key=lambda f: f.path)


def require_choice(refs: Sequence[str], filters: Filters, stale: bool, everything: bool) -> None:
    """Re-recording everything costs money: it is only done when asked for with `--all`."""
    if nothing_chosen(refs, filters, stale, everything):
        raise UsageError(
            "nothing selected: give recordings (paths, hash prefixes, test ids), filters such as --test or "
            "--endpoint, --stale, or --all to re-record every recording"
        )


def _item(facts: Facts, raw: dict[str, Any], runner: Runner, base_url: str | None, api_key_env: str | None) -> PlanItem:
    common = {
        "path": facts.path,
        "test_id": facts.test_id,
        "endpoint": facts.endpoint,
        "model": facts.model,
        "streaming": facts.streaming,
        "usage": stored_usage(raw),
    }
    if runner == "pytest":
        if not facts.test_id or "::" not in facts.test_id:
            reason = "no test id, so no test to run (try --runner http)"
            return PlanItem(**common, action="skip", reason=reason)
        return PlanItem(**common, action="run")
    if raw.get("response", {}).get("is_exception"):
        return PlanItem(**common, action="skip", reason="a recorded exception; re-record it with --runner pytest")
    try:
        call = build_call(raw.get("request"), base_url)
    except Unsupported as exc:
        return PlanItem(**common, action="skip", reason=str(exc))
    key_env = api_key_env or key_env_for(call.url)
    return PlanItem(**common, action="send", method=call.method, url=call.url, key_env=key_env)


def build_plan(
    recordings: Sequence[tuple[Facts, dict[str, Any]]],
    runner: Runner,
    base_url: str | None = None,
    api_key_env: str | None = None,
) -> Plan:
    """The plan for `(facts, parsed file)` pairs, in path order. `api_key_env` names the key variable of every
    request (default: by the provider of each target host)."""
    ordered = sorted(recordings, key=lambda r: r[0].path)
    items = [_item(facts, raw, runner, base_url, api_key_env) for facts, raw in ordered]
    tests = sorted({item.test_id for item in items if item.action == "run" and item.test_id})
    total = Usage()
    known = 0
    for item in items:
        if item.action != "skip" and item.usage is not None:
            total = total + item.usage
            known += 1
    to_do = sum(1 for item in items if item.action != "skip")
    return Plan(
        runner=runner,
        items=items,
        tests=tests,
        to_do=to_do,
        skipped=len(items) - to_do,
        usage=total,
        usage_known=known,
    )


def recordings_of_tests(facts: Iterable[Facts], tests: Iterable[str], root: Path) -> list[Path]:
    """Every recording whose test id is one of `tests` (paths under `root` when relative)."""
    wanted = set(tests)
    return sorted(root / f.path for f in facts if f.test_id in wanted)
