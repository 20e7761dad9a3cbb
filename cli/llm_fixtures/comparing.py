"""The shell of `fixtures diff`: gather both sides (files, folders, git revisions), skip identical bytes, load,
pair and hand each pair to the pure diff."""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from llm_fixtures.config import Project
from llm_fixtures.diffing import Details, PairReport, compare, deepdiff_class, prepare_side
from llm_fixtures.discovery import select_files
from llm_fixtures.errors import BadRecording, PathNotFound, UsageError
from llm_fixtures.facts import Facts, derive_facts, is_plainly_valid
from llm_fixtures.gitreading import (
    Repository,
    blob_id,
    clean_index_blobs,
    list_blobs,
    open_repository,
    read_blobs,
    resolve_revision,
    split_range,
)
from llm_fixtures.pairing import Candidate, Pair, pair_by_path, pair_by_test
from llm_fixtures.store import load_bytes, parse_json, read_bytes
from llm_fixtures.volatility import Volatility, build_volatility

# Below this many pairs to compare, worker processes cost more than they save.
PARALLEL_THRESHOLD = 40
# From this many identical blobs on, their working-tree copies are looked up (two git calls) to be read instead.
CLEAN_COPIES_THRESHOLD = 100
# Pairs shared out in chunks of at least this many, taken in an order that visits every _STRIDE-th pair first.
_SMALLEST_CHUNK = 16
_STRIDE = 64


@dataclass(frozen=True, slots=True)
class Source:
    """Where one side of a recording lives: a file on disk or a git blob. `fingerprint` is the git blob id of
    its bytes (computed for files) so identical content is recognised without parsing."""

    key: str
    display: str
    fingerprint: str | None = None
    path: Path | str | None = None
    oid: str | None = None


@dataclass(slots=True)
class Tree:
    """One side of a diff: sources by key (a path relative to what is compared), and a label for humans."""

    label: str
    sources: dict[str, Source] = field(default_factory=dict)
    repo: Repository | None = None


@dataclass(slots=True)
class DiffResult:
    """Every pair, sorted by path, and the labels of the two sides."""

    old_label: str
    new_label: str
    reports: list[PairReport] = field(default_factory=list)


def volatility_of(project: Project) -> Volatility:
    """The volatile fields of this project: built in, plus `[tool.fixtures] volatile` and
    `[tool.fixtures.diff] volatile`."""
    light = _plain_volatile(project.table)
    if light is not None:
        return build_volatility(light)
    settings = project.settings
    return build_volatility([*settings.volatile, *settings.diff.volatile])


def _strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _plain_volatile(table: dict[str, Any]) -> list[str] | None:
    """The volatile entries of a `[tool.fixtures]` table that holds nothing but lists of strings under `roots`,
    `volatile` and `[tool.fixtures.diff] volatile`: a table the settings models would take as it is (so
    there is nothing they could reject, and no need to build them). None for any other table."""
    diff = table.get("diff", {})
    if not set(table) <= {"roots", "volatile", "diff"} or not isinstance(diff, dict) or not set(diff) <= {"volatile"}:
        return None
    lists = (table.get("roots", []), table.get("volatile", []), diff.get("volatile", []))
    if not all(_strings(value) for value in lists):
        return None
    return [*lists[1], *lists[2]]


def _shown(path: Path | str, cwd: Path) -> str:
    """A path as shown: relative to the current folder when under it, else absolute (string operations only:
    this runs for every file of both sides)."""
    text, base = os.path.abspath(path), str(cwd)  # noqa: PTH100 (a string is what we want, fast)
    if text.startswith(base + os.sep):
        return text[len(base) + 1 :]
    return text


def _file_fingerprint(path: str, object_format: str = "sha1") -> str | None:
    try:
        with open(path, "rb") as handle:  # noqa: PTH123 (a plain string, as listed)
            return blob_id(handle.read(), object_format)
    except OSError:
        return None


