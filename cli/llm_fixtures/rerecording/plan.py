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
from llm_fixtures.nodeids import shown
from llm_fixtures.rerecording.calls import Unsupported, build_call, key_env_for
from llm_fixtures.rerecording.nodeids import absent_test, node_id_problem
from llm_fixtures.rerecording.runs import RunPlan

Runner = Literal["pytest", "http"]
# The most characters of a test id a line names a test by (an id is data: quoted and cut, see nodeids.shown).
LABEL_WIDTH = 300
Action = Literal["run", "send", "skip"]


class Usage(BaseModel):
    """Tokens a recording used, as its stored usage says; None where it does not say."""

    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    total_tokens: int | None = None

    def __add__(self, other: Usage) -> Usage:
        """Field by field, over what is known (unknown and unknown stays unknown)."""
        return Usage(
            prompt_tokens=_plus(self.prompt_tokens, other.prompt_tokens),
            completion_tokens=_plus(self.completion_tokens, other.completion_tokens),
            total_tokens=_plus(self.total_tokens, other.total_tokens),
        )


def _plus(a: int | None, b: int | None) -> int | None:
    if a is None:
        return b
    return a if b is None else a + b


class PlanItem(BaseModel):
    """One selected recording and what would happen to it, or (`path` None) a test selected by its node id that
    has no recording yet, which a run records. `run`: the pytest run (1-based) that re-records it, `setup` the
    setup that run uses, `command` the run as a shell line."""

    path: str | None
    test_id: str | None
    endpoint: str | None
    model: str | None
    streaming: bool
    action: Action
    method: str | None = None
    url: str | None = None
    key_env: str | None = None
    reason: str | None = None
    refused: bool = False  # a test id that may not reach a command line: said file by file
    usage: Usage | None = None
    run: int | None = None
    setup: str | None = None
    command: str | None = None

    @property
    def label(self) -> str:
        """How a line names it: the recording's path, else the test's node id."""
        return self.path if self.path is not None else shown(self.test_id, LABEL_WIDTH)


class Plan(BaseModel):
    """The whole re-record: the runner, every selected recording, the tests (pytest) and the token total, and for
    the pytest runner the runs and how they were chosen (`how`: the preset and the definitions read)."""

    runner: Runner
    items: list[PlanItem]
    tests: list[str]
    to_do: int
    skipped: int
    usage: Usage
    usage_known: int
    runs: list[RunPlan] = []
    how: list[str] = []
    new_tests: int = 0  # of `to_do`: tests that have no recording yet

    @property
    def recordings_to_do(self) -> int:
        return self.to_do - self.new_tests


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _first(*values: int | None) -> int | None:
    return next((value for value in values if value is not None), None)


def _sum(*values: int | None) -> int | None:
    known = [value for value in values if value is not None]
    return sum(known) if known else None


def _made(prompt: int | None, completion: int | None, total: int | None) -> Usage | None:
    if not any((prompt, completion, total)):
        return None  # no count, or only zeros: the file says nothing about what it used
    if total is None and prompt is not None and completion is not None:
        total = prompt + completion
    return Usage(prompt_tokens=prompt, completion_tokens=completion, total_tokens=total)


def _usage_of(data: Any) -> Usage | None:
    """The usage in one object: OpenAI names, Anthropic Messages names (cache reads and writes are prompt
    tokens too), Gemini Interactions names, google-genai `usage_metadata`, Ollama's eval counts."""
    if not isinstance(data, dict):
        return None
    usage = data.get("usage")
    if isinstance(usage, dict):
        prompt = _first(_int(usage.get("prompt_tokens")), _int(usage.get("total_input_tokens")))
        if prompt is None and _int(usage.get("input_tokens")) is not None:
            prompt = _sum(
                _int(usage.get("input_tokens")),
                _int(usage.get("cache_creation_input_tokens")),
                _int(usage.get("cache_read_input_tokens")),
            )
        completion = _first(
            _int(usage.get("completion_tokens")),
            _int(usage.get("output_tokens")),
            _int(usage.get("total_output_tokens")),
        )
        return _made(prompt, completion, _int(usage.get("total_tokens")))
    metadata = data.get("usage_metadata")  # google-genai
    if isinstance(metadata, dict):
        return _made(
            _int(metadata.get("prompt_token_count")),
            _int(metadata.get("candidates_token_count")),
            _int(metadata.get("total_token_count")),
        )
    prompt_eval, eval_count = _int(data.get("prompt_eval_count")), _int(data.get("eval_count"))  # Ollama
    if prompt_eval is not None or eval_count is not None:
        return _made(prompt_eval, eval_count, None)
    return None


