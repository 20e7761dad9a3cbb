"""`fixtures diff` of cassettes: cassettes paired by path, then by test; their interactions by order and request;
each pair of interactions compared as two recordings are (same classes, same volatile fields), plus the headers
that do not change on every call.

An interaction is handed to the recordings' comparison as the recording it would be: the request's method, URL,
model and JSON body, the response's status and its body as the client read it (an SSE text, the objects of an
NDJSON stream, a JSON answer). Headers are compared here, the volatile ones (dates, request ids, rate-limit
counters, cookies, credentials, SDK versions) set aside.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from llm_fixtures.cassettes.bodies import decode, json_of
from llm_fixtures.cassettes.describing import describe_interaction
from llm_fixtures.cassettes.leaks import masked_url
from llm_fixtures.cassettes.model import Cassette, Headers, Interaction
from llm_fixtures.cassettes.naming import node_id_of_path
from llm_fixtures.cassettes.reading import parse_cassette
from llm_fixtures.diffing.comparing import compare
from llm_fixtures.diffing.loading import Loader
from llm_fixtures.diffing.report import Details, FieldChange, PairReport
from llm_fixtures.diffing.sides import Source
from llm_fixtures.diffing.volatility import Volatility
from llm_fixtures.errors import BadRecording
from llm_fixtures.facts import derive_facts

# Headers that change on every call, or that must never be shown: compared never.
VOLATILE_HEADERS = frozenset(
    {
        "date",
        "age",
        "expires",
        "etag",
        "last-modified",
        "server-timing",
        "cf-ray",
        "cf-cache-status",
        "alt-svc",
        "via",
        "server",
        "content-length",
        "transfer-encoding",
        "connection",
        "keep-alive",
        "user-agent",
        "traceparent",
        "tracestate",
        "request-id",
        "openai-processing-ms",
        "openai-version",
        "openai-organization",
        "openai-project",
        "anthropic-organization-id",
        "apim-request-id",
        "strict-transport-security",
        "report-to",
        "nel",
        "x-envoy-upstream-service-time",
        "x-request-id",
        "x-amzn-requestid",
        "x-amz-request-id",
        "x-amz-id-2",
        "set-cookie",
        "cookie",
        "authorization",
        "proxy-authorization",
        "api-key",
        "x-api-key",
        "x-goog-api-key",
        "accept-encoding",
        "content-encoding",
    }
)
# Families of volatile headers, by name: rate-limit counters, request ids, SDK and runtime versions.
_VOLATILE_HEADER_PATTERN = re.compile(
    r"ratelimit|request-id|requestid|trace-id|-version$|^x-stainless-|^x-goog-|^x-cloud-trace|^cf-|^x-ms-|^x-envoy-"
)


def volatile_header(name: str) -> bool:
    lowered = name.lower()
    return lowered in VOLATILE_HEADERS or _VOLATILE_HEADER_PATTERN.search(lowered) is not None


@dataclass(frozen=True, slots=True)
class _Read:
    """A cassette read for a diff, or what stopped it."""

    source: Source
    cassette: Cassette | None
    problem: str | None = None


def as_recording(
    cassette: Cassette, interaction: Interaction, display: str, test_id: str | None
) -> tuple[dict[str, Any], Any]:
    """The recording an interaction would be (parsed JSON and facts), for the recordings' comparison."""
    row = describe_interaction(cassette.path, interaction)
    request = interaction.request
    response = interaction.response
    decoded = decode(response.body, response.headers)
    body: Any = decoded.text if decoded.kind in ("sse", "text") else decoded.json
    if decoded.kind == "binary":
        body = f"<{len(decoded.data)} bytes of {decoded.content_type or 'binary data'}>"
    request_body = json_of(request.body, request.headers)
    if request_body is None and request.body.raw:
        raw_body = request.body.raw
        request_body = raw_body if isinstance(raw_body, str) else f"<{len(raw_body)} bytes>"
    raw: dict[str, Any] = {
        "test_id": test_id,
        "request": {
            "method": request.method,
            "url": masked_url(request.uri),  # a key in the query must never reach the diff's output
            "endpoint": row.endpoint,
            "model": row.model,
            "body": request_body,
        },
        "response": {
            "body": body,
            "is_streaming": decoded.kind in ("sse", "ndjson") or isinstance(body, list),
            "status": response.status,
        },
    }
    return raw, derive_facts(display, 0, raw)