def folder_tree(root: Path, project: Project, cwd: Path) -> Tree:
    """Every recording file under a folder, keyed by its path inside the folder (string operations only: this
    runs for every file of both sides)."""
    selection = select_files([root], project)
    tree = Tree(label=_shown(root, cwd) if root.is_absolute() else str(root))
    prefix = str(root).rstrip(os.sep) + os.sep
    # The walk joins plain entry names onto the root as given: a file's absolute path is the root's and the rest.
    absolute_prefix = os.path.abspath(root).rstrip(os.sep) + os.sep  # noqa: PTH100 (as in _shown)
    base = str(cwd) + os.sep
    for name in selection.names:
        if name.startswith(prefix):
            inside = name[len(prefix) :]
            absolute = absolute_prefix + inside
            shown = absolute[len(base) :] if absolute.startswith(base) else absolute
        else:  # anything else goes the slow way
            inside, shown = Path(name).relative_to(root).as_posix(), _shown(name, cwd)
        key = inside.replace(os.sep, "/")
        # No fingerprint: two folders are compared file against file, bytes only when the sizes agree.
        tree.sources[key] = Source(key, shown, None, path=name)
    return tree


def file_tree(path: Path, cwd: Path, key: str) -> Tree:
    """A single file as a one-entry side (two files are compared whatever their names)."""
    if not path.exists() and not path.is_symlink():
        raise PathNotFound(path)
    shown = _shown(path, cwd)
    return Tree(label=shown, sources={key: Source(key, shown, None, path=str(path))})


def _in_recordings_folder(key: str) -> bool:
    return "recordings" in key.split("/")[:-1]


def git_tree(repo: Repository, revision: str, pathspecs: Sequence[str], cwd: Path, *, only_recordings: bool) -> Tree:
    """The recording files of a revision (read through `git ls-tree`, nothing checked out)."""
    commit = resolve_revision(repo, revision)
    tree = Tree(label=f"{revision} ({commit[:10]})", repo=repo)
    for key, oid in list_blobs(repo, commit, pathspecs).items():
        if not key.endswith(".json") or (only_recordings and not _in_recordings_folder(key)):
            continue
        tree.sources[key] = Source(key, _shown(repo.root / key, cwd), oid, oid=oid)
    return tree


def _repo_key(repo: Repository, path: Path | str) -> str | None:
    """A path as git names it (relative to the top of the repository), or None when it is outside."""
    root = str(repo.root)
    for candidate in (os.path.abspath(path), None):  # noqa: PTH100 (as above)
        candidate = candidate if candidate is not None else os.path.realpath(path)
        if candidate == root:
            return ""
        if candidate.startswith(root + os.sep):
            return candidate[len(root) + 1 :].replace(os.sep, "/")
    return None


def worktree(repo: Repository, paths: Sequence[Path], project: Project, cwd: Path) -> Tree:
    """The recording files of the working tree under `paths` (default: the project's recording folders), keyed by
    their path in the repository and fingerprinted as git would hash them."""
    tree = Tree(label="working tree", repo=repo)
    existing = [path for path in paths if path.exists() or path.is_symlink()]
    if paths and not existing:
        return tree
    selection = select_files(existing or None, project)
    # What git already knows is clean needs no reading; the rest is hashed here as git would hash it.
    known = clean_index_blobs(repo, [_repo_key(repo, path) or "." for path in existing])
    for name in selection.names:
        key = _repo_key(repo, name)
        if key is None:
            continue
        fingerprint = known.get(key) or _file_fingerprint(name, repo.object_format)
        tree.sources[key] = Source(key, _shown(name, cwd), fingerprint, path=name)
    return tree


