"""What `fixtures show` reads: the files its references name (a folder listed, not catalogued), and each file's view
or final message, folded in worker processes and handed on in order as soon as each chunk is done."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import orjson

# What the workers run, imported here (before the pool forks them) rather than once per file.
from llm_fixtures.assembling import assemble_sse, fold_body
from llm_fixtures.decoding import check_recording, is_foreign, parse_json, validate_recording
from llm_fixtures.discovery import display_path, is_cassette_name, select_files
from llm_fixtures.errors import BadRecording, FixtureError, NoMatch
from llm_fixtures.pooling import map_ordered
from llm_fixtures.store import read_bytes

if TYPE_CHECKING:
    from llm_fixtures.assembling.final import FinalMessage
    from llm_fixtures.config import Project
    from llm_fixtures.conversation import Shown

# A file named by a reference: its path, and the folders given (their positions among them) it was listed from,
# empty for a file named itself. A file listed from a folder is shown only when it is a recording, as `ls` sees
# it: other JSON outside a recordings folder is skipped, a file that is not a valid recording is reported.
Target = tuple[str, tuple[int, ...]]

# What a worker shows of a file (`Mode`): its view (`show`), its fold (`show --assemble`), or its fold as the JSON
# line `show --assemble --json` prints (encoded where the work is spread, not in the process that writes).
Mode = Literal["view", "fold", "json"]

# What a worker makes of one file:
#   ("ok", value)          shown: the `Shown` view, the fold's (kind, result, warnings), or its JSON line (bytes;
#                          the fold's tuple when orjson refuses it, for the writer's fallback)
#   ("bad", reason)        in its place in the output, but it could not be read or folded
#   ("unreadable", reason) listed from a folder and not a valid recording: reported with the folder's problems
#   ("skip", None)         listed from a folder and not a recording at all (some other JSON file)
FileShown = tuple[str, Any]


@dataclass(frozen=True, slots=True)
class Folded:
    """The final message one recording's stream folds into (`show --assemble`)."""

    path: str
    kind: str
    result: dict[str, Any]
    warnings: list[str]

    def json_document(self) -> dict[str, Any]:
        """One line of `show --assemble --json`: the path, the fold's result, its warnings."""
        return {"path": self.path, **self.result, "warnings": self.warnings}

    def titled(self) -> tuple[str, FinalMessage]:
        """The path and the neutral final message, as the human output prints them."""
        from llm_fixtures.assembling.final import final_message

        return self.path, final_message(self.kind, self.result, self.warnings)


@dataclass(frozen=True, slots=True)
class EncodedLine:
    """A JSON line encoded by the worker that folded its recording: the writer only makes it safe and writes it."""

    data: bytes

    def to_json(self) -> bytes:
        return self.data


