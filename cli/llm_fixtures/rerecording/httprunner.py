"""The http runner: send stored requests again to a live endpoint, concurrently, with retries, and store the
answers as the upstream recorder would. A request that fails in any way leaves its old file untouched.

What counts as an answer to store follows the recorder. SDK calls: only a 2xx (the SDK raises on anything else).
The http passthrough (Anthropic Messages, Gemini Interactions): the httpx patch stores `post` answers whatever
their status, so a 4xx answer (the corpus has 400s: requests the provider rejects, which the tests expect) is
stored with its status. Two exceptions: 401/403/407 say that our key is wrong, not the request (ogx sends its own
key, never one from the payload), so they fail rather than replace a good answer; and 429/5xx are retried, then
fail, as for every call. A streamed passthrough answer is stored only when it is a 2xx that ends as the provider
ends a stream (ogx raises on an error status before reading a line, so the recorder stores nothing then).

A Responses API stream (`POST /v1/responses`, `stream: true`) is stored when it ends as the API ends one: with
`response.completed`, or with `response.failed` or `response.incomplete`, which the SDK yields like any event and
the recorder stores as the result (a failed or cut-short answer is what the test then replays). A stream that ends
before any of them broke off (retried); an `error` event (or an event carrying `error`, which the SDK raises on)
fails the file."""

from __future__ import annotations

import asyncio
import contextlib
import random
import threading
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import orjson
from pydantic import BaseModel

from llm_fixtures.decoding import dump_upstream
from llm_fixtures.errors import FixtureError, WriteError
from llm_fixtures.rerecording.answers import answer_problem
from llm_fixtures.rerecording.calls import Call, Dialect, rerecorded
from llm_fixtures.rerecording.redaction import redact, sent_secrets
from llm_fixtures.rerecording.responses_types import ERROR, TERMINAL, event_kind
from llm_fixtures.store import write_atomic

if TYPE_CHECKING:
    import httpx

ResultStatus = Literal["ok", "failed", "skipped"]
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class HttpJob:
    """One recording to re-record: where it is, what it holds, the call to make and the auth headers to send."""

    path: Path
    display: str
    raw: dict[str, Any]
    call: Call
    auth: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class HttpOptions:
    """`--jobs`; `--timeout` (seconds to connect, and between two pieces of the answer); `--deadline` (seconds
    for one attempt at a request, from sending it to the last byte of its answer: a server that sends a byte just
    before every `--timeout` cannot hold a job forever); `--retries` on 429, 5xx, timeouts and broken
    connections, with exponential backoff from `backoff` seconds (or Retry-After)."""

    jobs: int = 4
    timeout: float = 60.0
    deadline: float = 600.0
    retries: int = 3
    backoff: float = 0.5
    max_backoff: float = 30.0


class FileResult(BaseModel):
    """What happened to one recording."""

    path: str
    status: ResultStatus
    reason: str | None = None
    written: str | None = None
    changed: bool | None = None
    changes: list[str] = []
    attempts: int = 0
    seconds: float = 0.0
    http_status: int | None = None  # the status of the answer stored (a passthrough 4xx is stored, see above)


@dataclass(frozen=True, slots=True)
class Answer:
    """What a call got back: its HTTP status and the decoded items (JSON objects, or a passthrough's lines)."""

    status: int
    items: list[Any]


class _Retryable(Exception):
    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class _Fatal(Exception):
    pass


# Writes the new recording for a job (as `name`, in the job's folder); returns the path written.
Sink = Callable[[HttpJob, bytes, str], Path]


def write_in_place(job: HttpJob, data: bytes, name: str) -> Path:
    """The default sink: atomically replace (or, for a model list with a new digest, create) the file."""
    target = job.path.with_name(name)
    write_atomic(target, data)
    return target


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def _status_error(response: httpx.Response, text: str, note: str = "") -> Exception:
    snippet = " ".join(text.split())[:200]
    reason = f"HTTP {response.status_code}" + (f": {snippet}" if snippet else "") + note
    if _transient(response.status_code):
        return _Retryable(reason, _retry_after(response))
    return _Fatal(reason)


def _transient(status: int) -> bool:
    return status == 429 or status >= 500


# Answers about the credentials rather than the request: never stored over a recording.
_AUTH_STATUSES = frozenset({401, 403, 407})