def git_sides(spec: str, paths: Sequence[Path], project: Project, cwd: Path) -> tuple[Tree, Tree]:
    """`--git REV` (REV against the working tree) or `--git A..B`, narrowed to `paths`."""
    old_rev, new_rev = split_range(spec)
    repo = open_repository(paths[0] if paths else cwd)
    root = repo.root.resolve()
    pathspecs: list[str] = []
    for path in paths:
        absolute = (cwd / path).resolve() if not path.is_absolute() else path.resolve()
        try:
            pathspecs.append(absolute.relative_to(root).as_posix() or ".")
        except ValueError:
            raise UsageError(f"{path}: not inside the git repository {root}") from None
    # The paths given narrow the comparison and must exist on one side; without them, the project's roots do.
    given = list(pathspecs)
    only_recordings = not pathspecs
    if not pathspecs:
        if project.settings.roots is not None:
            pathspecs = [
                (project.root / r).resolve().relative_to(root).as_posix()
                for r in project.settings.roots
                if (project.root / r).resolve().is_relative_to(root)
            ]
            only_recordings = False
        elif project.root.resolve() != root and project.root.resolve().is_relative_to(root):
            pathspecs = [project.root.resolve().relative_to(root).as_posix()]
    old = git_tree(repo, old_rev, pathspecs, cwd, only_recordings=only_recordings)
    if new_rev is None:
        new = worktree(repo, [Path(root / p) for p in pathspecs] if paths else [], project, cwd)
    else:
        new = git_tree(repo, new_rev, pathspecs, cwd, only_recordings=only_recordings)
    for path, spec_path in zip(paths, given, strict=True):
        prefix = "" if spec_path == "." else spec_path
        hit = any(key == prefix or key.startswith(prefix.rstrip("/") + "/") or not prefix for key in old.sources)
        hit = hit or any(key == prefix or key.startswith(prefix.rstrip("/") + "/") for key in new.sources)
        if not hit and not path.exists():
            raise PathNotFound(path)
    return old, new


# ------------------------------------------------------------------------------------------------ loading


@dataclass(frozen=True, slots=True)
class Parsed:
    """A recording read for comparison: the JSON as stored (known to be a valid recording) and its facts."""

    raw: dict[str, Any]
    facts: Facts


def parse_recording(data: bytes, display: str) -> Parsed:
    """Parse a recording; the pydantic models only see files whose fields are not plainly of the right types
    (they say what is wrong, or coerce what they accept)."""
    raw = parse_json(data, display)
    if is_plainly_valid(raw):
        return Parsed(raw, derive_facts(display, len(data), raw))
    loaded = load_bytes(data, display)
    return Parsed(loaded.file.model_dump(mode="json", by_alias=True, exclude_unset=True), loaded.facts)


class _Loader:
    """Loads sources on demand: files from disk, blobs through one `git cat-file --batch` per batch."""

    def __init__(self) -> None:
        self._blobs: dict[str, bytes] = {}

    def prefetch(self, repo: Repository | None, sources: Iterable[Source]) -> None:
        if repo is None:
            return
        missing = [source.oid for source in sources if source.oid and source.oid not in self._blobs]
        self._blobs.update(read_blobs(repo, missing))

    def data(self, source: Source) -> bytes:
        """The bytes of a source: its blob when read, else its file (for a blob, a working-tree copy git
        considers unchanged)."""
        if source.oid is not None and source.oid in self._blobs:
            return self._blobs[source.oid]
        if source.path is not None:
            return read_bytes(source.path)
        raise BadRecording(source.display, "blob was not read from git")

    def load(self, source: Source, data: bytes | None = None) -> Parsed | BadRecording:
        """The parsed source (from `data` when its bytes were already read), or what stopped it."""
        try:
            return parse_recording(self.data(source) if data is None else data, source.display)
        except BadRecording as exc:
            return exc


def _candidate(key: str, loaded: Parsed, volatility: Volatility) -> Candidate:
    side = prepare_side(loaded.raw, loaded.facts, volatility)
    return Candidate(key=key, test_id=loaded.facts.test_id, endpoint=loaded.facts.endpoint, request=side.request)