@dataclass
class Targets:
    """The files the references of `show` name, in order (each once), the cassettes among them, and the problems
    found on the way. Folders given are listed (discovery), not catalogued: each file is read once, by the
    worker that shows it. `problems` is complete once the results have been read to the end."""

    files: list[Target] = field(default_factory=list)
    cassettes: list[str] = field(default_factory=list)
    folders: list[str] = field(default_factory=list)
    # Per folder given: the files and paths that could not be read, reported as `ls` reports them.
    unreadable: list[list[BadRecording]] = field(default_factory=list)
    # Per folder given: whether it names anything (a recording, a cassette, a problem); a folder that names
    # nothing is NoMatch, as a hash that names nothing.
    named: list[bool] = field(default_factory=list)
    shown_problems: list[BadRecording] = field(default_factory=list)

    def views(self) -> Iterator[Shown]:
        """What `show` prints of each recording (request, conversation, response facts), in order."""
        for _path, value in self._results("view"):
            yield value

    def folded(self) -> Iterator[Folded]:
        """The final message of each recording (`show --assemble`), in order."""
        for path, (kind, result, warnings) in self._results("fold"):
            yield Folded(path, kind, result, warnings)

    def json_lines(self) -> Iterator[EncodedLine | Folded]:
        """What `show --assemble --json` writes of each recording, in order (`Folded.json_document`)."""
        for path, value in self._results("json"):
            yield EncodedLine(value) if isinstance(value, bytes) else Folded(path, *value)

    @property
    def problems(self) -> list[BadRecording]:
        """The folders' unreadable files (each folder's sorted by path, as `ls` sorts them), then the files that
        could not be shown, in order."""
        folders = [problem for bucket in self.unreadable for problem in sorted(bucket, key=lambda p: str(p.path))]
        return [*folders, *self.shown_problems]

    def _results(self, mode: Mode) -> Iterator[tuple[str, Any]]:
        """(path, value) of each file shown. Output waits until every folder given is known to name something
        (at its first file that is a recording, for one folder): a folder that names nothing stops the command
        before it prints anything, as when it was catalogued first."""
        placed: set[str] = set()
        held: list[tuple[str, Any]] | None = [] if not all(self.named) else None
        for (path, folders), (status, value) in zip(
            self.files, map_ordered(_outcome, self.files, mode, chunks_per_worker=16), strict=True
        ):
            if status == "skip":
                continue
            for index in folders:
                self.named[index] = True
            if status == "unreadable":
                for index in folders:
                    self.unreadable[index].append(BadRecording(path, value))
                continue
            if path in placed:  # a file given again (its folder, then itself): once, at its first place
                continue
            placed.add(path)
            if status == "bad":
                self.shown_problems.append(BadRecording(path, value))
            elif held is None:
                yield path, value
            else:
                held.append((path, value))
            if held is not None and all(self.named):
                yield from held
                held = None
        if held is not None:
            # Every folder named something only at its last files, which could not be shown (unreadable, bad).
            if all(self.named):
                yield from held
                return
            raise NoMatch(self.folders[self.named.index(False)])


def select_targets(refs: Sequence[str], project: Project) -> Targets:
    """The files `refs` name, in order: a file itself, every recording file in a folder (sorted by path, as the
    catalog sorts them), the recordings a hash, prefix or node id names. Raises NoMatch, AmbiguousRef,
    UsageError, as `resolving.resolve_refs`."""
    from llm_fixtures.resolving import each_ref

    targets = Targets()
    order: dict[tuple[str, bool], int] = {}  # (path, from a folder) -> its place in targets.files
    cassettes: dict[str, None] = {}
    try:
        for ref, named in each_ref(refs, project):
            if named is not None:
                for file in named:
                    _add(targets, order, cassettes, str(file), None)
                continue
            index = len(targets.folders)
            targets.folders.append(ref)
            listed = _list_folder(Path(ref), project)
            targets.unreadable.append(listed.problems)
            targets.named.append(bool(listed.problems or listed.cassettes))
            for name in [*listed.names, *listed.cassettes]:
                _add(targets, order, cassettes, name, index)
    except FixtureError:
        _raise_if_a_folder_names_nothing(targets)
        raise
    targets.cassettes = list(cassettes)
    return targets


@dataclass
class _Listed:
    names: list[str]
    cassettes: list[str]
    problems: list[BadRecording]


def _list_folder(folder: Path, project: Project) -> _Listed:
    """The recording files of a folder (not read yet), its cassettes (catalogued: they are few, and their
    problems are the catalog's), and what could not be walked."""
    selection = select_files([folder], project)
    base = os.getcwd()  # noqa: PTH109
    names = sorted(str(Path(display_path(name, base))) for name in selection.names)
    problems = list(selection.problems)
    cassettes: list[str] = []
    if selection.cassettes:
        from llm_fixtures.cassettes.cataloging import load_cassettes

        catalog = load_cassettes(selection.cassettes, project.root)
        cassettes = [str(Path(facts.path)) for facts in catalog.cassettes]
        problems.extend(catalog.problems)
    return _Listed(names, cassettes, problems)


