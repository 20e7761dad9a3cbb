"""Running the per-file checks over many files: reading them, in worker processes when there are many."""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from llm_fixtures.checking import CheckOptions, FileReport, check_bytes, unreadable
from llm_fixtures.errors import BadRecording

# Below this many files, starting worker processes costs more than it saves.
PARALLEL_THRESHOLD = 200

Job = tuple[str, str]  # (shown path, absolute path)


def check_file(job: Job, options: CheckOptions) -> FileReport:
    """Read one file and check it; a file that cannot be read is a `schema` finding."""
    from llm_fixtures.store import read_bytes

    shown, location = job
    try:
        data = read_bytes(Path(location))
    except BadRecording as exc:
        report = FileReport(path=shown)
        if "schema" in options.checks:
            report.findings.append(unreadable(shown, exc.reason))
        return report
    return check_bytes(data, shown, location, options)


def _check_chunk(jobs: list[Job], options: CheckOptions) -> list[FileReport]:
    return [check_file(job, options) for job in jobs]


def check_files(jobs: Sequence[Job], options: CheckOptions, *, workers: int | None = None) -> list[FileReport]:
    """Reports of every file, in the order of `jobs`."""
    workers = workers if workers is not None else min(4, os.cpu_count() or 1)
    if workers <= 1 or len(jobs) < PARALLEL_THRESHOLD:
        return _check_chunk(list(jobs), options)
    size = max(1, len(jobs) // (workers * 4))
    chunks = [list(jobs[i : i + size]) for i in range(0, len(jobs), size)]
    reports: list[FileReport] = []
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for part in pool.map(_check_chunk, chunks, [options] * len(chunks)):
            reports.extend(part)
    return reports
