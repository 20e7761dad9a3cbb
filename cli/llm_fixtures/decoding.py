"""A recording from its bytes and back, with no file access: parse the JSON (orjson, with the standard library
for what orjson refuses), validate it (without pydantic when its fields plainly have their types), derive its
facts, and dump it in the upstream recorder's style. `store` reads and writes the files."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from llm_fixtures.errors import BadRecording
from llm_fixtures.facts import Facts, check_url, derive_facts, is_plainly_valid

if TYPE_CHECKING:
    from llm_fixtures.models import RecordingFile

# JSON files in folders of these names claim to be recordings (`responses` is the old layout's folder).
RECORDING_FOLDERS = frozenset({"recordings", "responses"})


@dataclass(frozen=True, slots=True)
class Loaded:
    """A recording read from disk: the JSON as parsed, its validated model and its facts."""

    path: Path
    raw: dict[str, Any]
    file: RecordingFile
    facts: Facts


def parse_json(data: bytes, path: Path | str) -> Any:
    """Parse bytes as JSON (orjson, with the standard library for what orjson refuses, such as lone
    surrogates); raise BadRecording with a one-line reason."""
    if not data or data.isspace():
        raise BadRecording(path, "empty file")
    if data.find(b"\x00", 0, 8192) != -1:
        raise BadRecording(path, "binary file, not JSON")
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        pass
    try:
        return json.loads(data)
    except UnicodeDecodeError:
        raise BadRecording(path, "not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        # An error at the very end, or a string still open at the end, is a file cut short.
        at_end = exc.pos >= len(data.rstrip()) - 1 or exc.msg.startswith("Unterminated string")
        what = "truncated JSON" if at_end else "invalid JSON"
        raise BadRecording(path, f"{what}: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except RecursionError:
        raise BadRecording(path, "invalid JSON: nested too deeply") from None
    except ValueError:  # after JSONDecodeError, its subclass: Python's limit on the digits of an integer
        limit = sys.get_int_max_str_digits()
        raise BadRecording(path, f"invalid JSON: an integer of more than {limit} digits") from None


def check_recording(raw: Any, path: Path | str) -> dict[str, Any]:
    """`raw` itself when it is a valid recording (checked without pydantic when its fields plainly have their
    types), else the JSON of its validated model; BadRecording saying which field is wrong otherwise."""
    if is_plainly_valid(raw):
        _check_url(raw, path)
        return raw  # type: ignore[no-any-return]
    file = validate_recording(raw, path)
    return file.model_dump(mode="json", by_alias=True, exclude_unset=True)


def _check_url(raw: dict[str, Any], path: Path | str) -> None:
    request = raw["request"]
    check_url(request.get("url") if isinstance(request, dict) else None, str(path))


def is_foreign(raw: Any, location: str) -> bool:
    """Whether parsed JSON is some other JSON file, not a recording: it is not an object with `request` or
    `response` (a package.json, a list of expectations) and lies outside every `recordings` folder (inside
    one, any JSON file claims to be a recording)."""
    if isinstance(raw, dict) and ("request" in raw or "response" in raw):
        return False
    parts = location.replace("\\", "/").split("/")[:-1]
    return not any(part in RECORDING_FOLDERS for part in parts)


def validate_recording(raw: Any, path: Path | str) -> RecordingFile:
    """The validated model of a parsed file, or BadRecording saying which field is wrong."""
    if not isinstance(raw, dict):
        raise BadRecording(path, f"not a recording: top level is a JSON {type(raw).__name__}, not an object")
    # Imported here: pydantic is paid for only by commands that validate, not by a warm `ls`.
    from pydantic import ValidationError

    from llm_fixtures.models import RecordingFile

    missing = [key for key in ("request", "response") if key not in raw]
    if missing:
        raise BadRecording(path, f"not a recording: no {' or '.join(repr(key) for key in missing)} key")
    try:
        file = RecordingFile.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"] if not str(part).startswith("function-"))
        raise BadRecording(path, f"not a recording: {where}: {first['msg']}") from None
    _check_url(raw, path)
    return file


def load_bytes(data: bytes, display: str, path: Path | None = None) -> Loaded:
    """Parse and validate a recording held in memory (read from `path`, or a blob read through git).
    `display` is the path shown in facts and messages."""
    raw = parse_json(data, display)
    file = validate_recording(raw, display)
    facts = derive_facts(display, len(data), raw if is_plainly_valid(raw) else _plain(file))
    return Loaded(path=path if path is not None else Path(display), raw=raw, file=file, facts=facts)


def _plain(file: RecordingFile) -> dict[str, Any]:
    return file.model_dump(mode="json", by_alias=True, exclude_unset=True)


def dump_upstream(obj: Any) -> bytes:
    """JSON as the upstream recorder writes it: indent 2, ASCII escapes, trailing newline."""
    return (json.dumps(obj, indent=2) + "\n").encode()


def dump_recording(file: RecordingFile) -> bytes:
    """A validated recording written back in the upstream style; byte-identical for an unchanged file."""
    return dump_upstream(file.model_dump(mode="json", by_alias=True, exclude_unset=True))
