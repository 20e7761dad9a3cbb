"""Lint of recording files: the per-file checks over a file's bytes, and the cross-file duplicates check."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from llm_fixtures.checking.duplicates import Copy, find_duplicates, request_identity
from llm_fixtures.checking.findings import CHECK_NAMES, CheckName, Finding, Severity, at_least
from llm_fixtures.checking.hashes import check_hash
from llm_fixtures.checking.normalization import check_normalization
from llm_fixtures.checking.placement import check_place, recording_test_id
from llm_fixtures.checking.schema import check_schema, unreadable
from llm_fixtures.checking.secrets import Allowlist, check_secrets
from llm_fixtures.checking.size import check_size, image_spans
from llm_fixtures.errors import BadRecording
from llm_fixtures.hashing import RuleKeys

__all__ = [
    "CHECK_NAMES",
    "CheckName",
    "CheckOptions",
    "FileReport",
    "Finding",
    "Severity",
    "at_least",
    "check_bytes",
    "collect_findings",
    "is_ok",
    "summarize",
    "unreadable",
]


@dataclass(frozen=True, slots=True)
class CheckOptions:
    """Which checks run, and their settings (picklable: it travels to worker processes)."""

    checks: frozenset[str] = frozenset(CHECK_NAMES)
    allow_secrets: tuple[str, ...] = ()
    max_file_bytes: int = 1_000_000
    max_image_bytes: int = 200_000


@dataclass(slots=True)
class FileReport:
    """What the per-file checks found in one file, and what the duplicates check needs of it."""

    path: str
    findings: list[Finding] = field(default_factory=list)
    identity: str | None = None
    test_id: str | None = None
    size: int = 0
    skipped: bool = False  # a JSON file that is not a recording, outside any recordings folder
    current_name: str | None = None  # for stale and mismatch files: the name the current rule gives

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickled as its fields, to and from worker processes (see Finding.__reduce__).
        fields = (self.path, self.findings, self.identity, self.test_id, self.size, self.skipped, self.current_name)
        return (FileReport, fields)


def check_bytes(data: bytes, path: str, location: str, options: CheckOptions) -> FileReport:
    """Run every selected per-file check on one file's bytes. `path` is what is shown, `location` the
    absolute path (for the folder checks). A file that does not load is one `schema` finding, and so is one
    nested too deeply for the checks to walk."""
    try:
        return _check_bytes(data, path, location, options)
    except RecursionError:
        report = FileReport(path=path, size=len(data))
        if "schema" in options.checks:
            report.findings.append(unreadable(path, "not a recording: nested too deeply"))
        return report


def _check_bytes(data: bytes, path: str, location: str, options: CheckOptions) -> FileReport:
    # Imported here so that a worker process pays for pydantic only when it has a file to check.
    from llm_fixtures.decoding import check_recording, is_foreign, parse_json

    checks = options.checks
    name = location.replace("\\", "/").rsplit("/", 1)[-1]
    report = FileReport(path=path, size=len(data))
    try:
        raw = parse_json(data, path)
        if is_foreign(raw, location):
            report.skipped = True
            return report
        valid = check_recording(raw, path)  # pydantic only when the fields do not plainly have their types
    except BadRecording as exc:
        if "schema" in checks:
            report.findings.append(unreadable(path, exc.reason))
        if "secrets" in checks:
            report.findings.extend(check_secrets(path, data, Allowlist(options.allow_secrets)))
        return report
    findings = report.findings
    keys = RuleKeys(raw)  # shared by the hash and duplicates checks: the body is normalized once
    if "hash" in checks:
        finding, verdict = check_hash(path, name, raw, keys)
        findings.append(finding)
        if verdict.status in {"stale", "mismatch"}:
            report.current_name = verdict.expected_name
    if "place" in checks:
        findings.extend(check_place(path, location, raw))
    if "normalization" in checks:
        findings.extend(check_normalization(path, name, raw))
    # The inline images, when the size check looks for them anyway: the secrets check skips their base64 text.
    images = image_spans(data) if "size" in checks and len(data) > options.max_image_bytes else []
    if "secrets" in checks:
        request = raw.get("request")
        headers = request.get("headers") if isinstance(request, dict) else None
        findings.extend(
            check_secrets(
                path,
                data,
                Allowlist(options.allow_secrets),
                headers=headers,
                images=images,
                response=raw.get("response"),  # a stored stream is searched once folded, too
            )
        )
    if "schema" in checks:
        findings.extend(check_schema(path, valid))
    if "size" in checks:
        findings.extend(
            check_size(
                path,
                data,
                max_file_bytes=options.max_file_bytes,
                max_image_bytes=options.max_image_bytes,
                images=images,
            )
        )
    if "duplicates" in checks:
        report.identity = request_identity(raw, keys)
        report.test_id = recording_test_id(raw)
    return report


def duplicates_of(reports: Iterable[FileReport]) -> list[Finding]:
    """The cross-file `duplicates` findings of a set of file reports."""
    return find_duplicates(
        (report.identity, Copy(report.path, report.test_id, report.size))
        for report in reports
        if report.identity is not None
    )


def is_ok(finding: Finding) -> bool:
    """An `ok` hash verdict: reported only with --all, never a failure."""
    return finding.check == "hash" and finding.status == "ok"


def collect_findings(
    reports: Sequence[FileReport], problems: Iterable[BadRecording], checks: Iterable[str]
) -> list[Finding]:
    """Every finding of a run, sorted by check then path: the per-file ones, the folders that could not be
    walked (`schema`), and the cross-file duplicates."""
    chosen = set(checks)
    findings = [finding for report in reports for finding in report.findings]
    if "schema" in chosen:
        findings += [unreadable(str(problem.path), problem.reason) for problem in problems]
    if "duplicates" in chosen:
        findings += duplicates_of(reports)
    order = {name: index for index, name in enumerate(CHECK_NAMES)}
    findings.sort(key=lambda finding: (order[finding.check], finding.path))
    return findings


def summarize(findings: Sequence[Finding]) -> dict[str, Counter[str]]:
    """Counts of statuses per check, checks in their usual order."""
    counts: dict[str, Counter[str]] = {}
    for finding in findings:
        counts.setdefault(finding.check, Counter())[finding.status] += 1
    return {check: counts[check] for check in CHECK_NAMES if check in counts}