def _loads(data: bytes | str, what: str) -> Any:
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise _Fatal(f"{what} is not JSON: {exc}") from None


def _stream_error(item: Any) -> str | None:
    if isinstance(item, dict) and item.get("error"):
        error = item["error"]
        message = error.get("message") if isinstance(error, dict) else error
        return f"the stream reported an error: {message}"
    return None


async def _read_sse(response: httpx.Response, events: bool = False) -> list[Any]:
    """OpenAI server-sent events, up to `data: [DONE]`; a stream without it broke off. With `events` (the
    Responses API), every event up to the end of the stream or `data: [DONE]`, the last one a terminal event."""
    from llm_fixtures.assembling.sse import parse_lines

    items: list[Any] = []
    for event in parse_lines([line async for line in response.aiter_lines()]):
        if event.data == "[DONE]":
            if not events:
                return items
            break
        item = _loads(event.data, "a stream event")
        problem = _stream_error(item)
        if problem is None and (event.name == ERROR or (events and event_kind(item) == ERROR)):
            problem = f"the stream reported an error event: {' '.join(event.data.split())[:200]}"
        if problem:
            raise _Fatal(problem)
        items.append(item)
    if events and items and event_kind(items[-1]) in TERMINAL:
        return items
    end = " or ".join(sorted(TERMINAL)) if events else "data: [DONE]"
    raise _Retryable(f"the stream broke off after {len(items)} events, before {end}")


async def _read_ndjson(response: httpx.Response) -> list[Any]:
    """Ollama's newline-delimited JSON: one object a line, the last one with `"done": true`."""
    items: list[Any] = []
    async for line in response.aiter_lines():
        if not line.strip():
            continue
        item = _loads(line, "a stream line")
        problem = _stream_error(item)
        if problem:
            raise _Fatal(problem)
        items.append(item)
        if isinstance(item, dict) and item.get("done") is True:
            return items
    raise _Retryable(f"the stream broke off after {len(items)} lines, before done: true")


# How each passthrough API ends a stream that went well: the last event it sends.
_STREAM_ENDS: dict[Dialect, tuple[str, ...]] = {
    "anthropic": ("message_stop",),
    "gemini": ("interaction.complete", "done"),
}
# Anthropic's stream errors that may pass on a second try (overloaded, its own failure, rate limited).
_TRANSIENT_STREAM_ERRORS = frozenset({"overloaded_error", "api_error", "rate_limit_error"})


def _error_event(data: str) -> Exception:
    """An `event: error` of a passthrough stream: retried when the provider says it is transient."""
    try:
        item = orjson.loads(data)
    except orjson.JSONDecodeError:
        item = None
    error = item.get("error") if isinstance(item, dict) else None
    kind = error.get("type") if isinstance(error, dict) else None
    reason = f"the stream reported an error: {' '.join(data.split())[:200]}"
    return _Retryable(reason) if kind in _TRANSIENT_STREAM_ERRORS else _Fatal(reason)


async def _read_lines(response: httpx.Response, dialect: Dialect) -> list[str]:
    """A passthrough event stream as the recorder keeps it: every line `aiter_lines()` gives, the empty lines
    that end each event included. It must end as the provider ends a stream (Anthropic `message_stop`, Gemini
    `interaction.complete` or `done`); one that did not broke off."""
    from llm_fixtures.assembling.sse import parse_lines

    lines = [line async for line in response.aiter_lines()]
    events = parse_lines(lines)
    for event in events:
        if event.name == "error":
            raise _error_event(event.data)
    ends = _STREAM_ENDS.get(dialect, ())
    if not any(event.name in ends or event.data == "[DONE]" for event in events):
        raise _Retryable(f"the stream broke off after {len(events)} events, before {' or '.join(ends)}")
    return lines


def _passthrough_answer(response: httpx.Response) -> Answer:
    """A passthrough `post` answer to store: any status but a transient one (retried) or one about the key."""
    status = response.status_code
    if _transient(status):
        raise _status_error(response, response.text)
    if status in _AUTH_STATUSES:
        raise _status_error(response, response.text, " (a key the provider refused: not stored)")
    return Answer(status, [_loads(response.content, f"the answer (HTTP {status})")])


