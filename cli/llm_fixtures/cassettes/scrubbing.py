"""The cassette scrubber behind `fixtures normalize`: secrets masked (or credential headers dropped) by targeted edits
of the file's own text, so that every byte it does not mean to change stays as it was.

Re-serializing a cassette would rewrite every line (PyYAML's dumper differs from vcrpy's, pydantic-ai's and from
hand edits in quoting, folding and key order), so the scrubber never dumps. It replaces each secret where it stands
verbatim in the text (keys and tokens hold no character YAML or JSON escapes, and the dumpers only fold long
scalars at spaces), and deletes a dropped header's lines. Then it proves the edit: the new text must parse to the
old data with exactly those values replaced (and those headers gone). A file whose secret is not verbatim in its
text (escaped, split, or inside a compressed body) is refused with the reason, never half-scrubbed.
"""

from __future__ import annotations

import gzip
import os
from dataclasses import dataclass, field
from typing import Any

import yaml

from llm_fixtures.cassettes.leaks import MASK, NO_ALLOWLIST, Leak, TextLines, find_leaks, header_leaks
from llm_fixtures.cassettes.loading import GZIP_MAGIC, CassetteLoader, inflate, load_document
from llm_fixtures.cassettes.reading import cassette_of
from llm_fixtures.checking.secrets import Allowlist
from llm_fixtures.errors import BadRecording

__all__ = ["MASK", "Scrub", "describe_scrub", "scrub", "scrub_files"]


@dataclass(slots=True)
class Scrub:
    """What scrubbing a cassette would do: `after` is the new file (None when nothing changes or it was refused);
    `masked` the leaks replaced, `dropped` the headers removed (`interaction/side/name`), `refused` why the file
    cannot be scrubbed in place, `left` the leaks that stay (inside compressed bodies)."""

    path: str
    after: bytes | None = None
    masked: list[Leak] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    left: list[Leak] = field(default_factory=list)
    refused: str | None = None

    @property
    def changed(self) -> bool:
        return self.after is not None


def _replace_all(value: Any, replacements: list[tuple[str, str]]) -> Any:
    """`value` with every replacement applied to every string in it (keys included)."""
    if isinstance(value, str):
        for old, new in replacements:
            if old in value:
                value = value.replace(old, new)
        return value
    if isinstance(value, dict):
        return {_replace_all(key, replacements): _replace_all(item, replacements) for key, item in value.items()}
    if isinstance(value, list):
        return [_replace_all(item, replacements) for item in value]
    return value


def _header_spans(
    text: str, wanted: set[tuple[int, str, str]]
) -> tuple[list[tuple[int, int]], list[tuple[int, str, str]]]:
    """Text spans (whole lines) of the block-style header entries `wanted` ((interaction, side, lower-case name)),
    and (interaction, side, name as stored) of each; a header in flow style, or the last of its mapping, is not
    dropped (its line cannot go alone)."""
    root = yaml.compose(text, Loader=CassetteLoader)
    spans: list[tuple[int, int]] = []
    where: list[tuple[int, str, str]] = []
    interactions = _get(root, "interactions")
    if not isinstance(interactions, yaml.SequenceNode):
        return spans, where
    for index, item in enumerate(interactions.value):
        for side in ("request", "response"):
            headers = _get(_get(item, side), "headers")
            if not isinstance(headers, yaml.MappingNode) or headers.flow_style:
                continue
            doomed = [(key, value) for key, value in headers.value if (index, side, str(key.value).lower()) in wanted]
            if not doomed or len(doomed) == len(headers.value):
                continue
            for key, value in doomed:
                start = text.rfind("\n", 0, key.start_mark.index) + 1
                end = value.end_mark.index
                end = len(text) if end >= len(text) else text.rfind("\n", 0, end) + 1
                if end <= start:
                    continue
                spans.append((start, end))
                where.append((index, side, str(key.value)))
    return spans, where


def _get(node: yaml.Node | None, key: str) -> yaml.Node | None:
    if not isinstance(node, yaml.MappingNode):
        return None
    for name, value in node.value:
        if isinstance(name, yaml.ScalarNode) and name.value == key:
            return value  # type: ignore[no-any-return]
    return None


def _drop_from(tree: Any, where: list[tuple[int, str, str]]) -> Any:
    for index, side, name in where:
        headers = tree["interactions"][index][side]["headers"]
        del headers[name]
    return tree


