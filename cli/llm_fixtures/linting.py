"""Running the per-file checks over many files: reading them, in worker processes when there are many, and
remembering each file's report in a cache keyed by its size, mtime and ctime."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from llm_fixtures import __version__
from llm_fixtures.caching import Stamp, read_entries, settled, stamp_of, write_entries
from llm_fixtures.checking import CheckOptions, FileReport, Finding, check_bytes, unreadable
from llm_fixtures.checking.findings import CHECK_NAMES, SEVERITY_RANK
from llm_fixtures.errors import BadRecording
from llm_fixtures.pooling import map_ordered

CACHE_FORMAT = "check-2"

Job = tuple[str, str]  # (shown path, absolute path)
Checker = Callable[[Job, CheckOptions], FileReport]  # reads and checks one file (a module-level function: pickled)


def check_file(job: Job, options: CheckOptions) -> FileReport:
    """Read one file and check it; a file that cannot be read is a `schema` finding."""
    from llm_fixtures.store import read_bytes

    shown, location = job
    try:
        data = read_bytes(location)  # a plain string: no Path object per file
    except BadRecording as exc:
        report = FileReport(path=shown)
        if "schema" in options.checks:
            report.findings.append(unreadable(shown, exc.reason))
        return report
    return check_bytes(data, shown, location, options)


def fingerprint(options: CheckOptions, code: Sequence[Path] = ()) -> str:
    """What a cached report depends on besides the file: the options and the code of the checks (and `code`,
    the sources of another checker)."""
    # Sorted: the repr of a frozenset of strings changes from one process to the next.
    settings = [sorted(options.checks), options.allow_secrets, options.max_file_bytes, options.max_image_bytes]
    digest = hashlib.sha256(f"{CACHE_FORMAT}:{__version__}:{settings!r}".encode())
    package = Path(__file__).resolve().parent
    shared = ("hashing.py", "normalizing.py", "decoding.py", "facts.py", "scanning.py", "onepass.py")
    sources = [*sorted((package / "checking").glob("*.py")), *(package / name for name in shared), *code]
    for source in sources:
        try:
            digest.update(source.read_bytes())
        except OSError:
            digest.update(source.name.encode())
    return digest.hexdigest()


def _to_cache(report: FileReport) -> dict[str, Any]:
    return {
        "findings": [
            [finding.check, finding.status, finding.severity, finding.message, finding.details]
            for finding in report.findings
        ],
        "identity": report.identity,
        "test_id": report.test_id,
        "size": report.size,
        "skipped": report.skipped,
        "current_name": report.current_name,
    }


def _from_cache(shown: str, payload: Any) -> FileReport | None:
    """The report a cache entry holds, when it has that shape (the cache is data from disk: anything else is a
    miss, and the file is checked again)."""
    if type(payload) is not dict:
        return None
    findings = payload.get("findings")
    if type(findings) is not list or not all(_is_cached_finding(finding) for finding in findings):
        return None
    identity, test_id, size = payload.get("identity"), payload.get("test_id"), payload.get("size")
    skipped, current_name = payload.get("skipped"), payload.get("current_name")
    if not (
        isinstance(identity, str | None)
        and isinstance(test_id, str | None)
        and type(size) is int
        and type(skipped) is bool
        and isinstance(current_name, str | None)
    ):
        return None
    return FileReport(
        path=shown,
        findings=[Finding(shown, *finding) for finding in findings],
        identity=identity,
        test_id=test_id,
        size=size,
        skipped=skipped,
        current_name=current_name,
    )


def _is_cached_finding(value: Any) -> bool:
    if type(value) is not list or len(value) != 5:
        return False
    check, status, severity, message, details = value
    return (
        check in CHECK_NAMES
        and type(status) is str
        and severity in SEVERITY_RANK
        and type(message) is str
        and type(details) is dict
    )


def check_files(
    jobs: Sequence[Job],
    options: CheckOptions,
    *,
    workers: int | None = None,
    cache: Path | None = None,
    complete: bool = False,
    checker: Checker = check_file,
    code: Sequence[Path] = (),
) -> list[FileReport]:
    """Reports of every file, in the order of `jobs`. With `cache`, files whose size, mtime and ctime are
    unchanged since the last run with the same options and code are not read again. `complete` says the
    jobs are every file of the project, so cached files that are no longer there are forgotten. `checker`
    checks one file (recordings by default), `code` are its sources (they key the cache too)."""
    started = time.time_ns()
    key = fingerprint(options, code) if cache is not None else ""
    cached = read_entries(cache, key) if cache is not None else {}
    reports: list[FileReport | None] = [None] * len(jobs)
    stamps: list[Stamp | None] = [None] * len(jobs)
    todo: list[int] = []
    for index, (shown, location) in enumerate(jobs):
        stamp = stamp_of(location) if cache is not None else None
        stamps[index] = stamp
        entry = cached.get(location) if stamp is not None else None
        if type(entry) is list and len(entry) == 2 and entry[0] == stamp:
            reports[index] = _from_cache(shown, entry[1])
        if reports[index] is None:
            todo.append(index)
    # Small chunks, of equal size: the worker that finishes first waits the less for the other.
    fresh = list(map_ordered(checker, [jobs[index] for index in todo], options, jobs=workers, chunks_per_worker=8))
    for index, report in zip(todo, fresh, strict=True):
        reports[index] = report
    if cache is not None and (todo or len(cached) != len(jobs)):
        present = {location for _, location in jobs}
        entries = {location: entry for location, entry in cached.items() if not complete or location in present}
        for index, report in zip(todo, fresh, strict=True):
            stamp = stamps[index]
            if stamp is not None and settled(stamp, started):
                entries[jobs[index][1]] = [stamp, _to_cache(report)]
            else:
                entries.pop(jobs[index][1], None)
        write_entries(cache, key, entries)
    return [report for report in reports if report is not None]
