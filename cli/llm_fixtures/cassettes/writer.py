"""How a cassette file was written, proved by writing its data again byte for byte, and that writer for its new
version: vcrpy's YAML serializer (PyYAML's dumper, libyaml's when there is one, every default kept) or its JSON
serializer (`json.dumps(indent=4)` and a newline).

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


def _yaml(tree: Any) -> bytes:
    return str(yaml.dump(tree, Dumper=_Dumper)).encode("utf-8")


def _json(tree: Any) -> bytes:
    return (json.dumps(tree, indent=4) + "\n").encode("utf-8")


@dataclass(frozen=True, slots=True)
class Writer:
    """A serializer that wrote a file: its name (`vcrpy-yaml`, `vcrpy-json`) and how it writes a tree."""

    name: str
    dump: Callable[[Any], bytes]


WRITERS = (Writer("vcrpy-yaml", _yaml), Writer("vcrpy-json", _json))


def writer_of(data: bytes, tree: Any, serializer: str) -> Writer | None:
    """The writer that turns `tree` (the file's data, as `loading.load_document` read it) back into exactly
    `data`, or None. `serializer` ("yaml" or "json") says which one to try."""
    for writer in WRITERS:
        if writer.name.endswith(serializer):
            try:
                if writer.dump(tree) == data:
                    return writer
            except (TypeError, ValueError, yaml.YAMLError, RecursionError):
                return None
    return None
