"""`fixtures ls`: list recordings and cassettes, filtered, sorted or grouped, as a table or JSON Lines."""

from __future__ import annotations

from typing import Annotated, Any, cast

import typer

from llm_fixtures.cassettes.cataloging import CassetteCatalog, select_cassettes, select_interactions
from llm_fixtures.catalog import load_catalog
from llm_fixtures.commands.check import note_skipped
from llm_fixtures.commands.common import (
    EndpointOpt,
    ErrorsOpt,
    JsonOpt,
    KindOpt,
    ModelOpt,
    PathsArg,
    ProviderOpt,
    StreamOpt,
    TestOpt,
    echo_json_lines,
    handle_errors,
    make_filters,
    report_problems,
)
from llm_fixtures.config import load_project
from llm_fixtures.filtering import Filters, GroupKey, SortKey, group, select, sort_facts


def run(
    paths: PathsArg = None,
    *,
    test: TestOpt = None,
    endpoint: EndpointOpt = None,
    model: ModelOpt = None,
    provider: ProviderOpt = None,
    kind: KindOpt = None,
    stream: StreamOpt = None,
    errors: ErrorsOpt = False,
    sort: Annotated[SortKey, typer.Option("--sort", help="Order of the rows.")] = SortKey.path,
    reverse: Annotated[bool, typer.Option("--reverse", help="Reverse the order.")] = False,
    limit: Annotated[int | None, typer.Option("--limit", min=0, help="Show at most this many rows.")] = None,
    group_by: Annotated[
        GroupKey | None,
        typer.Option("--group-by", help="Count recordings (cassettes, interactions) and bytes per value instead."),
    ] = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Read every file, ignoring the facts cache.")] = False,
    interactions: Annotated[
        bool, typer.Option("--interactions", help="VCR cassettes: one row per interaction instead of per cassette.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """List recordings: hash, test, endpoint, model, stream and chunks, size; and VCR cassettes: format,
    interactions, endpoint, model, provider, stream.

    Unreadable files are reported on stderr (`path: what is wrong`) and the rest are listed; exit 1 when any
    file was bad, 2 when a given path does not exist.
    """
    with handle_errors():
        filters = make_filters(test, endpoint, model, provider, kind, stream, errors)
        catalog = load_catalog(paths, load_project(), use_cache=not no_cache)
        rows = sort_facts(select(catalog.facts, filters), sort, reverse=reverse)
        cassettes = catalog.cassettes
        if interactions:
            rows = []
        recordings = bool(rows) or not cassettes.cassettes  # an empty project still gets its (empty) table
        if group_by is not None:
            if recordings:
                groups = group(rows, group_by)[:limit] if limit is not None else group(rows, group_by)
                if as_json:
                    echo_json_lines(groups)
                else:
                    from llm_fixtures.render.ls import render_groups

                    render_groups(groups, group_by.value)
            if cassettes.cassettes:
                _group_cassettes(cassettes, filters, group_by, limit=limit, interactions=interactions, as_json=as_json)
        else:
            if recordings:
                rows = rows[:limit] if limit is not None else rows
                if as_json:
                    echo_json_lines(rows)
                else:
                    from llm_fixtures.render.ls import render_table

                    render_table(rows, total=len(catalog.facts))
            if cassettes.cassettes:
                _list_cassettes(
                    cassettes, filters, sort, reverse=reverse, limit=limit, interactions=interactions, as_json=as_json
                )
        note_skipped([str(path) for path in catalog.skipped])
        bad = report_problems(catalog.problems)
    if bad:
        raise typer.Exit(1)


def _list_cassettes(
    catalog: CassetteCatalog,
    filters: Filters,
    sort: SortKey,
    *,
    reverse: bool,
    limit: int | None,
    interactions: bool,
    as_json: bool,
) -> None:
    if interactions:
        rows = sort_facts(cast(Any, select_interactions(catalog, filters)), sort, reverse=reverse)[:limit]
        if as_json:
            echo_json_lines(rows)
        else:
            from llm_fixtures.render.cassettes import render_interactions

            render_interactions(cast(Any, rows), total=len(catalog.interactions))
        return
    cassettes = sort_facts(cast(Any, select_cassettes(catalog, filters)), sort, reverse=reverse)[:limit]
    if as_json:
        echo_json_lines(cassettes)
    else:
        from llm_fixtures.render.cassettes import render_cassettes

        render_cassettes(cast(Any, cassettes), total=len(catalog.cassettes))


def _group_cassettes(
    catalog: CassetteCatalog, filters: Filters, key: GroupKey, *, limit: int | None, interactions: bool, as_json: bool
) -> None:
    from llm_fixtures.cassettes.cataloging import group_cassettes

    groups = group_cassettes(catalog, filters, key, interactions=interactions)[:limit]
    if as_json:
        echo_json_lines(groups)
    else:
        from llm_fixtures.render.ls import render_groups

        render_groups(groups, key.value, groups[0].of if groups else "cassettes")
