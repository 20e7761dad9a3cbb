"""Running `fixtures diff`: pair the sides' sources, skip identical bytes, compare the rest (in worker processes
when there are many) and collect one report per pair."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from llm_fixtures.config import Project
from llm_fixtures.diffing.comparing import compare, content_fingerprint, prepare_side, request_fingerprint
from llm_fixtures.diffing.gitreading import Repository, clean_index_blobs
from llm_fixtures.diffing.loading import Loader, Parsed, both_bytes, sniff
from llm_fixtures.diffing.pairing import Candidate, Pair, pair_by_path, pair_by_test
from llm_fixtures.diffing.report import Details, PairReport
from llm_fixtures.diffing.sides import Source, Tree, file_tree, folder_tree, git_sides, volatility_of
from llm_fixtures.diffing.volatility import Volatility
from llm_fixtures.errors import BadRecording, PathNotFound, UsageError
from llm_fixtures.pooling import collector_paused, worker_count

# Below this many pairs to compare, worker processes cost more than they save.
PARALLEL_THRESHOLD = 40
# From this many identical blobs on, their working-tree copies are looked up (two git calls) to be read instead.
CLEAN_COPIES_THRESHOLD = 100
# Pairs shared out in chunks of at least this many, taken in an order that visits every _STRIDE-th pair first.
_SMALLEST_CHUNK = 16
_STRIDE = 64
NESTED_TOO_DEEPLY = "nested too deeply to compare"


@dataclass(frozen=True, slots=True)
class Terms:
    """What every pair is compared under: the volatile fields, and whether file names are the recordings' own
    (then whether replay still finds the new file is checked)."""

    volatility: Volatility
    check_names: bool = True


@dataclass(slots=True)
class DiffResult:
    """Every pair, sorted by path, and the labels of the two sides."""

    old_label: str
    new_label: str
    reports: list[PairReport] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # JSON files that are not recordings, left out (sides.py)


def _candidates(loaded: dict[str, Parsed | BadRecording], volatility: Volatility) -> list[Candidate]:
    """The recordings left after pairing by path, ready to pair otherwise; one nested too deeply to prepare
    becomes a broken one in `loaded`."""
    found: list[Candidate] = []
    for key, parsed in loaded.items():
        if not isinstance(parsed, Parsed):
            continue
        try:
            side = prepare_side(parsed.raw, parsed.facts, volatility)
            fingerprint, request_print = content_fingerprint(side), request_fingerprint(side)
        except RecursionError:
            loaded[key] = BadRecording(parsed.facts.path, NESTED_TOO_DEEPLY)
            continue
        facts = parsed.facts
        found.append(Candidate(key, facts.test_id, facts.endpoint, side.request, fingerprint, request_print))
    return found


def _report(
    pair: Pair,
    old: Source | None,
    new: Source | None,
    loaded_old: Parsed | BadRecording | None,
    loaded_new: Parsed | BadRecording | None,
    terms: Terms,
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
        paired_by=pair.how,
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
    if pair.how == "path" and ok_old.raw == ok_new.raw:
        return report
    try:
        changes, details = compare(
            (ok_old.raw, ok_old.facts),
            (ok_new.raw, ok_new.facts),
            terms.volatility,
            paired_by=pair.how or "path",
            check_names=terms.check_names,
        )
    except RecursionError:
        report.status = "error"
        report.details.problem = f"{report.new}: {NESTED_TOO_DEEPLY}"
        return report
    report.changes = changes
    report.details = details
    if pair.how == "moved":
        report.status = "moved"
    elif changes:
        report.status = "changed"
    return report


# What examining a pair gives: a report, or for a pair with identical bytes only its test id and endpoint (reports
# cost more to send back from a worker than to build).
Examined = PairReport | tuple[str | None, str | None]
Work = list[tuple[Source, Source]]


def _examine(a: Source, b: Source, loader: Loader, terms: Terms, *, identify_unchanged: bool) -> Examined:
    """One pair of the same path: identical bytes (the same blob id, or the same bytes read) are not parsed; the
    rest is loaded, from the bytes already read when there are any, and compared."""
    data_a = data_b = None
    same = a.fingerprint is not None and a.fingerprint == b.fingerprint
    if not same and a.fingerprint is None and b.fingerprint is None and a.path is not None and b.path is not None:
        both = both_bytes(a.path, b.path)
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
    return _report(Pair(a.key, b.key, "path"), a, b, loader.load(a, data_a), loader.load(b, data_b), terms)


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
    return dataclasses.replace(tree, sources=sources)


def _examine_batch(
    work: Work,
    repos: tuple[Repository | None, Repository | None],
    terms: Terms,
    identify_unchanged: bool,
) -> list[Examined]:
    """Examine a batch of pairs (in a worker process, or in this one); the blobs of the batch are read through
    one `git cat-file` per side."""
    with collector_paused():
        loader = Loader()
        needs = [_needs_bytes(a, b, identify_unchanged=identify_unchanged) for a, b in work]
        loader.prefetch(repos[0], [a for (a, _), (old, _) in zip(work, needs, strict=True) if old])
        loader.prefetch(repos[1], [b for (_, b), (_, new) in zip(work, needs, strict=True) if new])
        return [_examine(a, b, loader, terms, identify_unchanged=identify_unchanged) for a, b in work]


def _examine_all(
    work: Work,
    repos: tuple[Repository | None, Repository | None],
    terms: Terms,
    *,
    identify_unchanged: bool,
    jobs: int | None,
) -> list[Examined]:
    """Every pair of the same path examined, in order; in `jobs` processes (this one and workers) when there is
    enough to do."""
    processes = worker_count(jobs)
    # Pairs known identical by their blob ids cost next to nothing (a sniff at most).
    known_same = sum(1 for a, b in work if a.fingerprint is not None and a.fingerprint == b.fingerprint)
    if processes <= 1 or len(work) - known_same + known_same // 20 < PARALLEL_THRESHOLD:
        return _examine_batch(work, repos, terms, identify_unchanged)
    # Imported once here, so that forked workers do not each import them again: the assembly, and the file names'
    # rules (a diff this big nearly always has a pair whose answer or request differs).
    import llm_fixtures.assembling.final
    import llm_fixtures.hashing  # noqa: F401

    # Pairs are taken in an interleaved order (each run of it spread over the whole tree, big and small files
    # mixed) in chunks that shrink as the work runs out, so that no process waits long for the last one. The
    # workers take chunks from the front, two at a time each (one running, one ready); this process, rather than
    # wait, takes them from the back, until they meet. With git, each chunk costs a `git cat-file` per side, and
    # each of those about 10 ms of git's start-up and cold caches: two chunks per process (2,977 pairs of the
    # OGX rename: 12 calls rather than 26, a third less CPU in git).
    count = len(work)
    order = [index for start in range(_STRIDE) for index in range(start, count, _STRIDE)]
    smallest = _SMALLEST_CHUNK if repos == (None, None) else max(_SMALLEST_CHUNK, count // (processes * 2))
    examined: list[Examined] = [(None, None)] * count
    taken: list[tuple[list[int], Future[list[Examined]]]] = []
    front, back = 0, count

    def chunk_size() -> int:
        return max(smallest, (back - front) // (4 * processes))

    with ProcessPoolExecutor(max_workers=processes - 1) as pool:
        while front < back:
            while front < back and sum(not future.done() for _, future in taken) < 2 * (processes - 1):
                chunk = order[front : min(back, front + chunk_size())]
                front += len(chunk)
                batch = [work[index] for index in chunk]
                taken.append((chunk, pool.submit(_examine_batch, batch, repos, terms, identify_unchanged)))
            if front < back:
                chunk = order[max(front, back - chunk_size()) : back]
                back -= len(chunk)
                done = _examine_batch([work[index] for index in chunk], repos, terms, identify_unchanged)
                for index, done_ in zip(chunk, done, strict=True):
                    examined[index] = done_
        for chunk, future in taken:
            for index, done_ in zip(chunk, future.result(), strict=True):
                examined[index] = done_
    return examined


def diff_trees(
    old: Tree, new: Tree, volatility: Volatility, *, identify_unchanged: bool = False, jobs: int | None = None
) -> DiffResult:
    """Pair the two sides and compare every pair. Pairs with identical bytes are not parsed at all; with
    `identify_unchanged` their test id and endpoint are read cheaply for the report. Many pairs are compared
    in `jobs` processes (default: up to 4, one per CPU)."""
    with collector_paused():
        return _diff_trees(old, new, volatility, identify_unchanged=identify_unchanged, jobs=jobs)


def _diff_trees(
    old: Tree, new: Tree, volatility: Volatility, *, identify_unchanged: bool, jobs: int | None
) -> DiffResult:
    terms = Terms(volatility, check_names=old.named and new.named)
    result = DiffResult(old_label=old.label, new_label=new.label, skipped=sorted({*old.skipped, *new.skipped}))
    cassette_reports: list[PairReport] = []
    old_cassettes, new_cassettes = _cassettes(old.sources), _cassettes(new.sources)
    if old_cassettes or new_cassettes:
        from llm_fixtures.cassettes.differ import diff_cassettes

        cassette_reports = diff_cassettes(old_cassettes, new_cassettes, (old.repo, new.repo), volatility)
        old = dataclasses.replace(old, sources={k: s for k, s in old.sources.items() if k not in old_cassettes})
        new = dataclasses.replace(new, sources={k: s for k, s in new.sources.items() if k not in new_cassettes})
    path_pairs, old_rest, new_rest = pair_by_path(old.sources, new.sources)
    loader = Loader()
    loader.prefetch(old.repo, [old.sources[key] for key in old_rest])
    loader.prefetch(new.repo, [new.sources[key] for key in new_rest])
    loaded_old = {key: loader.load(old.sources[key]) for key in old_rest}
    loaded_new = {key: loader.load(new.sources[key]) for key in new_rest}
    pairing = pair_by_test(_candidates(loaded_old, volatility), _candidates(loaded_new, volatility))
    if identify_unchanged and new.repo is not None:
        same = [p.new or "" for p in path_pairs if new.sources[p.new or ""].oid == old.sources[p.old or ""].oid]
        if len(same) >= CLEAN_COPIES_THRESHOLD:
            new = _with_clean_copies(new, same)
    work = [(old.sources[pair.old or ""], new.sources[pair.new or ""]) for pair in path_pairs]
    examined = _examine_all(work, (old.repo, new.repo), terms, identify_unchanged=identify_unchanged, jobs=jobs)
    reports: list[PairReport] = []
    for (a, b), done in zip(work, examined, strict=True):
        if isinstance(done, PairReport):
            reports.append(done)
            continue
        test_id, endpoint = done
        reports.append(
            PairReport(
                old=a.display,
                new=b.display,
                test_id=test_id,
                endpoint=endpoint,
                status="unchanged",
                paired_by="path",
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
                terms,
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
    reports.extend(cassette_reports)
    reports.sort(key=lambda r: (r.new or r.old or "", r.old or ""))
    result.reports = reports
    return result


def _cassettes(sources: dict[str, Source]) -> dict[str, Source]:
    """The VCR cassettes among the sources, by their names (compared interaction by interaction, see
    `cassettes.differ`). The key names the file (a backup's copy is `<n>.bak`); two files compared whatever their
    names have the key `file`, and their path says."""
    from llm_fixtures.discovery import is_cassette_name

    # A JSON file is a cassette by its folder alone: asked once per folder (this runs for every file of both sides).
    by_folder: dict[str, bool] = {}

    def named(name: str) -> bool:
        if not name.endswith(".json"):
            return is_cassette_name(name)
        folder = name.rpartition(os.sep)[0]
        found = by_folder.get(folder)
        if found is None:
            found = by_folder[folder] = is_cassette_name(name)
        return found

    return {
        key: source
        for key, source in sources.items()
        if named(key) or (source.path is not None and named(str(source.path)))
    }


def diff_from_arguments(
    paths: Sequence[Path], git: str | None, project: Project, cwd: Path, *, identify_unchanged: bool = False
) -> DiffResult:
    """Resolve the command line (two files, two folders, or `--git REV|A..B` with optional paths) and diff."""
    with collector_paused():
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