async def fetch(client: httpx.AsyncClient, call: Call, auth: dict[str, str]) -> Answer:
    """Send one call; its status and the decoded items of its answer (one JSON object, every event of a
    stream, or a passthrough stream's lines)."""
    headers = {**call.headers, **auth}
    params = call.params or None
    with transport_errors():
        if call.wire == "json":
            response = await client.request(call.method, call.url, json=call.json, params=params, headers=headers)
            return await read_answer(response, call)
        async with client.stream(call.method, call.url, json=call.json, params=params, headers=headers) as response:
            return await read_answer(response, call)


async def read_answer(response: httpx.Response, call: Call) -> Answer:
    """The status and decoded items of the answer to `call` (see `fetch`); _Retryable or _Fatal when it is no
    answer to store: an error status, a stream that broke off or reported an error, a body that is not JSON."""
    if call.wire == "json":
        if call.passthrough:
            return _passthrough_answer(response)
        if response.status_code >= 400:
            raise _status_error(response, response.text)
        return Answer(response.status_code, [_loads(response.content, "the answer")])
    if response.status_code >= 400:
        await response.aread()
        raise _status_error(response, response.text)
    if call.wire == "lines":
        return Answer(response.status_code, await _read_lines(response, call.dialect))
    if call.wire == "sse":
        return Answer(response.status_code, await _read_sse(response, call.events))
    return Answer(response.status_code, await _read_ndjson(response))


@contextlib.contextmanager
def transport_errors() -> Iterator[None]:
    """A broken, refused or timed-out connection as the failure to retry that it is (_Retryable)."""
    import httpx

    try:
        yield
    except httpx.TimeoutException:
        raise _Retryable("timed out") from None
    except httpx.ConnectError as exc:
        raise _Retryable(f"cannot connect: {exc}") from None
    except httpx.RemoteProtocolError as exc:
        raise _Retryable(f"the connection broke: {exc}") from None
    except httpx.TransportError as exc:
        raise _Retryable(f"transport error: {exc or type(exc).__name__}") from None


def _delay(options: HttpOptions, attempt: int, retry_after: float | None) -> float:
    if retry_after is not None:
        return min(retry_after, options.max_backoff)
    base: float = min(options.max_backoff, options.backoff * 2.0**attempt)
    return base * (0.5 + random.random() / 2)


def _once_per_target(sink: Sink) -> Sink:
    """A sink that refuses a second write to the same file in one run. Model lists of different servers share a
    request hash (the host is not hashed); sent to one `--base-url` they would all land on one name."""
    written: dict[Path, str] = {}
    lock = threading.Lock()

    def guarded(job: HttpJob, data: bytes, name: str) -> Path:
        target = job.path.with_name(name)
        with lock:
            first = written.setdefault(target, job.display)
        if first != job.display:
            raise WriteError(f"{first} was re-recorded to {name} already in this run; this one was left as it was")
        return sink(job, data, name)

    return guarded


class _Refused(Exception):
    """An answer that must not be stored: not the API's answer for the endpoint, or one holding the key sent."""


def _finish(job: HttpJob, answer: Answer, sink: Sink) -> tuple[dict[str, Any], Path]:
    problem = answer_problem(job.call, answer.items, answer.status)
    if problem is not None:
        raise _Refused(f"not the API's answer for {job.call.url.split('?')[0]}: {problem}; the old file was kept")
    new, name = rerecorded(job.raw, job.call, answer.items, job.path.name, answer.status)
    data = dump_upstream(new)
    if any(secret.encode() in data for secret in sent_secrets(job.auth)):
        raise _Refused("the answer holds the API key that was sent; not stored, the old file was kept")
    return new, sink(job, data, name)


@dataclass(slots=True)
class _Sent:
    """An answer received in full, waiting to be stored."""

    answer: Answer
    attempts: int
    start: float


def _failed(job: HttpJob, reason: str, attempts: int, start: float) -> FileResult:
    """A failure, its reason masked: a server may echo the key it was sent (or another secret) in an error."""
    shown = redact(reason, sent_secrets(job.auth))
    return FileResult(
        path=job.display, status="failed", reason=shown, attempts=attempts, seconds=time.perf_counter() - start
    )