def _header_changes(old: Headers, new: Headers, side: str) -> tuple[list[FieldChange], list[str]]:
    """Changes of the headers that matter, and the names of the volatile ones that changed."""

    def lowered(headers: Headers) -> dict[str, list[str]]:
        return {name.lower(): values for name, values in headers.items()}

    a, b = lowered(old), lowered(new)
    changes: list[FieldChange] = []
    volatile: list[str] = []
    for name in sorted(set(a) | set(b)):
        if a.get(name) == b.get(name):
            continue
        if volatile_header(name):
            volatile.append(f"{side} header {name}")
            continue
        changes.append(FieldChange(path=f"$.{side}.headers.{name}", old=a.get(name), new=b.get(name)))
    return changes, volatile


def _pair_interactions(old: Sequence[Interaction], new: Sequence[Interaction]) -> list[tuple[int | None, int | None]]:
    """Interactions by order among those of the same method and endpoint (a re-record that adds a call in the
    middle shifts nothing else); the rest added or removed."""

    def key(interaction: Interaction) -> tuple[str, str]:
        uri = interaction.request.uri
        return interaction.request.method, uri.split("?", 1)[0]

    waiting: dict[tuple[str, str], list[int]] = {}
    for index, interaction in enumerate(new):
        waiting.setdefault(key(interaction), []).append(index)
    pairs: list[tuple[int | None, int | None]] = []
    used: set[int] = set()
    for index, interaction in enumerate(old):
        queue = waiting.get(key(interaction))
        if queue:
            match = queue.pop(0)
            used.add(match)
            pairs.append((index, match))
        else:
            pairs.append((index, None))
    pairs.extend((None, index) for index in range(len(new)) if index not in used)
    return pairs


def _label(display: str, index: int | None) -> str | None:
    return None if index is None else f"{display}#{index}"


def compare_cassettes(
    old: Cassette, new: Cassette, volatility: Volatility, *, paired_by: str, test_id: str | None
) -> list[PairReport]:
    """A report per pair of interactions (or per WebSocket cassette, compared frame by frame as data); the
    cassettes' paths are their displays."""
    reports: list[PairReport] = []
    old_display, new_display = old.path, new.path
    if old.format == "websocket" or new.format == "websocket":
        report = PairReport(old=old_display, new=new_display, test_id=test_id, endpoint="websocket", status="unchanged")
        old_frames = [(m.direction, m.kind, m.data, m.code) for m in old.messages]
        new_frames = [(m.direction, m.kind, m.data, m.code) for m in new.messages]
        if old_frames != new_frames:
            report.status = "changed"
            report.changes = ["content"]
            report.details = Details(
                content_fields=[FieldChange(path="$.messages", old=len(old_frames), new=len(new_frames))]
            )
        return [report]
    for old_index, new_index in _pair_interactions(old.interactions, new.interactions):
        a = old.interactions[old_index] if old_index is not None else None
        b = new.interactions[new_index] if new_index is not None else None
        either = b or a
        endpoint = describe_interaction(new.path, either).endpoint if either is not None else None
        report = PairReport(
            old=_label(old_display, old_index),
            new=_label(new_display, new_index),
            test_id=test_id,
            endpoint=endpoint,
            status="unchanged",
            paired_by=paired_by,  # type: ignore[arg-type]
        )
        if a is None:
            report.status = "added"
        elif b is None:
            report.status = "removed"
        else:
            try:
                changes, details = compare(
                    as_recording(old, a, report.old or "", test_id),
                    as_recording(new, b, report.new or "", test_id),
                    volatility,
                    paired_by="path",
                    check_names=False,
                )
            except RecursionError:
                report.status = "error"
                report.details.problem = f"{report.new}: nested too deeply to compare"
                reports.append(report)
                continue
            request_headers, volatile_request = _header_changes(a.request.headers, b.request.headers, "request")
            response_headers, volatile_response = _header_changes(a.response.headers, b.response.headers, "response")
            details.request.extend(request_headers)
            details.metadata.extend(response_headers)
            details.volatile.extend([*volatile_request, *volatile_response])
            found = set(changes)
            if request_headers:
                found.add("request")
            if response_headers:
                found.add("metadata")
            if volatile_request or volatile_response:
                found.add("volatile")
            report.changes = [change for change in _ORDER if change in found]
            report.details = details
            report.status = "changed" if report.changes else "unchanged"
        reports.append(report)
    return reports


