"""`fixtures prune`: find orphaned recordings, say why each is one, and remove them reversibly."""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from llm_fixtures.commands.common import JsonOpt, PathsArg, echo_json_lines, handle_errors, warn
from llm_fixtures.config import Project, load_project
from llm_fixtures.errors import BadRecording, UsageError

if TYPE_CHECKING:
    # Imported when the command runs: `import llm_fixtures.app` stays free of pydantic.
    from llm_fixtures.cassettes.evidence import CassetteUsage
    from llm_fixtures.cassettes.pruneplan import Tiers
    from llm_fixtures.facts import Facts
    from llm_fixtures.pruning import CollectedTests, PrunePlan, UsageEvidence


def _unreachable(facts: list[Facts], base: Path, include_shared: bool) -> dict[str, str]:
    """`path -> reason` for recordings whose name the recorder can never look up (`check`'s stale or
    mismatch); model lists are never judged by their name (replay globs them)."""
    from llm_fixtures.hashing import verify_name
    from llm_fixtures.store import parse_json, read_bytes

    found: dict[str, str] = {}
    for fact in facts:
        if fact.model_list or (not fact.test_id and not include_shared):
            continue
        try:
            raw = parse_json(read_bytes(base / fact.path), fact.path)
            if not isinstance(raw, dict):
                continue
            verdict = verify_name(fact.name, raw)
        except (BadRecording, RecursionError):
            continue
        if verdict.status in ("stale", "mismatch"):
            wanted = f" (replay looks for {verdict.expected_name[:12]}…)" if verdict.expected_name else ""
            found[fact.path] = f"unreachable: {verdict.status} name{wanted}"
    return found


def _plan(
    paths: list[Path] | None,
    project: Project,
    *,
    collect: bool,
    refresh: bool,
    unused_from: list[Path],
    unreachable: bool,
    include_shared: bool,
) -> tuple[PrunePlan, list[str], Tiers | None]:
    from llm_fixtures.catalog import load_catalog
    from llm_fixtures.pruning import CollectedTests, candidates_of, plan_prune
    from llm_fixtures.testindex import TestFiles

    base = Path.cwd()
    usage: UsageEvidence | None = None
    cassette_usage: CassetteUsage | None = None
    if unused_from:
        from llm_fixtures.cassettes.evidence import read_cassette_manifests, split_manifests
        from llm_fixtures.usage import read_manifests

        recording_manifests, cassette_manifests = split_manifests(unused_from)
        usage = read_manifests(recording_manifests, project.root) if recording_manifests else None
        cassette_usage = read_cassette_manifests(cassette_manifests, project.root) if cassette_manifests else None
    collected: CollectedTests | None = None
    if collect:
        from llm_fixtures.collecting import collect as run_collect
        from llm_fixtures.safepaths import confined

        settings = project.settings.prune
        where = f"{project.pyproject}: [tool.fixtures.prune] collect_cwd"
        cwd = confined(settings.collect_cwd, project.root, what=where) if settings.collect_cwd else project.root
        if not cwd.is_dir():
            raise UsageError(f"[tool.fixtures.prune] collect_cwd: {cwd} is not a folder")
        collection = run_collect(settings.collect, cwd, use_cache=not refresh)
        collected = CollectedTests.of(collection.ids)
    catalog = load_catalog(paths, project, base=base)
    test_files = TestFiles(project.root)
    candidates = candidates_of(
        catalog.facts, str(base), test_files.key_for, os.path.realpath if usage is not None else None
    )
    plan = plan_prune(
        candidates,
        test_files.indexes,
        collected=collected,
        usage=usage,
        unreachable=_unreachable(catalog.facts, base, include_shared) if unreachable else None,
        include_shared=include_shared,
    )
    tiers = None
    if catalog.cassettes.cassettes:
        from llm_fixtures.cassettes.pruneplan import add_to_plan

        cassettes = catalog.cassettes.cassettes
        tiers = add_to_plan(plan, cassettes, base, project.root, collected=collected, usage=cassette_usage)
    return plan, [str(problem) for problem in catalog.problems], tiers


def stdin_is_terminal() -> bool:
    """Whether a question can be asked (never block on a pipe)."""
    return sys.stdin.isatty()


