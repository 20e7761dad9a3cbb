"""How a cassette file was written, proved by writing its data again byte for byte, and that writer for its new
version: vcrpy's YAML serializer (PyYAML's dumper with every default: libyaml's, or the pure-Python one vcrpy falls
back to without libyaml, which folds long quoted lines elsewhere), the same without line folding (as some projects
rewrite their cassettes), or vcrpy's JSON serializer (`json.dumps(indent=4)` and a newline).

A file that neither reproduces exactly (hand edits, pydantic-ai's own serializer, a scrubber's in-place edits, an
older vcrpy's Python tags) has no writer here: rewriting it would change lines nobody meant to touch, so whatever
needs a writer refuses it (see `cassettes.resending`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import yaml

try:
    _Dumper: Any = yaml.CDumper  # what vcrpy's serializer uses when PyYAML has libyaml
except AttributeError:  # PyYAML built without libyaml: vcrpy falls back the same way
    _Dumper = yaml.Dumper
_UNFOLDED = 2**31 - 1  # a line width no line reaches


def _yaml(tree: Any) -> bytes:
    return str(yaml.dump(tree, Dumper=_Dumper)).encode("utf-8")


def _pure_yaml(tree: Any) -> bytes:
    return str(yaml.dump(tree, Dumper=yaml.Dumper)).encode("utf-8")


def _unfolded_yaml(tree: Any) -> bytes:
    return str(yaml.dump(tree, Dumper=_Dumper, width=_UNFOLDED)).encode("utf-8")


def _json(tree: Any) -> bytes:
    return (json.dumps(tree, indent=4) + "\n").encode("utf-8")


@dataclass(frozen=True, slots=True)
class Writer:
    """A serializer that wrote a file: its name, the serializer it is one of ("yaml" or "json") and how it
    writes a tree."""

    name: str
    serializer: str
    dump: Callable[[Any], bytes]


WRITERS = (
    Writer("vcrpy YAML", "yaml", _yaml),
    Writer("vcrpy YAML without libyaml", "yaml", _pure_yaml),
    Writer("YAML without line folding", "yaml", _unfolded_yaml),
    Writer("vcrpy JSON", "json", _json),
)


def writer_of(data: bytes, tree: Any, serializer: str) -> Writer | None:
    """The writer that turns `tree` (the file's data, as `loading.load_document` read it) back into exactly
    `data`, or None. `serializer` ("yaml" or "json") says which ones to try."""
    for writer in WRITERS:
        if writer.serializer != serializer:
            continue
        try:
            if writer.dump(tree) == data:
                return writer
        except (TypeError, ValueError, yaml.YAMLError, RecursionError):
            return None
    return None