async def attempt_with_retries(attempt: Callable[[], Awaitable[T]], options: HttpOptions) -> tuple[T | None, str, int]:
    """`attempt` (one try at a request, from sending it to the last byte of its answer) until it gives an answer;
    a try that raises _Retryable, or whose whole answer has not come within `options.deadline` seconds, is made
    again up to `options.retries` times, with backoff; _Fatal stops at once. `(answer, "", attempts)`, or `(None,
    why it failed, attempts)`."""
    attempts = 0
    while True:
        attempts += 1
        try:
            async with asyncio.timeout(options.deadline):
                return await attempt(), "", attempts
        except TimeoutError:
            error = _Retryable(f"no full answer within {options.deadline:g} s (--deadline)")
        except _Fatal as exc:
            return None, str(exc), attempts
        except _Retryable as exc:
            error = exc
        if attempts > options.retries:
            return None, f"{error} (after {attempts} attempts)" if options.retries else str(error), attempts
        await asyncio.sleep(_delay(options, attempts - 1, error.retry_after))


async def _send(client: httpx.AsyncClient, job: HttpJob, options: HttpOptions) -> _Sent | FileResult:
    """Send one job, retrying what may pass on a second try; the answer, or the failure."""
    start = time.perf_counter()
    answer, reason, attempts = await attempt_with_retries(lambda: fetch(client, job.call, job.auth), options)
    if answer is None:
        return _failed(job, reason, attempts, start)
    return _Sent(answer, attempts, start)


async def _store(job: HttpJob, sent: _Sent, sink: Sink) -> FileResult:
    """Build, dump and write the new recording on a worker thread, so the streams in flight keep flowing."""
    try:
        new, written = await asyncio.to_thread(_finish, job, sent.answer, sink)
    except _Refused as exc:
        return _failed(job, str(exc), sent.attempts, sent.start)
    except (ValueError, TypeError, KeyError) as exc:
        return _failed(job, f"unexpected answer: {exc}", sent.attempts, sent.start)
    except FixtureError as exc:
        return _failed(job, str(exc), sent.attempts, sent.start)
    return FileResult(
        path=job.display,
        status="ok",
        written=str(written),
        changed=new.get("response") != job.raw.get("response") or written.name != job.path.name,
        attempts=sent.attempts,
        seconds=time.perf_counter() - sent.start,
        http_status=sent.answer.status,
    )


async def run_async(
    jobs: Sequence[HttpJob],
    options: HttpOptions,
    sink: Sink = write_in_place,
    on_result: Callable[[FileResult], None] | None = None,
) -> list[FileResult]:
    """Re-record every job with at most `options.jobs` requests in flight; results in the order of `jobs`."""
    import httpx

    results: list[FileResult | None] = [None] * len(jobs)
    queue: asyncio.Queue[int] = asyncio.Queue()
    for index in range(len(jobs)):
        queue.put_nowait(index)
    width = max(1, options.jobs)
    sink = _once_per_target(sink)
    limits = httpx.Limits(max_connections=width, max_keepalive_connections=width)
    timeout = httpx.Timeout(options.timeout)

    async with httpx.AsyncClient(limits=limits, timeout=timeout) as client:

        def done(index: int, result: FileResult) -> None:
            results[index] = result
            if on_result is not None:
                on_result(result)

        async def store(index: int, sent: _Sent) -> None:
            done(index, await _store(jobs[index], sent, sink))

        storing: list[asyncio.Task[None]] = []

        async def worker() -> None:
            # A worker hands a received answer over to be stored and sends the next request at once.
            while True:
                try:
                    index = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                sent = await _send(client, jobs[index], options)
                if isinstance(sent, FileResult):
                    done(index, sent)
                else:
                    storing.append(asyncio.create_task(store(index, sent)))

        await asyncio.gather(*(worker() for _ in range(min(width, len(jobs)) or 1)))
        await asyncio.gather(*storing)
    return [result for result in results if result is not None]


def run_http(
    jobs: Sequence[HttpJob],
    options: HttpOptions,
    sink: Sink = write_in_place,
    on_result: Callable[[FileResult], None] | None = None,
) -> list[FileResult]:
    """`run_async` from synchronous code."""
    return asyncio.run(run_async(jobs, options, sink, on_result))
