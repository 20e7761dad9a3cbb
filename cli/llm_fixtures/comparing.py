"""The shell of `fixtures diff`: gather both sides (files, folders, git revisions), skip identical bytes, load,
pair and hand each pair to the pure diff."""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from llm_fixtures.config import Project
from llm_fixtures.diffing import Details, PairReport, compare, prepare_side
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


@dataclass(frozen=True, slots=True)
class Source:
    """Where one side of a recording lives: a file on disk or a git blob. `fingerprint` is the git blob id of
    its bytes (computed for files) so identical content is recognised without parsing."""

    key: str
    display: str
    fingerprint: str | None = None
    path: Path | None = None
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
    settings = project.settings
    return build_volatility([*settings.volatile, *settings.diff.volatile])


def _shown(path: Path, cwd: Path) -> str:
    """A path as shown: relative to the current folder when under it, else absolute (string operations only:
    this runs for every file of both sides)."""
    text, base = os.path.abspath(path), str(cwd)  # noqa: PTH100 (a string is what we want, fast)
    if text.startswith(base + os.sep):
        return text[len(base) + 1 :]
    return text


def _file_fingerprint(path: Path, object_format: str = "sha1") -> str | None:
    try:
        return blob_id(path.read_bytes(), object_format)
    except OSError:
        return None


def folder_tree(root: Path, project: Project, cwd: Path) -> Tree:
    """Every recording file under a folder, keyed by its path inside the folder."""
    selection = select_files([root], project)
    tree = Tree(label=_shown(root, cwd) if root.is_absolute() else str(root))
    for path in selection.files:
        key = path.relative_to(root).as_posix()
        # No fingerprint: two folders are compared file against file, bytes only when the sizes agree.
        tree.sources[key] = Source(key, _shown(path.absolute(), cwd), None, path=path)
    return tree


def file_tree(path: Path, cwd: Path, key: str) -> Tree:
    """A single file as a one-entry side (two files are compared whatever their names)."""
    if not path.exists() and not path.is_symlink():
        raise PathNotFound(path)
    shown = _shown(path.absolute(), cwd)
    return Tree(label=shown, sources={key: Source(key, shown, None, path=path)})


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


def _repo_key(repo: Repository, path: Path) -> str | None:
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
    for path in selection.files:
        absolute = path.absolute()
        key = _repo_key(repo, path)
        if key is None:
            continue
        fingerprint = known.get(key) or _file_fingerprint(path, repo.object_format)
        tree.sources[key] = Source(key, _shown(absolute, cwd), fingerprint, path=path)
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
    for path, spec_path in zip(paths, pathspecs, strict=True):
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
        if source.oid is not None:
            if source.oid not in self._blobs:
                raise BadRecording(source.display, "blob was not read from git")
            return self._blobs[source.oid]
        assert source.path is not None
        return read_bytes(source.path)

    def load(self, source: Source) -> Parsed | BadRecording:
        try:
            return parse_recording(self.data(source), source.display)
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


Work = list[tuple[Pair, Source, Source]]


def _compare_batch(
    work: Work, repos: tuple[Repository | None, Repository | None], volatility: Volatility
) -> list[PairReport]:
    """Load and compare a batch of pairs (in a worker process, or in this one); blobs of the batch are read
    through one `git cat-file` per side."""
    loader = _Loader()
    loader.prefetch(repos[0], [a for _, a, _ in work])
    loader.prefetch(repos[1], [b for _, _, b in work])
    return [_report(pair, a, b, loader.load(a), loader.load(b), volatility) for pair, a, b in work]


def _compare_all(
    work: Work, repos: tuple[Repository | None, Repository | None], volatility: Volatility, *, jobs: int | None
) -> list[PairReport]:
    workers = jobs if jobs is not None else min(4, os.cpu_count() or 1)
    if workers <= 1 or len(work) < PARALLEL_THRESHOLD:
        return _compare_batch(work, repos, volatility)
    # Interleaved batches spread big and small files evenly; two per worker, each reading its blobs in one git call.
    # Imported once here, so that forked workers do not each import it again.
    import llm_fixtures.assembling  # noqa: F401

    count = workers * 2
    batches = [work[index::count] for index in range(count)]
    reports: list[PairReport] = []
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for part in pool.map(_compare_batch, batches, [repos] * count, [volatility] * count):
            reports.extend(part)
    return reports


