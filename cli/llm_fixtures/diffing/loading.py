"""Reading the recordings of a diff's sides: files from disk, blobs through git; parsed and checked, or sniffed
for their test id and endpoint when their bytes are the same on both sides."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from llm_fixtures.decoding import load_bytes, parse_json
from llm_fixtures.diffing.gitreading import Repository, read_blobs
from llm_fixtures.diffing.sides import Source
from llm_fixtures.errors import BadRecording
from llm_fixtures.facts import Facts, derive_facts, is_plainly_valid
from llm_fixtures.store import read_bytes


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


class Loader:
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
        considers unchanged). BadRecording for a source the walk could not take (never read)."""
        if source.problem is not None:
            raise BadRecording(source.display, source.problem)
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
        except ValueError as exc:  # an integer past Python's conversion limit, among others
            return BadRecording(source.display, f"invalid JSON: {str(exc).splitlines()[0]}")
        except RecursionError:
            return BadRecording(source.display, "invalid JSON: nested too deeply")


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
    except (BadRecording, ValueError, RecursionError):
        return None, None
    return parsed.facts.test_id, parsed.facts.endpoint


def both_bytes(a: Path | str, b: Path | str) -> tuple[bytes, bytes] | None:
    """The bytes of two regular files (None when either cannot be read: such a pair is loaded, and reported, the
    ordinary way)."""
    try:
        return read_bytes(a), read_bytes(b)
    except BadRecording:
        return None
