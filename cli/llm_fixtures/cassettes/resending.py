"""`fixtures rerecord --runner http` of cassettes: each interaction's stored request sent again as it was (method,
URI, headers, body), the credential from the environment instead of the stored one, and the answers written back
into the cassette in the style it was written; a cassette any of whose interactions fails stays byte for byte.

What is sent: the stored headers but the credentials (`Authorization`, `x-api-key`, `api-key`, `x-goog-api-key`,
cookies) and those the connection sets (`Host`, `Content-Length`, ...); the key goes in the header the stored request
used (else as the recordings' http runner sends it), from `--api-key-env` or the provider's usual variable, and a
key-bearing query parameter gets it too. Nothing the stored request did not send is added (no `User-Agent` of our
own). The retries, the deadline, the error statuses and the answer shapes are the recordings' http runner's
(`rerecording.httprunner`, `rerecording.answers`).

What is stored: the response as vcrpy stores one (status code and message, every header as a list, the body as
text, or bytes when it is not UTF-8), with the body as the cassette kept it: still compressed where the old answer
kept its `Content-Encoding`, decoded (and the header dropped, as vcrpy's `decode_compressed_response` does) where it
had none. Cookies the old answer did not store are not stored; a header the project scrubbed (`REDACTED`,
crewAI's `OPENAI-ORG-XXX`) keeps its stand-in. The file is written
by the writer that reproduces the old file byte for byte (`cassettes.writer`), the requests untouched, after
checking that the new file reads back to them and holds no key that was sent.

Refused, one line each: WebSocket and gRPC cassettes (no HTTP to resend), pydantic-ai's serializer (`parsed_body`:
its writer is the project's own code), gzipped cassette files, any file no writer of `cassettes.writer` reproduces,
an answer stored decoded under a `Content-Encoding` header (which bytes the recorder kept is unclear), and a request
that carried a credential when no variable is known for the host it goes to (a local one takes none).
"""

from __future__ import annotations

import asyncio
import os
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from llm_fixtures.cassettes.bodies import MAX_BODY, content_decoded, json_of
from llm_fixtures.cassettes.describing import CassetteFacts
from llm_fixtures.cassettes.leaks import SECRET_HEADERS, SECRET_QUERY_KEYS, is_placeholder
from llm_fixtures.cassettes.loading import load_document
from llm_fixtures.cassettes.model import Cassette, Headers, Interaction, header
from llm_fixtures.cassettes.naming import node_id_of_path
from llm_fixtures.cassettes.reading import cassette_of
from llm_fixtures.cassettes.writer import Writer, writer_of
from llm_fixtures.checking.secrets import AUTH_HEADERS
from llm_fixtures.config import Project
from llm_fixtures.errors import BadRecording, FixtureError, UsageError
from llm_fixtures.humanizing import plural
from llm_fixtures.rerecording.calls import PASSTHROUGH_PATHS, Call, Unsupported, auth_headers, build_call, key_env_for
from llm_fixtures.rerecording.httprunner import FileResult, HttpOptions
from llm_fixtures.rerecording.redaction import redact
from llm_fixtures.rerecording.reporting import Reporter
from llm_fixtures.safepaths import read_regular

if TYPE_CHECKING:
    import httpx

    from llm_fixtures.rerecording.session import Request

# Headers the connection sets (or that belong to one hop only): never sent as stored.
_HOP_HEADERS = frozenset(
    {"host", "content-length", "connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade"}
)
_CREDENTIALS = AUTH_HEADERS | {"cookie"}
# What httpx adds to every request unless told otherwise; a request that did not send them does not now.
_CLIENT_DEFAULTS = ("accept", "accept-encoding", "user-agent")
_RETRY_AGAIN = "re-record it with --runner pytest"


@dataclass(frozen=True, slots=True)
class Resend:
    """One interaction to send again: where it is, the request as it goes out (without the key), where the key
    goes, and what the old answer says of how to store the new one."""

    path: str
    index: int
    method: str
    url: str
    headers: list[tuple[str, str]]
    body: bytes | None
    key_env: str | None
    key_header: str | None  # the header that carries the key (None: as the recordings' runner sends it)
    key_scheme: str  # "Bearer " for an Authorization header, else ""
    key_query: str | None  # a query parameter that carries the key
    old_status: int | None
    call: Call | None  # the API call it is, for the answer's shape; None for an API the runner does not know

    @property
    def display(self) -> str:
        return f"{self.path}#{self.index}"


