"""`fixtures check` on a cassette: secrets, broken files, empty cassettes, error statuses, duplicate interactions,
size and inline images; findings in the shape recordings get (`checking.Finding`)."""

from __future__ import annotations

import os
from pathlib import Path

import orjson

from llm_fixtures.cassettes.bodies import json_of
from llm_fixtures.cassettes.leaks import find_leaks, masked_url
from llm_fixtures.cassettes.loading import GZIP_MAGIC, inflate
from llm_fixtures.cassettes.model import Cassette, Interaction
from llm_fixtures.cassettes.reading import parse_cassette
from llm_fixtures.checking import CheckOptions, FileReport
from llm_fixtures.checking.findings import Finding
from llm_fixtures.checking.secrets import MAX_LISTED, Allowlist, unlisted_finding
from llm_fixtures.checking.size import check_size, image_spans
from llm_fixtures.errors import BadRecording
from llm_fixtures.linting import Job
from llm_fixtures.safepaths import read_regular


def _where(interaction: int | None) -> str:
    return f"interaction {interaction}" if interaction is not None else "the file"


def _secret_findings(path: str, cassette: Cassette, text: bytes, options: CheckOptions) -> list[Finding]:
    """One error per distinct secret, masked: the first MAX_LISTED named, any more counted in one `unlisted`
    finding, as for a recording."""
    findings: list[Finding] = []
    leaks = find_leaks(cassette, text, Allowlist(options.allow_secrets))
    for leak in leaks[:MAX_LISTED]:
        place = f"on line {leak.line}" if leak.line else "inside a compressed body"
        findings.append(
            Finding(
                path=path,
                check="secrets",
                status=leak.kind,
                severity="error",
                message=f"{leak.kind.replace('-', ' ')} {leak.masked} in {leak.where} "
                f"({_where(leak.interaction)}) {place}",
                details={
                    "kind": leak.kind,
                    "masked": leak.masked,
                    "line": leak.line,
                    "where": leak.where,
                    "interaction": leak.interaction,
                },
            )
        )
    if len(leaks) > MAX_LISTED:
        findings.append(unlisted_finding(path, len(leaks) - MAX_LISTED))
    return findings


def _schema_findings(path: str, cassette: Cassette) -> list[Finding]:
    findings = [
        Finding(path, "schema", "invalid", "error", problem, {"problem": problem}) for problem in cassette.problems
    ]
    if cassette.count == 0:
        findings.append(Finding(path, "schema", "empty-cassette", "error", "no interactions: nothing to replay", {}))
    for interaction in cassette.interactions:
        status = interaction.response.status
        if status is not None and status >= 400:
            findings.append(
                Finding(
                    path,
                    "schema",
                    "error-status",
                    "warning",
                    f"interaction {interaction.index}: {interaction.request.method} "
                    f"{masked_url(interaction.request.uri)} "
                    f"answered {status}",
                    {"interaction": interaction.index, "status": status},
                )
            )
    return findings


def _identity(interaction: Interaction) -> bytes:
    request = interaction.request
    body = json_of(request.body, request.headers)
    if body is None:
        body = request.body.raw if isinstance(request.body.raw, str) else repr(request.body.raw)
    return orjson.dumps([request.method, request.uri, body], option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)


def _duplicate_findings(path: str, cassette: Cassette) -> list[Finding]:
    """The same request recorded twice with the same answer: the second copy can never make a difference."""
    findings: list[Finding] = []
    first: dict[tuple[bytes, object, object, object], int] = {}
    for interaction in cassette.interactions:
        try:
            response = interaction.response
            key = (_identity(interaction), response.status, response.body.raw, _frozen(response.body.parsed))
        except (TypeError, orjson.JSONEncodeError):
            continue
        if key in first:
            findings.append(
                Finding(
                    path,
                    "duplicates",
                    "duplicate-interaction",
                    "info",
                    f"interaction {interaction.index} repeats interaction {first[key]} (same request, same answer)",
                    {"interaction": interaction.index, "same_as": first[key]},
                )
            )
        else:
            first[key] = interaction.index
    return findings