def scrub(data: bytes, path: str, allowlist: Allowlist = NO_ALLOWLIST, *, drop: frozenset[str] = frozenset()) -> Scrub:
    """The scrub of one cassette's bytes: every secret `find_leaks` reports replaced by MASK; the headers named in
    `drop` (lower case) removed outright in YAML cassettes. BadRecording when the file does not read."""
    gzipped = data.startswith(GZIP_MAGIC)
    plain = inflate(data, path) if gzipped else data
    tree, _gz, serializer = load_document(plain, path)
    cassette = cassette_of(tree, path, serializer=serializer)
    leaks = find_leaks(cassette, plain, allowlist)
    result = Scrub(path=path)
    try:
        text = plain.decode("utf-8")
    except UnicodeDecodeError:
        result.refused = "not UTF-8 text; cannot be edited in place"
        return result
    spans: list[tuple[int, int]] = []
    dropped: list[tuple[int, str, str]] = []
    # Every header to drop, in every interaction (find_leaks reports a value once; a cookie resent in each
    # request is in each request's headers).
    lines = TextLines(plain)
    wanted = {
        (item.index, side, leak.header or "")
        for item in cassette.interactions
        for side, headers in (("request", item.request.headers), ("response", item.response.headers))
        for leak in header_leaks(item.index, side, headers, lines)
        if leak.header in drop and not allowlist.allows(leak.secret)
    }
    if wanted and serializer == "yaml":
        spans, dropped = _header_spans(text, wanted)
    removed = {(index, f"{side} header {name.lower()}") for index, side, name in dropped}
    edited = text
    for start, end in sorted(spans, reverse=True):
        edited = edited[:start] + edited[end:]
    replacements: list[tuple[str, str]] = []
    for leak in leaks:
        if (leak.interaction, leak.where) in removed:
            continue
        if leak.compressed:
            result.left.append(leak)
            continue
        if leak.line == 0:
            result.refused = (
                f"the {leak.kind} in {leak.where} is not stored verbatim (escaped or split); nothing written"
            )
            return _refuse(result)
        result.masked.append(leak)
        replacements.append((leak.secret, MASK))
    replacements.sort(key=lambda pair: len(pair[0]), reverse=True)  # a secret containing another goes first
    for old, new in replacements:
        edited = edited.replace(old, new)
    result.dropped = [f"interaction {index} {side} header {name}" for index, side, name in dropped]
    if edited == text:
        result.masked = []
        return result
    try:
        new_tree, _gz, _serializer = load_document(edited.encode("utf-8"), path)
    except BadRecording as exc:
        result.refused = f"the edit would not parse ({exc.reason}); nothing written"
        return _refuse(result)
    expected = _replace_all(_drop_from(_plain_copy(tree), dropped), replacements)
    if new_tree != expected:
        result.refused = "a secret is not stored verbatim (escaped or split in the text); nothing written"
        return _refuse(result)
    encoded = edited.encode("utf-8")
    result.after = gzip.compress(encoded, mtime=0) if gzipped else encoded
    return result


def _refuse(result: Scrub) -> Scrub:
    result.left = [*result.masked, *result.left]
    result.masked = []
    result.dropped = []
    result.after = None
    return result


def _plain_copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _plain_copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain_copy(item) for item in value]
    return value


def describe_scrub(result: Scrub) -> list[str]:
    """What a scrub changes, one line each (secrets masked, never shown)."""
    lines = [f"dropped {item}" for item in result.dropped]
    for leak in result.masked:
        where = f"interaction {leak.interaction} {leak.where}" if leak.interaction is not None else leak.where
        lines.append(f"masked {leak.kind} {leak.masked} in {where}")
    return lines


def scrub_files(
    names: list[str], allowlist: Allowlist, *, drop: frozenset[str], base: str
) -> tuple[list[tuple[str, str, Scrub]], list[BadRecording]]:
    """(shown path, path, scrub) of every cassette that holds a secret, and a problem for each file that cannot
    be read, cannot be scrubbed in place, or keeps a secret inside a compressed body."""
    from llm_fixtures.safepaths import read_regular

    done: list[tuple[str, str, Scrub]] = []
    problems: list[BadRecording] = []
    prefix = base.rstrip(os.sep) + os.sep
    for name in names:
        shown = name[len(prefix) :] if name.startswith(prefix) else name
        try:
            result = scrub(read_regular(name), shown, allowlist, drop=drop)
        except BadRecording as exc:
            problems.append(exc)
            continue
        except OSError as exc:
            problems.append(BadRecording(shown, exc.strerror or str(exc)))
            continue
        if result.refused:
            problems.append(BadRecording(shown, f"not scrubbed: {result.refused}"))
        for leak in result.left:
            if leak.compressed:
                problems.append(
                    BadRecording(
                        shown,
                        f"{leak.kind} {leak.masked} inside the {leak.where} of interaction "
                        f"{leak.interaction}: not scrubbed in place (re-record it)",
                    )
                )
        if result.changed:
            done.append((shown, name, result))
    return done, problems