def _report(
    pair: Pair,
    old: Source | None,
    new: Source | None,
    loaded_old: Parsed | BadRecording | None,
    loaded_new: Parsed | BadRecording | None,
    volatility: Volatility,
) -> PairReport:
    ok_old = loaded_old if isinstance(loaded_old, Parsed) else None
    ok_new = loaded_new if isinstance(loaded_new, Parsed) else None
    either = ok_new or ok_old
    facts = either.facts if either is not None else None
    report = PairReport(
        old=old.display if old else None,
        new=new.display if new else None,
        test_id=facts.test_id if facts else None,
        endpoint=facts.endpoint if facts else None,
        status="unchanged",
        details=Details(paired_by=pair.how),
    )
    problems = [str(side) for side in (loaded_old, loaded_new) if isinstance(side, BadRecording)]
    if problems:
        report.status = "error"
        report.details.problem = "; ".join(problems)
        return report
    if ok_old is None:
        report.status = "added"
        return report
    if ok_new is None:
        report.status = "removed"
        return report
    if ok_old.raw == ok_new.raw:
        return report
    changes, details = compare((ok_old.raw, ok_old.facts), (ok_new.raw, ok_new.facts), volatility)
    details.paired_by = pair.how
    report.changes = changes
    report.details = details
    report.status = "changed" if changes else "unchanged"
    return report


# The upstream writer's layout (indent 2, key order test_id, request{method, ..., endpoint, ...}, response): the
# test id and the endpoint of an inference recording can be read without parsing the rest.
_UPSTREAM_HEAD = re.compile(rb'\A\{\n  "test_id": ("(?:[^"\\]|\\.)*"|null),\n  "request": \{\n    "method": ')
_REQUEST_ENDPOINT = re.compile(rb'\n    "endpoint": ("(?:[^"\\]|\\.)+"),?\n')


# Any upstream-layout file: the members of the request (indent 4) up to the response, each value a scalar or the
# opening of an object or a list.
_REQUEST_MEMBER = re.compile(
    rb'\n    "((?:[^"\\]|\\.)*)": ("(?:[^"\\]|\\.)*"|null|true|false|-?[0-9][0-9.eE+-]*|[\[{])'
)
_TOP_TEST_ID = re.compile(rb'\n  "test_id": ("(?:[^"\\]|\\.)*"|null)[,\n]')


def _sniff_layout(data: bytes, display: str) -> tuple[str | None, str | None] | None:
    """Test id and endpoint read off any file in the upstream layout (indent 2: a top-level key is the only thing
    on a line indented by two spaces): the request's own scalar members, whatever its kind, through the same
    `derive_facts`; None when the file does not look that way."""
    if not data.startswith(b'{\n  "'):
        return None
    response_at = data.find(b'\n  "response": {')
    request_at = data.find(b'\n  "request": {\n')
    if request_at < 0 or response_at < request_at:
        return None
    request: dict[str, Any] = {}
    try:
        for key, value in _REQUEST_MEMBER.findall(data, request_at, response_at):
            name = orjson.loads(b'"' + key + b'"')
            if name not in request:
                request[name] = {} if value == b"{" else [] if value == b"[" else orjson.loads(value)
        raw: dict[str, Any] = {"request": request, "response": {}}
        at = data.find(b'\n  "test_id": ')
        if at >= 0:
            test_id = _TOP_TEST_ID.match(data, at)
            if test_id is None:
                return None
            raw["test_id"] = orjson.loads(test_id.group(1))
    except orjson.JSONDecodeError:
        return None
    if any(not isinstance(request.get(key), str | None) for key in _FACT_FIELDS):
        return None
    facts = derive_facts(display, len(data), raw)
    return facts.test_id, facts.endpoint


# The request fields the test id and the endpoint are derived from.
_FACT_FIELDS = ("test_id", "endpoint", "url", "provider", "tool_name", "api")