# The upstream writer's layout (indent 2, key order test_id, request{method, ..., endpoint, ...}, response): the
# test id and the endpoint of an inference recording can be read without parsing the rest.
_UPSTREAM_HEAD = re.compile(rb'\A\{\n  "test_id": ("(?:[^"\\]|\\.)*"|null),\n  "request": \{\n    "method": ')
_REQUEST_ENDPOINT = re.compile(rb'\n    "endpoint": ("(?:[^"\\]|\\.)+"),?\n')


def sniff(data: bytes, display: str) -> tuple[str | None, str | None]:
    """Test id and endpoint of a recording's bytes, for pairs skipped as identical: read off the upstream layout
    when it is there, from the parsed file otherwise; (None, None) for a file that is not a valid recording."""
    head = _UPSTREAM_HEAD.match(data)
    if head is not None:
        response_at = data.find(b'\n  "response": ')
        endpoint = _REQUEST_ENDPOINT.search(data, 0, response_at if response_at > 0 else len(data))
        if endpoint is not None:
            return orjson.loads(head.group(1)), orjson.loads(endpoint.group(1))
    try:
        parsed = parse_recording(data, display)
    except BadRecording:
        return None, None
    return parsed.facts.test_id, parsed.facts.endpoint


def _same_files(a: Source, b: Source) -> bool:
    """Two files on disk (neither fingerprinted) with the same bytes: sizes first, then the contents."""
    if a.fingerprint is not None or b.fingerprint is not None or a.path is None or b.path is None:
        return False
    try:
        return a.path.stat().st_size == b.path.stat().st_size and a.path.read_bytes() == b.path.read_bytes()
    except OSError:
        return False


def diff_trees(
    old: Tree, new: Tree, volatility: Volatility, *, identify_unchanged: bool = False, jobs: int | None = None
) -> DiffResult:
    """Pair the two sides and compare every pair. Pairs with identical bytes are not parsed at all; with
    `identify_unchanged` their test id and endpoint are read cheaply for the report. Many pairs are compared
    in `jobs` processes (default: up to 4, one per CPU)."""
    result = DiffResult(old_label=old.label, new_label=new.label)
    path_pairs, old_rest, new_rest = pair_by_path(old.sources, new.sources)
    same: list[Pair] = []
    to_compare: list[Pair] = []
    for pair in path_pairs:
        a, b = old.sources[pair.old or ""], new.sources[pair.new or ""]
        if (a.fingerprint is not None and a.fingerprint == b.fingerprint) or _same_files(a, b):
            same.append(pair)
        else:
            to_compare.append(pair)
    loader = _Loader()
    loader.prefetch(old.repo, [old.sources[key] for key in old_rest])
    loader.prefetch(new.repo, [new.sources[key] for key in new_rest])
    loaded_old = {key: loader.load(old.sources[key]) for key in old_rest}
    loaded_new = {key: loader.load(new.sources[key]) for key in new_rest}
    candidates_old = [_candidate(k, v, volatility) for k, v in loaded_old.items() if isinstance(v, Parsed)]
    candidates_new = [_candidate(k, v, volatility) for k, v in loaded_new.items() if isinstance(v, Parsed)]
    pairing = pair_by_test(candidates_old, candidates_new)
    work = [(pair, old.sources[pair.old or ""], new.sources[pair.new or ""]) for pair in to_compare]
    reports = _compare_all(work, (old.repo, new.repo), volatility, jobs=jobs)
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
    if identify_unchanged:
        loader.prefetch(new.repo, [new.sources[p.new or ""] for p in same])
    for pair in same:
        a, b = old.sources[pair.old or ""], new.sources[pair.new or ""]
        test_id = endpoint = None
        if identify_unchanged:
            with contextlib.suppress(BadRecording):
                test_id, endpoint = sniff(loader.data(b), b.display)
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
    reports.sort(key=lambda r: (r.new or r.old or "", r.old or ""))
    result.reports = reports
    return result


def diff_from_arguments(
    paths: Sequence[Path], git: str | None, project: Project, cwd: Path, *, identify_unchanged: bool = False
) -> DiffResult:
    """Resolve the command line (two files, two folders, or `--git REV|A..B` with optional paths) and diff."""
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