def stored_usage(raw: dict[str, Any]) -> Usage | None:
    """The tokens a recording used: the usage of its answer as `show --assemble` folds it (a stream's last
    usage, Anthropic's `message_start` input and `message_delta` output, a Responses stream's final response),
    else of the last item of its body that carries one (embeddings)."""
    from llm_fixtures.assembling import fold_body

    response = raw.get("response")
    body = response.get("body") if isinstance(response, dict) else None
    streaming = bool(response.get("is_streaming")) if isinstance(response, dict) else False
    _kind, result, _warnings = fold_body(body, is_streaming=streaming)
    found = _usage_of(result) or _usage_of(result.get("message"))
    if found is not None:
        return found
    items = body if isinstance(body, list) else [body]
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


def _item(
    facts: Facts,
    raw: dict[str, Any],
    runner: Runner,
    base_url: str | None,
    api_key_env: str | None,
    root: Path,
) -> PlanItem:
    common = {
        "path": facts.path,
        "test_id": facts.test_id,
        "endpoint": facts.endpoint,
        "model": facts.model,
        "streaming": facts.streaming,
        "usage": stored_usage(raw),
    }
    if runner == "pytest":
        if not facts.test_id:
            reason = "no test id, so no test to run (try --runner http)"
            return PlanItem(**common, action="skip", reason=reason)
        problem = node_id_problem(facts.test_id, root)
        if problem is not None:
            reason = f"test id {shown(facts.test_id)} may not be given to pytest ({problem}); not run"
            return PlanItem(**common, action="skip", reason=reason, refused=True)
        if not (root / facts.test_id.split("::", 1)[0]).is_file():
            reason = "its test file no longer exists (an orphan: `fixtures prune` finds these)"
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


def _unrecorded_item(test_id: str, runner: Runner, root: Path) -> PlanItem:
    """A test selected by a node id that names no recording: the pytest runner records it when the id may reach
    pytest, its file exists and defines the test (which setup produces the id is the run plan's to say)."""
    common: dict[str, Any] = {"path": None, "test_id": test_id, "endpoint": None, "model": None, "streaming": False}
    if runner != "pytest":
        reason = "no recording matches it, so there is nothing to resend (the pytest runner records a new test)"
        return PlanItem(**common, action="skip", reason=reason, refused=True)
    problem = node_id_problem(test_id, root)
    if problem is not None:
        reason = f"no recording matches it, and it may not be given to pytest ({problem})"
        return PlanItem(**common, action="skip", reason=reason, refused=True)
    absent = absent_test(root, test_id)
    if absent is not None:
        return PlanItem(**common, action="skip", reason=f"no recording matches it, and {absent}", refused=True)
    return PlanItem(**common, action="run", reason="no recording yet: the run records it")


def _totalled(runner: Runner, items: list[PlanItem], runs: list[RunPlan], how: list[str]) -> Plan:
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
        runs=runs,
        how=how,
        new_tests=sum(1 for item in items if item.action != "skip" and item.path is None),
    )


def build_plan(
    recordings: Sequence[tuple[Facts, dict[str, Any]]],
    runner: Runner,
    base_url: str | None = None,
    api_key_env: str | None = None,
    root: Path | None = None,
    tests: Sequence[str] = (),
) -> Plan:
    """The plan for `(facts, parsed file)` pairs, in path order, then for `tests`, node ids of tests that have no
    recording yet. `api_key_env` names the key variable of every request (default: by the provider of each
    target host). `root`: the project, where test files must be."""
    ordered = sorted(recordings, key=lambda r: r[0].path)
    base = root if root is not None else Path.cwd()
    items = [_item(facts, raw, runner, base_url, api_key_env, base) for facts, raw in ordered]
    items.extend(_unrecorded_item(test, runner, base) for test in dict.fromkeys(tests))
    return _totalled(runner, items, [], [])


def with_runs(plan: Plan, runs: list[RunPlan], unplaced: dict[str, str], how: list[str]) -> Plan:
    """The plan with its pytest runs: each item says which run re-records it; the items of a test no run can
    produce are skipped with the reason."""
    number = {test: index for index, run in enumerate(runs, 1) for test in run.tests}
    items: list[PlanItem] = []
    for item in plan.items:
        if item.action == "run" and item.test_id in unplaced:
            item = item.model_copy(update={"action": "skip", "reason": unplaced[item.test_id]})
        elif item.action == "run" and item.test_id in number:
            run = runs[number[item.test_id] - 1]
            item = item.model_copy(update={"run": number[item.test_id], "setup": run.setup, "command": run.shell})
        items.append(item)
    return _totalled(plan.runner, items, runs, how)


def recordings_of_tests(facts: Iterable[Facts], tests: Iterable[str], root: Path) -> list[Path]:
    """Every recording whose test id is one of `tests` (paths under `root` when relative)."""
    wanted = set(tests)
    return sorted(root / f.path for f in facts if f.test_id in wanted)