def sniff(data: bytes, display: str) -> tuple[str | None, str | None]:
    """Test id and endpoint of a recording's bytes, for pairs skipped as identical: read off the upstream layout
    when it is there, from the parsed file otherwise; (None, None) for a file that is not a valid recording."""
    head = _UPSTREAM_HEAD.match(data)
    if head is not None:
        response_at = data.find(b'\n  "response": ')
        endpoint = _REQUEST_ENDPOINT.search(data, 0, response_at if response_at > 0 else len(data))
        if endpoint is not None:
            return orjson.loads(head.group(1)), orjson.loads(endpoint.group(1))
    found = _sniff_layout(data, display)
    if found is not None:
        return found
    try:
        parsed = parse_recording(data, display)
    except BadRecording:
        return None, None
    return parsed.facts.test_id, parsed.facts.endpoint


def _file_bytes(path: Path | str) -> bytes:
    """The bytes of a file, read with one system call when its size holds (no buffered file object: this runs
    for every file of both sides)."""
    handle = os.open(path, os.O_RDONLY)
    try:
        size = os.fstat(handle).st_size
        data = os.read(handle, size + 1)
        if len(data) != size:  # it changed size, or is not a regular file: read on to the end
            parts = [data]
            while part := os.read(handle, 1 << 20):
                parts.append(part)
            data = b"".join(parts)
        return data
    finally:
        os.close(handle)


def _both_bytes(a: Path | str, b: Path | str) -> tuple[bytes, bytes] | None:
    """The bytes of two files (None when either cannot be read: such a pair is loaded, and reported, the
    ordinary way)."""
    try:
        return _file_bytes(a), _file_bytes(b)
    except OSError:
        return None


# What a worker sends back for a pair: a report, or for a pair with identical bytes only its test id and
# endpoint (reports cost more to send than to build).
Outcome = PairReport | tuple[str | None, str | None]
Work = list[tuple[Source, Source]]


def _examine(a: Source, b: Source, loader: _Loader, volatility: Volatility, *, identify_unchanged: bool) -> Outcome:
    """One pair of the same path: identical bytes (the same blob id, or the same bytes read) are not parsed; the
    rest is loaded, from the bytes already read when there are any, and compared."""
    data_a = data_b = None
    same = a.fingerprint is not None and a.fingerprint == b.fingerprint
    if not same and a.fingerprint is None and b.fingerprint is None and a.path is not None and b.path is not None:
        both = _both_bytes(a.path, b.path)
        if both is not None:
            data_a, data_b = both
            same = data_a == data_b
    if same:
        if not identify_unchanged:
            return None, None
        try:
            return sniff(loader.data(b) if data_b is None else data_b, b.display)
        except BadRecording:
            return None, None
    return _report(Pair(a.key, b.key, "path"), a, b, loader.load(a, data_a), loader.load(b, data_b), volatility)


def _needs_bytes(a: Source, b: Source, *, identify_unchanged: bool) -> tuple[bool, bool]:
    """Whether a pair's old and new bytes will be read (identical blobs only for a sniff of the new one)."""
    if a.fingerprint is not None and a.fingerprint == b.fingerprint:
        return False, identify_unchanged and b.path is None
    return True, True