@dataclass(slots=True)
class CassettePlan:
    """What would happen to one cassette: `send` its interactions (`jobs`), or `skip` it (`reason`)."""

    path: str
    action: Literal["send", "skip"]
    reason: str | None = None
    jobs: list[Resend] = field(default_factory=list)
    data: bytes = b""
    tree: Any = None
    cassette: Cassette | None = None
    writer: Writer | None = None


@dataclass(frozen=True, slots=True)
class PlanLine:
    """One line of `rerecord --runner http --dry-run --json` for a cassette."""

    path: str
    action: str
    interactions: int
    urls: list[str]
    key_env: list[str]
    reason: str | None


@dataclass(frozen=True, slots=True)
class Got:
    """An answer received in full: status, reason phrase, headers as sent (names as the server wrote them) and
    the body's bytes as they came over the wire (any content-encoding still on)."""

    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes


class _Skip(Exception):
    """Why an interaction (so its cassette) cannot be re-recorded this way."""


# --- the plan ---------------------------------------------------------------------------------------------------


def _rebased(uri: str, base_url: str | None) -> str:
    if not base_url:
        return uri
    given = urlsplit(base_url)
    return urlunsplit(urlsplit(uri)._replace(scheme=given.scheme, netloc=given.netloc))


def check_base_url(base_url: str | None) -> None:
    """`--base-url` for cassettes is a scheme and a host: each interaction keeps its own path."""
    if base_url is None:
        return
    given = urlsplit(base_url)
    if given.scheme not in ("http", "https") or not given.netloc or given.path.strip("/"):
        raise UsageError(f"--base-url {base_url!r}: for cassettes, give a scheme and a host (http://host:port)")


def _call_of(interaction: Interaction) -> Call | None:
    """The API call an interaction is, as the recordings' http runner knows them (for the answer's shape)."""
    request = interaction.request
    body = json_of(request.body, request.headers)
    if not isinstance(body, dict):
        return None
    path = urlsplit(request.uri).path
    if any(marker in path for marker in PASSTHROUGH_PATHS.values()):
        stored: dict[str, Any] = {"url": request.uri, "method": request.method, "payload": body}
    else:
        stored = {"url": request.uri, "endpoint": path, "body": body}
    try:
        return build_call(stored)
    except Unsupported:
        return None


def _encoded(headers: Headers) -> bool:
    return any(token.strip().lower() not in ("", "identity") for token in header(headers, "content-encoding"))


def _resend(path: str, interaction: Interaction, stored: Any, request: Request) -> Resend:
    """The interaction as it goes out again; _Skip with the reason when it cannot."""
    old, response = interaction.request, interaction.response
    parts = urlsplit(old.uri)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise _Skip(f"its URI {old.uri[:80]!r} is not an http(s) URL")
    answer = stored.get("response") if isinstance(stored, dict) else None
    if not (
        isinstance(answer, dict)
        and isinstance(answer.get("status"), dict)
        and isinstance(answer.get("headers"), dict)
        and isinstance(answer.get("body"), dict)
        and "string" in answer["body"]
    ):
        raise _Skip("its response is not stored as vcrpy stores one (status, headers, body.string)")
    if isinstance(response.body.raw, str) and _encoded(response.headers):
        raise _Skip("its answer is stored decoded under a Content-Encoding header: which bytes to keep is unclear")
    credential = next((name for name in old.headers if name.lower() in _CREDENTIALS - {"cookie"}), None)
    query_key = next((key for key, _ in parse_qsl(parts.query) if key.lower() in SECRET_QUERY_KEYS), None)
    url = _rebased(old.uri, request.base_url)
    key_env = request.api_key_env or key_env_for(url, parts.path)  # as the recordings' runner: by the target
    if (credential or query_key) and not key_env:
        what = credential or f"?{query_key}="
        where = urlsplit(url).netloc
        why = f"its request carried a credential ({what}) and no variable holds a key for {where}"
        raise _Skip(f"{why}: use --api-key-env")
    scheme = ""
    if credential and credential.lower() in ("authorization", "proxy-authorization"):
        stored_scheme = (header(old.headers, credential) or ["Bearer x"])[0].strip().partition(" ")[0]
        scheme = (stored_scheme if stored_scheme.lower() in ("bearer", "token") else "Bearer") + " "
    body = old.body.raw
    return Resend(
        path=path,
        index=interaction.index,
        method=old.method,
        url=url,
        headers=[
            (name, value)
            for name, values in old.headers.items()
            if name.lower() not in _HOP_HEADERS and name.lower() not in _CREDENTIALS
            for value in values
        ],
        body=body.encode("utf-8", "surrogateescape") if isinstance(body, str) else body,
        key_env=key_env,
        key_header=credential,
        key_scheme=scheme,
        key_query=query_key,
        old_status=response.status,
        call=_call_of(interaction),
    )