def _frozen(value: object) -> object:
    if isinstance(value, dict | list):
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)
    return value if isinstance(value, str | bytes | int | float | bool | type(None)) else repr(value)


def _size_findings(path: str, data: bytes, cassette: Cassette, options: CheckOptions) -> list[Finding]:
    findings = check_size(path, data, max_file_bytes=options.max_file_bytes, max_image_bytes=len(data) + 1)
    for interaction in cassette.interactions:
        body = json_of(interaction.request.body, interaction.request.headers)
        if body is None:
            continue
        try:
            encoded = orjson.dumps(body, option=orjson.OPT_NON_STR_KEYS)
        except (TypeError, orjson.JSONEncodeError):
            continue
        for finding in check_size(
            path,
            encoded,
            max_file_bytes=len(encoded) + 1,
            max_image_bytes=options.max_image_bytes,
            images=image_spans(encoded),
        ):
            size = finding.details["bytes"]
            finding.message = (
                f"interaction {interaction.index}: inline base64 image of {size:,} bytes in the request, above "
                f"max_image_bytes = {options.max_image_bytes:,}"
            )
            finding.details = {**finding.details, "interaction": interaction.index}
            del finding.details["line"]
            findings.append(finding)
    return findings


_EVERY_CHECK = CheckOptions()


def check_cassette_bytes(data: bytes, path: str, options: CheckOptions = _EVERY_CHECK) -> list[Finding]:
    """Every selected check on one cassette's bytes; a file that does not read is one `schema` finding."""
    try:
        cassette = parse_cassette(data, path)
        text = inflate(data, path) if data.startswith(GZIP_MAGIC) else data
    except BadRecording as exc:
        if "schema" not in options.checks:
            return []
        return [Finding(path, "schema", "invalid", "error", exc.reason, {"problem": exc.reason})]
    findings: list[Finding] = []
    if "schema" in options.checks:
        findings += _schema_findings(path, cassette)
    if "secrets" in options.checks:
        findings += _secret_findings(path, cassette, text, options)
    if "duplicates" in options.checks:
        findings += _duplicate_findings(path, cassette)
    if "size" in options.checks:
        findings += _size_findings(path, data, cassette, options)
    return findings


def check_cassette_file(job: Job, options: CheckOptions) -> FileReport:
    """Read one cassette (`(shown path, absolute path)`) and check it; a file that cannot be read is a `schema`
    finding. The checker `linting` runs over cassettes."""
    shown, location = job
    try:
        data = read_regular(location)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        findings = [Finding(shown, "schema", "invalid", "error", reason, {"problem": reason})]
        return FileReport(path=shown, findings=findings if "schema" in options.checks else [])
    return FileReport(path=shown, findings=check_cassette_bytes(data, shown, options), size=len(data))


# The code a cached cassette report depends on, besides `checking`'s (the cache key holds both).
_CODE = tuple(
    Path(__file__).with_name(name)
    for name in ("linting.py", "leaks.py", "loading.py", "reading.py", "bodies.py", "model.py")
)


def check_cassette_files(
    names: list[str], options: CheckOptions, *, base: str, cache: Path | None = None, complete: bool = False
) -> tuple[list[Finding], int]:
    """Every selected check on each cassette file (shown relative to `base`), in worker processes when there are
    many; with `cache` (a file of its own), a cassette unchanged since a run with the same options and code is not
    read again (`linting`: entries checked before use, files changed within a clock tick never cached).
    `complete`: `names` are every cassette of the project. Also the number of files checked."""
    from llm_fixtures.linting import check_files

    prefix = base.rstrip(os.sep) + os.sep
    jobs = [(name[len(prefix) :] if name.startswith(prefix) else name, os.path.join(base, name)) for name in names]  # noqa: PTH118
    reports = check_files(jobs, options, cache=cache, complete=complete, checker=check_cassette_file, code=_CODE)
    return [finding for report in reports for finding in report.findings], len(names)
