"""`normalize` on disk: each recording read and validated, its response normalized (`normalizing`), each cassette
scrubbed (`cassettes.scrubbing`); the changes written atomically, all or nothing."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from llm_fixtures.discovery import display_path, select_files
from llm_fixtures.errors import BadRecording
from llm_fixtures.facts import hash_of_name
from llm_fixtures.normalizing import normalize_response

if TYPE_CHECKING:
    from llm_fixtures.config import Project


@dataclass
class Normalized:
    """One file whose content changes (`written` once applied), with what changes. A dataclass, not a pydantic
    model: `normalize --json` prints it as it is."""

    path: str
    changes: list[str] = field(default_factory=list)
    written: bool = False


@dataclass
class Normalization:
    """What normalizing a selection found: the files that change (with the bytes each would be written with),
    how many files were looked at, the JSON files that are not recordings, and the files that could not be read."""

    rows: list[Normalized] = field(default_factory=list)
    total: int = 0
    skipped: list[str] = field(default_factory=list)
    problems: list[BadRecording] = field(default_factory=list)
    pending: list[tuple[Normalized, Path, bytes]] = field(default_factory=list)

    def add(self, row: Normalized, path: Path, data: bytes) -> None:
        self.rows.append(row)
        self.pending.append((row, path, data))


def _recordings(files: Sequence[Path], base: Path, found: Normalization) -> None:
    from llm_fixtures.decoding import check_recording, dump_upstream, is_foreign, parse_json
    from llm_fixtures.store import read_bytes

    for path in files:
        shown = display_path(path, base)
        try:
            raw = parse_json(read_bytes(path), shown)
            if is_foreign(raw, str(path)):
                found.skipped.append(shown)
                continue
            check_recording(raw, shown)
            new, changes = normalize_response(raw, hash_of_name(path.name))
            data = dump_upstream(new) if changes else b""
        except BadRecording as exc:
            found.problems.append(exc)
            continue
        except RecursionError:
            found.problems.append(BadRecording(shown, "not a recording: nested too deeply"))
            continue
        found.total += 1
        if changes:
            found.add(Normalized(path=shown, changes=changes), path, data)


def _cassettes(cassettes: Sequence[str], project: Project, base: Path, drop: bool, found: Normalization) -> None:
    from llm_fixtures.cassettes.leaks import SECRET_HEADERS
    from llm_fixtures.cassettes.scrubbing import describe_scrub, scrub_files
    from llm_fixtures.checking.secrets import Allowlist

    allowed = tuple(project.settings.check.allow_secrets) if "check" in project.table else ()
    scrubbed, unscrubbed = scrub_files(
        list(cassettes), Allowlist(allowed), drop=SECRET_HEADERS if drop else frozenset(), base=str(base)
    )
    found.problems.extend(unscrubbed)
    found.total += len(cassettes)
    for shown, name, result in scrubbed:
        found.add(Normalized(path=shown, changes=describe_scrub(result)), Path(name), result.after or b"")


def normalize_files(paths: Sequence[Path] | None, project: Project, *, base: Path, drop: bool) -> Normalization:
    """What normalizing the recordings and cassettes under `paths` (default: the project's) would change, shown
    relative to `base`; nothing is written. `drop`: cassettes lose their credential headers whole."""
    selection = select_files(paths, project)
    found = Normalization(problems=list(selection.problems))
    _recordings(selection.files, base, found)
    if selection.cassettes:
        _cassettes(selection.cassettes, project, base, drop, found)
    return found


def write_normalized(found: Normalization) -> None:
    """Write every change, each file atomically; nothing at all when any target is read-only (WriteError)."""
    from llm_fixtures.store import write_atomic
    from llm_fixtures.writing import ensure_writable

    ensure_writable([(path, path) for _, path, _ in found.pending])
    for row, path, data in found.pending:
        write_atomic(path, data)
        row.written = True