def plan_cassette(root: Path, facts: CassetteFacts, request: Request) -> CassettePlan:
    """Whether and how one cassette can be re-recorded over http."""
    plan = CassettePlan(facts.path, "skip")
    try:
        plan.data = read_regular(root / facts.path)
        plan.tree, gzipped, serializer = load_document(plan.data, facts.path)
        cassette = cassette_of(plan.tree, facts.path, compressed=gzipped, serializer=serializer)
    except (OSError, BadRecording) as exc:
        plan.reason = f"cannot be read: {getattr(exc, 'reason', None) or exc}"
        return plan
    if cassette.format != "vcr":
        kind = "a WebSocket" if cassette.format == "websocket" else "a gRPC"
        plan.reason = f"{kind} cassette: the http runner resends HTTP requests; {_RETRY_AGAIN}"
    elif cassette.style == "parsed-body":
        plan.reason = (
            "written by pydantic-ai's serializer (parsed_body): its writer is the project's own code, so the file "
            f"cannot be rewritten as it would write it; {_RETRY_AGAIN}"
        )
    elif gzipped:
        plan.reason = f"a gzipped cassette: its compressed bytes cannot be written again as they were; {_RETRY_AGAIN}"
    elif cassette.problems:
        plan.reason = f"{cassette.problems[0]} (see `fixtures check`)"
    elif not cassette.interactions:
        plan.reason = "no interactions to send"
    else:
        plan.writer = writer_of(plan.data, plan.tree, serializer)
        if plan.writer is None:
            plan.reason = (
                f"not written as vcrpy's {serializer.upper()} serializer writes it (edited by hand or by a scrubber, "
                f"or by another writer): a rewrite would change lines it does not mean to; {_RETRY_AGAIN}"
            )
    if plan.reason is not None:
        return plan
    stored = plan.tree["interactions"]
    try:
        for interaction in cassette.interactions:
            try:
                plan.jobs.append(_resend(facts.path, interaction, stored[interaction.index], request))
            except _Skip as exc:
                raise _Skip(f"interaction {interaction.index}: {exc}") from None
    except _Skip as exc:
        plan.jobs = []
        plan.reason = str(exc)
        return plan
    plan.action, plan.cassette = "send", cassette
    return plan


def missing_keys(plans: Sequence[CassettePlan], environ: Mapping[str, str]) -> str | None:
    """Why nothing may be sent for want of an API key, or None."""
    needed: dict[str, int] = {}
    for plan in plans:
        for job in plan.jobs:
            if job.key_env and not environ.get(job.key_env):
                needed[job.key_env] = needed.get(job.key_env, 0) + 1
    if not needed:
        return None
    names = ", ".join(f"{name} (for {plural(count, 'interaction')})" for name, count in sorted(needed.items()))
    return f"API key not set: {names}; set it, or name another variable with --api-key-env; nothing was sent"


# --- sending ----------------------------------------------------------------------------------------------------


def _auth(job: Resend, key: str | None) -> tuple[dict[str, str], str]:
    """The headers that carry the key, and the URL with the key in its query parameter (when it had one)."""
    if not key:
        return {}, job.url
    url = job.url
    if job.key_query is not None:
        parts = urlsplit(url)
        pairs = [(name, key if name == job.key_query else value) for name, value in parse_qsl(parts.query, True)]
        url = urlunsplit(parts._replace(query=urlencode(pairs)))
    if job.key_header is not None:
        return {job.key_header: job.key_scheme + key}, url
    if job.key_query is not None:
        return {}, url
    return auth_headers(job.url, key, job.call.dialect if job.call is not None else None), url


def _snippet(body: bytes) -> str:
    return " ".join(body[:2000].decode("utf-8", "replace").split())[:200]