def _next_command(
    paths: list[Path] | None, collect: bool, unused_from: list[Path], unreachable: bool, include_shared: bool
) -> str:
    """The same selection with `--delete`: what to run to act on the listing."""
    words = ["fixtures", "prune", *(str(path) for path in paths or [])]
    words += ["--collect"] if collect else []
    for manifest in unused_from:
        words += ["--unused-from", str(manifest)]
    words += ["--unreachable"] if unreachable else []
    words += ["--include-shared"] if include_shared else []
    return shlex.join([*words, "--delete"])


def run(
    paths: PathsArg = None,
    *,
    collect: Annotated[
        bool,
        typer.Option(
            "--collect",
            help="Also orphan tests that real `pytest --collect-only -q` runs no longer list (exact "
            "parametrized ids; the runs are `[tool.fixtures.prune] collect`, cached).",
        ),
    ] = False,
    refresh: Annotated[bool, typer.Option("--refresh", help="Run the collection even when it is cached.")] = False,
    unused_from: Annotated[
        list[Path] | None,
        typer.Option(
            "--unused-from",
            metavar="MANIFEST",
            help="Also orphan recordings of tests that passed without reading them, from the manifest of a "
            "replay run with `pytest -p llm_fixtures.usage` (repeatable); for VCR cassettes, with `pytest -p "
            "llm_fixtures.cassettes.usage` (cassettes a passing test never loaded; unplayed interactions noted).",
        ),
    ] = None,
    unreachable: Annotated[
        bool, typer.Option("--unreachable", help="Also orphan files whose name replay can never look up.")
    ] = False,
    include_shared: Annotated[
        bool,
        typer.Option(
            "--include-shared",
            help="Let --unused-from (in folders the run read from) and --unreachable judge recordings without "
            "a test id too.",
        ),
    ] = False,
    delete: Annotated[
        bool, typer.Option("--delete", help="Remove the orphans (reversibly; asks first in a terminal).")
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask before --delete.")] = False,
    check: Annotated[bool, typer.Option("--check", help="Exit 1 when there are orphans (for CI).")] = False,
    restore: Annotated[
        bool, typer.Option("--restore", help="Put back the recordings the last --delete removed.")
    ] = False,
    json: JsonOpt = False,
) -> None:
    """Find orphaned recordings: their test file, function or class is gone (static, from the syntax tree;
    always), and with the flags also tests no longer collected, superseded files and unreachable names.

    Lists by default. Exit 1 with --check when there are orphans, and whenever a recording could not be read
    (it is reported and left alone); 2 on failure. --delete removes the orphans reversibly: a file git can
    restore is deleted, any other goes to a trash folder; --restore puts the last batch back.
    """
    with handle_errors():
        project = load_project()
        if restore:
            from llm_fixtures.trashing import restore_last

            restored = restore_last(project.root)
            if json:
                echo_json_lines({"path": str(path)} for path in restored)
            else:
                from llm_fixtures.render.prune import render_restored

                render_restored(restored, Path.cwd())
            return
        if include_shared and not (unused_from or unreachable):
            warn("note: --include-shared matters only with --unused-from or --unreachable (no test to look at)")
        if delete and not yes and not stdin_is_terminal():
            raise UsageError("--delete asks first, and there is no terminal to ask in: add --yes")
        plan, problems, tiers = _plan(
            paths,
            project,
            collect=collect,
            refresh=refresh,
            unused_from=unused_from or [],
            unreachable=unreachable,
            include_shared=include_shared,
        )
        from llm_fixtures.render.prune import render_left_alone, render_plan, render_removed

        if json:
            echo_json_lines(plan.orphans)
        else:
            hint = _next_command(paths, collect, unused_from or [], unreachable, include_shared)
            render_plan(plan, next_command=None if delete else hint)
        render_left_alone(plan, problems)
        if tiers is not None:
            from llm_fixtures.render.cassettes import render_tiers

            render_tiers(tiers)
        if delete and plan.orphans:
            if not yes and not typer.confirm(
                f"Remove {len(plan.orphans)} orphaned recording(s)?", default=False, err=True
            ):
                warn("nothing deleted")
            else:
                from llm_fixtures.trashing import refusals, remove_reversibly

                targets = [Path.cwd() / orphan.path for orphan in plan.orphans]
                refused = refusals(targets, project.root)
                for path, reason in refused.items():
                    warn(f"not removed: {path}: {reason}")
                batch = remove_reversibly([path for path in targets if path not in refused], project.root)
                render_removed(batch)
                problems += [f"{path}: {reason}" for path, reason in refused.items()]
        if (check and plan.orphans) or problems:
            raise typer.Exit(1)