def _add(
    targets: Targets, order: dict[tuple[str, bool], int], cassettes: dict[str, None], path: str, folder: int | None
) -> None:
    if is_cassette_name(path):
        cassettes.setdefault(path)
        return
    key = (path, folder is not None)
    at = order.get(key)
    if at is None:
        order[key] = len(targets.files)
        targets.files.append((path, () if folder is None else (folder,)))
    elif folder is not None and folder not in targets.files[at][1]:
        targets.files[at] = (path, (*targets.files[at][1], folder))


def _raise_if_a_folder_names_nothing(targets: Targets) -> None:
    """Before a later reference's error: the first folder given that names nothing, as it would have been found
    first (only its files that are not known yet to be recordings are read, here and only here)."""
    for index, folder in enumerate(targets.folders):
        if targets.named[index]:
            continue
        members = [target for target in targets.files if index in target[1]]
        if all(status == "skip" for status, _ in map_ordered(_outcome, members, "fold")):
            raise NoMatch(folder) from None


def _outcome(target: Target, mode: Mode) -> FileShown:
    """What one file shows (in a worker process: the function and its results are picklable)."""
    path, folders = target
    try:
        if not folders and os.path.splitext(path)[1] == ".sse":  # noqa: PTH122  (a Path per file costs)
            return _sse_outcome(path, mode)
        return _recording_outcome(path, mode, listed=bool(folders))
    except BadRecording as problem:
        return ("bad", problem.reason)
    except (ValueError, RecursionError) as exc:
        return ("bad", _why(exc))


def _sse_outcome(path: str, mode: Mode) -> FileShown:
    assembly = assemble_sse(read_bytes(path).decode("utf-8", errors="replace"))
    if mode == "view":
        from llm_fixtures.conversation import show_sse

        return ("ok", show_sse(path, assembly))
    return _folded(path, (assembly.kind, assembly.result, assembly.warnings), mode)


def _recording_outcome(path: str, mode: Mode, *, listed: bool) -> FileShown:
    valid: dict[str, Any] | None = None
    if listed:
        # Judged as the catalog judges a file (`ls`): skipped when it is some other JSON, else reported with the
        # folder's problems when it is not a valid recording.
        try:
            data = read_bytes(path)
            raw = parse_json(data, path)
            if is_foreign(raw, path):
                return ("skip", None)
            valid = check_recording(raw, path)
        except BadRecording as problem:
            return ("unreadable", problem.reason)
        except RecursionError:
            return ("unreadable", "not a recording: nested too deeply")
    else:
        data = read_bytes(path)
        raw = parse_json(data, path)
    if mode != "view":
        response = raw.get("response") if isinstance(raw, dict) else None
        if not isinstance(response, dict) or "request" not in raw:
            validate_recording(raw, path)  # raises BadRecording saying what is wrong
            response = raw["response"]
        return _folded(path, fold_body(response.get("body"), is_streaming=response.get("is_streaming") is True), mode)
    from llm_fixtures.assembling import Assembly
    from llm_fixtures.conversation import show_recording
    from llm_fixtures.facts import derive_facts

    file = validate_recording(raw, path)
    if valid is None:
        valid = check_recording(raw, path)
    facts = derive_facts(path, len(data), valid)
    kind, result, warnings = fold_body(file.response.body, is_streaming=file.response.is_streaming)
    assembly = Assembly.model_construct(kind=kind, result=result, warnings=warnings)
    return ("ok", show_recording(path, file, facts, assembly))


def _folded(path: str, fold: tuple[str, dict[str, Any], list[str]], mode: Mode) -> FileShown:
    """A fold as the worker hands it on: as it is, or (`json`) encoded as orjson encodes it in the writer."""
    if mode == "json":
        try:
            return ("ok", orjson.dumps(Folded(path, *fold).json_document()))
        except (TypeError, ValueError):  # what orjson refuses (a lone surrogate, a huge integer): the writer's fallback
            pass
    return ("ok", fold)


def _why(exc: ValueError | RecursionError) -> str:
    """What a parser that gave up on a file says (an integer past Python's conversion limit, nesting too deep)."""
    if isinstance(exc, RecursionError):
        return "invalid JSON: nested too deeply"
    return f"invalid JSON: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