async def _exchange(client: httpx.AsyncClient, job: Resend, key: str | None) -> Got:
    """Send one interaction once and judge the answer (runner.read_answer and answers.answer_problem where the
    API is known); the answer, or _Retryable / _Fatal as the recordings' runner raises them."""
    from llm_fixtures.rerecording import httprunner as runner
    from llm_fixtures.rerecording.answers import answer_problem

    auth, url = _auth(job, key)
    headers = [*job.headers, *auth.items()]
    sent = {name.lower() for name, _ in headers}
    with runner.transport_errors():
        outgoing = client.build_request(job.method, url, content=job.body, headers=headers)
        for name in _CLIENT_DEFAULTS:
            if name not in sent:
                outgoing.headers.pop(name, None)
        response = await client.send(outgoing, stream=True)
        try:
            chunks: list[bytes] = []
            size = 0
            async for chunk in response.aiter_raw():
                size += len(chunk)
                if size > MAX_BODY:
                    raise runner._Fatal(f"the answer is larger than {MAX_BODY // (1024 * 1024)} MiB")
                chunks.append(chunk)
        finally:
            await response.aclose()
    raw = b"".join(chunks)
    status = response.status_code
    names: Headers = {}
    for name, value in response.headers.multi_items():
        names.setdefault(name, []).append(value)
    decoded, notes = content_decoded(raw, names)
    problem = next((note for note in notes if not note.endswith(" decoded")), None)
    if problem is not None:
        raise runner._Fatal(f"HTTP {status}: {problem}")
    if status == 429 or status >= 500:
        raise runner._status_error(response, _snippet(decoded))
    if status in runner._AUTH_STATUSES:
        raise runner._status_error(response, _snippet(decoded), " (a key the provider refused: not stored)")
    if status >= 400 and not (job.old_status is not None and job.old_status >= 400):
        raise runner._Fatal(f"HTTP {status}: {_snippet(decoded)} (the recorded answer was {job.old_status})")
    if job.call is not None and (200 <= status < 300 or job.call.passthrough):
        import httpx

        plain = [(k, v) for k, v in response.headers.multi_items() if k not in _HOP_HEADERS | {"content-encoding"}]
        answer = await runner.read_answer(httpx.Response(status, headers=plain, content=decoded), job.call)
        shape = answer_problem(job.call, answer.items, answer.status)
        if shape is not None:
            raise runner._Fatal(f"not the API's answer for {urlsplit(job.url).path}: {shape}")
    raw_headers = [(name.decode("latin-1"), value.decode("latin-1")) for name, value in response.headers.raw]
    return Got(status, response.reason_phrase, raw_headers, raw)


@dataclass(slots=True)
class _Sent:
    got: Got | None
    reason: str
    attempts: int
    seconds: float


async def _send_all(
    jobs: Sequence[Resend], options: HttpOptions, keys: Mapping[str, str], advance: Callable[[], None]
) -> list[_Sent]:
    """Every interaction sent, at most `options.jobs` at a time; results in the order of `jobs`."""
    import httpx

    from llm_fixtures.rerecording.httprunner import attempt_with_retries

    width = max(1, options.jobs)
    gate = asyncio.Semaphore(width)
    results: list[_Sent | None] = [None] * len(jobs)
    limits = httpx.Limits(max_connections=width, max_keepalive_connections=width)
    async with httpx.AsyncClient(limits=limits, timeout=httpx.Timeout(options.timeout)) as client:

        async def one(index: int) -> None:
            job = jobs[index]
            key = keys.get(job.key_env) if job.key_env else None
            async with gate:
                start = time.perf_counter()
                got, reason, attempts = await attempt_with_retries(lambda: _exchange(client, job, key), options)
                results[index] = _Sent(got, reason, attempts, time.perf_counter() - start)
            advance()

        await asyncio.gather(*(one(index) for index in range(len(jobs))))
    return [result for result in results if result is not None]


# --- storing ----------------------------------------------------------------------------------------------------


# A value a project's scrubber put in place of the real one (crewAI's `OPENAI-ORG-XXX`, a `REDACTED`).
_SCRUBBED = re.compile(r"[A-Z0-9_-]+-XXX|.*(REDACTED|SCRUBBED|FILTERED).*", re.IGNORECASE)


def _scrubbed(values: Sequence[str], secret: bool) -> bool:
    """Whether every stored value of a header is a stand-in (for a credential, any placeholder `check` knows)."""
    return bool(values) and all(
        _SCRUBBED.fullmatch(value) or (secret and is_placeholder(value.partition("=")[2] or value)) for value in values
    )