def _with_clean_copies(tree: Tree, keys: Iterable[str]) -> Tree:
    """A revision's sources, those of `keys` whose working-tree copy git considers unchanged and of the same blob
    given that file to read: identical blobs are read only to sniff their test id and endpoint, and a file
    costs less to read than a blob to inflate."""
    if tree.repo is None:
        return tree
    clean = clean_index_blobs(tree.repo)
    sources = dict(tree.sources)
    for key in keys:
        source = sources[key]
        if source.oid is not None and source.path is None and clean.get(key) == source.oid:
            sources[key] = dataclasses.replace(source, path=str(tree.repo.root / key))
    return Tree(label=tree.label, sources=sources, repo=tree.repo)


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """The cyclic garbage collector off meanwhile: parsed JSON and reports hold no cycles, and the collector
    would only rescan their millions of containers again and again."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _examine_batch(
    work: Work,
    repos: tuple[Repository | None, Repository | None],
    volatility: Volatility,
    identify_unchanged: bool,
) -> list[Outcome]:
    """Examine a batch of pairs (in a worker process, or in this one); the blobs of the batch are read through
    one `git cat-file` per side."""
    with _collector_paused():
        loader = _Loader()
        needs = [_needs_bytes(a, b, identify_unchanged=identify_unchanged) for a, b in work]
        loader.prefetch(repos[0], [a for (a, _), (old, _) in zip(work, needs, strict=True) if old])
        loader.prefetch(repos[1], [b for (_, b), (_, new) in zip(work, needs, strict=True) if new])
        return [_examine(a, b, loader, volatility, identify_unchanged=identify_unchanged) for a, b in work]


def _examine_all(
    work: Work,
    repos: tuple[Repository | None, Repository | None],
    volatility: Volatility,
    *,
    identify_unchanged: bool,
    jobs: int | None,
) -> list[Outcome]:
    """Every pair of the same path examined, in order; in `jobs` processes (this one and workers) when there is
    enough to do."""
    processes = jobs if jobs is not None else min(4, os.cpu_count() or 1)
    # Pairs known identical by their blob ids cost next to nothing (a sniff at most).
    known_same = sum(1 for a, b in work if a.fingerprint is not None and a.fingerprint == b.fingerprint)
    if processes <= 1 or len(work) - known_same + known_same // 20 < PARALLEL_THRESHOLD:
        return _examine_batch(work, repos, volatility, identify_unchanged)
    # Imported once here, so that forked workers do not each import them again: the assembly, and DeepDiff (a
    # diff this big nearly always has some projected structure that differs: usage, content, a request).
    import llm_fixtures.assembling  # noqa: F401

    deepdiff_class()

    # Pairs are taken in an interleaved order (each run of it spread over the whole tree, big and small files
    # mixed) in chunks that shrink as the work runs out, so that no process waits long for the last one. The
    # workers take chunks from the front, two at a time each (one running, one ready); this process, rather than
    # wait, takes them from the back, until they meet. With git, each chunk costs a `git cat-file` per side:
    # fewer, bigger chunks.
    count = len(work)
    order = [index for start in range(_STRIDE) for index in range(start, count, _STRIDE)]
    smallest = _SMALLEST_CHUNK if repos == (None, None) else max(_SMALLEST_CHUNK, count // (processes * 6))
    outcomes: list[Outcome] = [(None, None)] * count
    taken: list[tuple[list[int], Future[list[Outcome]]]] = []
    front, back = 0, count

    def chunk_size() -> int:
        return max(smallest, (back - front) // (4 * processes))

    with ProcessPoolExecutor(max_workers=processes - 1) as pool:
        while front < back:
            while front < back and sum(not future.done() for _, future in taken) < 2 * (processes - 1):
                chunk = order[front : min(back, front + chunk_size())]
                front += len(chunk)
                batch = [work[index] for index in chunk]
                taken.append((chunk, pool.submit(_examine_batch, batch, repos, volatility, identify_unchanged)))
            if front < back:
                chunk = order[max(front, back - chunk_size()) : back]
                back -= len(chunk)
                done = _examine_batch([work[index] for index in chunk], repos, volatility, identify_unchanged)
                for index, outcome in zip(chunk, done, strict=True):
                    outcomes[index] = outcome
        for chunk, future in taken:
            for index, outcome in zip(chunk, future.result(), strict=True):
                outcomes[index] = outcome
    return outcomes


def diff_trees(
    old: Tree, new: Tree, volatility: Volatility, *, identify_unchanged: bool = False, jobs: int | None = None
) -> DiffResult:
    """Pair the two sides and compare every pair. Pairs with identical bytes are not parsed at all; with
    `identify_unchanged` their test id and endpoint are read cheaply for the report. Many pairs are compared
    in `jobs` processes (default: up to 4, one per CPU)."""
    with _collector_paused():
        return _diff_trees(old, new, volatility, identify_unchanged=identify_unchanged, jobs=jobs)


def _diff_trees(
    old: Tree, new: Tree, volatility: Volatility, *, identify_unchanged: bool, jobs: int | None
) -> DiffResult:
    result = DiffResult(old_label=old.label, new_label=new.label)
    path_pairs, old_rest, new_rest = pair_by_path(old.sources, new.sources)
    loader = _Loader()
    loader.prefetch(old.repo, [old.sources[key] for key in old_rest])
    loader.prefetch(new.repo, [new.sources[key] for key in new_rest])
    loaded_old = {key: loader.load(old.sources[key]) for key in old_rest}
    loaded_new = {key: loader.load(new.sources[key]) for key in new_rest}
    candidates_old = [_candidate(k, v, volatility) for k, v in loaded_old.items() if isinstance(v, Parsed)]
    candidates_new = [_candidate(k, v, volatility) for k, v in loaded_new.items() if isinstance(v, Parsed)]
    pairing = pair_by_test(candidates_old, candidates_new)
    if identify_unchanged and new.repo is not None:
        same = [p.new or "" for p in path_pairs if new.sources[p.new or ""].oid == old.sources[p.old or ""].oid]
        if len(same) >= CLEAN_COPIES_THRESHOLD:
            new = _with_clean_copies(new, same)
    work = [(old.sources[pair.old or ""], new.sources[pair.new or ""]) for pair in path_pairs]
    outcomes = _examine_all(work, (old.repo, new.repo), volatility, identify_unchanged=identify_unchanged, jobs=jobs)
    reports: list[PairReport] = []
    for (a, b), outcome in zip(work, outcomes, strict=True):
        if isinstance(outcome, PairReport):
            reports.append(outcome)
            continue
        test_id, endpoint = outcome
        reports.append(
            PairReport(
                old=a.display,
                new=b.display,
                test_id=test_id,
                endpoint=endpoint,
                status="unchanged",
                details=Details(paired_by="path"),
            )
        )
    for pair in pairing.pairs:
        reports.append(
            _report(
                pair,
                old.sources[pair.old] if pair.old else None,
                new.sources[pair.new] if pair.new else None,
                loaded_old[pair.old] if pair.old else None,
                loaded_new[pair.new] if pair.new else None,
                volatility,
            )
        )
    for key, broken in [*loaded_old.items(), *loaded_new.items()]:
        if isinstance(broken, BadRecording):
            in_old = key in loaded_old and loaded_old[key] is broken
            source = old.sources[key] if in_old else new.sources[key]
            reports.append(
                PairReport(
                    old=source.display if in_old else None,
                    new=None if in_old else source.display,
                    status="error",
                    details=Details(problem=str(broken)),
                )
            )
    reports.sort(key=lambda r: (r.new or r.old or "", r.old or ""))
    result.reports = reports
    return result


def diff_from_arguments(
    paths: Sequence[Path], git: str | None, project: Project, cwd: Path, *, identify_unchanged: bool = False
) -> DiffResult:
    """Resolve the command line (two files, two folders, or `--git REV|A..B` with optional paths) and diff."""
    with _collector_paused():
        return _diff_arguments(paths, git, project, cwd, identify_unchanged=identify_unchanged)


def _diff_arguments(
    paths: Sequence[Path], git: str | None, project: Project, cwd: Path, *, identify_unchanged: bool
) -> DiffResult:
    volatility = volatility_of(project)
    if git is not None:
        old, new = git_sides(git, paths, project, cwd)
    else:
        if len(paths) != 2:
            raise UsageError("give two files or two folders to compare (OLD NEW), or --git REV [paths...]")
        a, b = paths
        for path in (a, b):
            if not path.exists() and not path.is_symlink():
                raise PathNotFound(path)
        if a.is_dir() != b.is_dir():
            raise UsageError(f"compare a file with a file or a folder with a folder: {a}, {b}")
        if a.is_dir():
            old, new = folder_tree(a, project, cwd), folder_tree(b, project, cwd)
        else:
            old, new = file_tree(a, cwd, "file"), file_tree(b, cwd, "file")
    return diff_trees(old, new, volatility, identify_unchanged=identify_unchanged)