def _order() -> tuple[str, ...]:
    from llm_fixtures.diffing.report import CLASSES

    return CLASSES


_ORDER = _order()


def _read(loader: Loader, source: Source) -> _Read:
    try:
        return _Read(source, parse_cassette(loader.data(source), source.display))
    except BadRecording as exc:
        return _Read(source, None, str(exc))
    except OSError as exc:
        return _Read(source, None, f"{source.display}: {exc.strerror or exc}")


def diff_cassettes(
    old: dict[str, Source],
    new: dict[str, Source],
    repos: tuple[Any, Any],
    volatility: Volatility,
) -> list[PairReport]:
    """Every cassette of both sides compared: by path; what is left, by the test its path names (a cassette
    moved or renamed with its test); the rest added or removed whole."""
    loaders = (Loader(), Loader())
    loaders[0].prefetch(repos[0], old.values())
    loaders[1].prefetch(repos[1], new.values())
    reports: list[PairReport] = []
    pairs: list[tuple[str | None, str | None, str]] = [(key, key, "path") for key in sorted(set(old) & set(new))]
    old_rest = sorted(set(old) - set(new))
    new_rest = sorted(set(new) - set(old))
    by_test = {node_id_of_path(key): key for key in new_rest if node_id_of_path(key)}
    for key in list(old_rest):
        match = by_test.pop(node_id_of_path(key) or "", None) if node_id_of_path(key) else None
        if match is not None:
            pairs.append((key, match, "test"))
            old_rest.remove(key)
            new_rest.remove(match)
    pairs.extend((key, None, "path") for key in old_rest)
    pairs.extend((None, key, "path") for key in new_rest)
    for old_key, new_key, how in pairs:
        a = old[old_key] if old_key is not None else None
        b = new[new_key] if new_key is not None else None
        if a is not None and b is not None and a.fingerprint is not None and a.fingerprint == b.fingerprint:
            reports.append(
                PairReport(
                    old=a.display, new=b.display, test_id=node_id_of_path(b.key), status="unchanged", paired_by="path"
                )
            )
            continue
        read_a = _read(loaders[0], a) if a is not None else None
        read_b = _read(loaders[1], b) if b is not None else None
        problems = [read.problem for read in (read_a, read_b) if read is not None and read.problem]
        if problems:
            reports.append(
                PairReport(
                    old=a.display if a else None,
                    new=b.display if b else None,
                    status="error",
                    details=Details(problem="; ".join(problems)),
                )
            )
            continue
        if read_a is None or read_a.cassette is None:
            reports.extend(_whole(read_b, "added", new=True))
            continue
        if read_b is None or read_b.cassette is None:
            reports.extend(_whole(read_a, "removed", new=False))
            continue
        test_id = node_id_of_path(read_b.source.key) or node_id_of_path(read_a.source.key)
        reports.extend(compare_cassettes(read_a.cassette, read_b.cassette, volatility, paired_by=how, test_id=test_id))
    return reports


def _whole(read: _Read | None, status: str, *, new: bool) -> Iterable[PairReport]:
    """Every interaction of a cassette only one side has."""
    if read is None or read.cassette is None:
        return []
    cassette = read.cassette
    count = max(cassette.count, 1)
    test_id = node_id_of_path(read.source.key)
    labels = [f"{read.source.display}#{index}" for index in range(count)] if cassette.count else [read.source.display]
    return [
        PairReport(
            old=None if new else label,
            new=label if new else None,
            test_id=test_id,
            status=status,  # type: ignore[arg-type]
        )
        for label in labels
    ]