def _stored_headers(got: Got, old: Headers, decode: bool, body_size: int) -> dict[str, list[str]]:
    """The answer's headers as the cassette keeps them: names lower-cased when the old ones all were; a header
    whose old values were all stand-ins a scrubber put there keeps them; a credential header (cookies) only when
    the old answer stored one; without the Content-Encoding (and with the decoded length) when the body is stored
    decoded."""
    lower = all(name == name.lower() for name in old)
    kept: dict[str, list[str]] = {}
    for name, value in got.headers:
        lowered = name.lower()
        key = lowered if lower else name
        before = header(old, name)
        if decode and lowered == "content-encoding":
            continue
        if decode and lowered == "content-length":
            value = str(body_size)
        if lowered in SECRET_HEADERS and not before:
            continue
        if _scrubbed(before, lowered in SECRET_HEADERS):
            kept[key] = list(before)
            continue
        kept.setdefault(key, []).append(value)
    return kept


def _new_response(old: dict[str, Any], got: Got, old_headers: Headers) -> dict[str, Any]:
    """The stored response replaced by the new answer, in the old one's key order and body style."""
    received: Headers = {}
    for name, value in got.headers:
        received.setdefault(name, []).append(value)
    decode = _encoded(received) and not _encoded(old_headers)
    data = content_decoded(got.body, received)[0] if decode else got.body
    try:
        body: str | bytes = data.decode("utf-8")
    except UnicodeDecodeError:
        body = data
    new = dict(old)
    new["status"] = {key: old["status"].get(key) for key in old["status"]} | {"code": got.status, "message": got.reason}
    new["headers"] = _stored_headers(got, old_headers, decode, len(data))
    new["body"] = {**old["body"], "string": body}
    return new


def rewrite(plan: CassettePlan, answers: Sequence[Got], secrets: Sequence[str]) -> bytes:
    """The cassette's new bytes: each interaction's response replaced by its new answer, written by the writer
    that wrote the old file, proved to read back with the same requests and to hold no key that was sent.
    FixtureError (the reason) otherwise."""
    assert plan.writer is not None and plan.cassette is not None
    tree = plan.tree
    items = list(tree["interactions"])
    for job, got in zip(plan.jobs, answers, strict=True):
        item = dict(items[job.index])
        item["response"] = _new_response(item["response"], got, plan.cassette.interactions[job.index].response.headers)
        items[job.index] = item
    new_tree = {**tree, "interactions": items}
    try:
        data = plan.writer.dump(new_tree)
    except (TypeError, ValueError) as exc:
        raise FixtureError(f"the new answers cannot be written as the file was ({exc})") from None
    reread, _gzipped, _serializer = load_document(data, plan.path)
    requests = [item.get("request") for item in reread.get("interactions", [])]
    if requests != [item.get("request") for item in tree["interactions"]]:
        raise FixtureError("the rewritten cassette does not read back to the same requests; not written")
    bodies = [content_decoded(got.body, _headers_of(got))[0] for got in answers]
    for secret in secrets:
        encoded = secret.encode("utf-8", "surrogateescape")
        if len(secret) >= 4 and (encoded in data or any(encoded in body for body in bodies)):
            raise FixtureError("an answer holds the API key that was sent; not stored, the old file was kept")
    return data


def _headers_of(got: Got) -> Headers:
    headers: Headers = {}
    for name, value in got.headers:
        headers.setdefault(name, []).append(value)
    return headers


def _changes(plan: CassettePlan, data: bytes, project: Project) -> list[str]:
    """The classes of change between the old cassette and its new bytes, as `fixtures diff` gives them."""
    from llm_fixtures.cassettes.differ import compare_cassettes
    from llm_fixtures.cassettes.reading import parse_cassette
    from llm_fixtures.diffing.sides import volatility_of

    assert plan.cassette is not None
    reports = compare_cassettes(
        plan.cassette, parse_cassette(data, plan.path), volatility_of(project), paired_by="path", test_id=None
    )
    found = {change for report in reports if report.status == "changed" for change in report.changes}
    return sorted(found) or ["unchanged"]


# --- the whole run ----------------------------------------------------------------------------------------------


def rerecord_over_http(
    project: Project, chosen: Sequence[CassetteFacts], request: Request, reporter: Reporter, *, alone: bool = True
) -> int:
    """Resend every interaction of the cassettes `chosen`; the exit code (0 all went well; 1 a cassette could not
    be re-recorded or a request failed; 130 interrupted: nothing was written)."""
    from llm_fixtures.store import write_atomic

    check_base_url(request.base_url)
    plans = [plan_cassette(project.root, facts, request) for facts in chosen]
    for plan in plans:
        if plan.action == "skip":
            reporter.warn(f"{plan.path}: not re-recorded: {plan.reason}")
    todo = [plan for plan in plans if plan.action == "send"]
    if request.dry_run:
        if reporter.as_json:
            reporter.lines(_plan_line(plan) for plan in plans)
        else:
            for plan in todo:
                envs = sorted({job.key_env for job in plan.jobs if job.key_env})
                using = f" with {', '.join(envs)}" if envs else ""
                hosts = sorted({urlsplit(job.url).netloc for job in plan.jobs})
                reporter.warn(
                    f"send  {plan.path}  {plural(len(plan.jobs), 'interaction')} to {', '.join(hosts)}{using}"
                )
        return 0
    if not todo:
        from llm_fixtures.cassettes.rerecording import nothing_to_do

        return nothing_to_do(
            f"none of the {plural(len(plans), 'selected cassette')} can be re-recorded over http", alone, reporter
        )
    problem = missing_keys(todo, os.environ)
    if problem:
        raise UsageError(problem)
    jobs = [job for plan in todo for job in plan.jobs]
    names = {job.key_env for job in jobs if job.key_env}
    keys = {name: os.environ[name] for name in names if os.environ.get(name)}
    options = HttpOptions(
        jobs=request.jobs, timeout=request.timeout, deadline=request.deadline, retries=request.retries
    )
    try:
        with reporter.progress(len(jobs), "re-recording") as advance:
            sent = asyncio.run(_send_all(jobs, options, keys, advance))
    except KeyboardInterrupt:
        reporter.warn("interrupted: no cassette was written; every file is as it was")
        return 130
    secrets = list(keys.values())
    results: list[FileResult] = []
    staged: list[tuple[Path, bytes, str | None]] = []
    at = 0
    for plan in todo:
        mine = sent[at : at + len(plan.jobs)]
        at += len(plan.jobs)
        results.append(_store(project, plan, mine, secrets, staged if request.review else None, write_atomic))
    if reporter.as_json:
        reporter.lines(results)
    else:
        reporter.results(results)
    if request.review:
        from llm_fixtures.rerecording.reviewflow import stage_and_review

        stage_and_review(project, staged, "http", reporter)
    return 1 if any(result.status != "ok" for result in results) or len(todo) < len(plans) else 0


def _plan_line(plan: CassettePlan) -> PlanLine:
    return PlanLine(
        path=plan.path,
        action=plan.action,
        interactions=len(plan.jobs),
        urls=sorted({job.url.split("?", 1)[0] for job in plan.jobs}),
        key_env=sorted({job.key_env for job in plan.jobs if job.key_env}),
        reason=plan.reason,
    )


def _store(
    project: Project,
    plan: CassettePlan,
    sent: Sequence[_Sent],
    secrets: Sequence[str],
    staged: list[tuple[Path, bytes, str | None]] | None,
    write: Callable[[Path, bytes], None],
) -> FileResult:
    """Write (or stage) one cassette once every interaction has its answer; else say which failed and why."""
    attempts = sum(item.attempts for item in sent)
    seconds = max((item.seconds for item in sent), default=0.0)
    failed = [(job, item) for job, item in zip(plan.jobs, sent, strict=True) if item.got is None]
    if failed:
        reason = "; ".join(f"interaction {job.index}: {item.reason}" for job, item in failed)
        return FileResult(
            path=plan.path,
            status="failed",
            reason=redact(f"{reason}; the cassette was kept as it was", secrets),
            attempts=attempts,
            seconds=seconds,
        )
    answers = [item.got for item in sent if item.got is not None]
    try:
        data = rewrite(plan, answers, secrets)
    except FixtureError as exc:
        return FileResult(path=plan.path, status="failed", reason=redact(str(exc), secrets), attempts=attempts)
    target = project.root / plan.path
    if staged is not None:
        staged.append((target, data, node_id_of_path(plan.path)))
    elif data != plan.data:
        write(target, data)
    return FileResult(
        path=plan.path,
        status="ok",
        written=str(target),
        changed=data != plan.data,
        changes=_changes(plan, data, project) if data != plan.data else [],
        attempts=attempts,
        seconds=seconds,
    )
