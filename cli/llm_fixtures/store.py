"""Reading and writing recording files on disk: parse, validate, write atomically in the upstream style."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from llm_fixtures.errors import BadRecording, WriteError
from llm_fixtures.facts import Facts, derive_facts, is_plainly_valid
from llm_fixtures.safepaths import NotRegularFile, read_regular

if TYPE_CHECKING:
    from llm_fixtures.models import RecordingFile


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


def read_bytes(path: Path | str) -> bytes:
    """The bytes of a regular file (never a FIFO or a device: see safepaths), or BadRecording naming what
    stopped us."""
    try:
        return read_regular(path)
    except NotRegularFile as exc:
        raise BadRecording(path, str(exc)) from None
    except IsADirectoryError:
        raise BadRecording(path, "is a directory, not a recording file") from None
    except PermissionError:
        raise BadRecording(path, "permission denied") from None
    except FileNotFoundError:
        if Path(path).is_symlink():
            raise BadRecording(path, "broken symbolic link") from None
        raise BadRecording(path, "no such file") from None
    except OSError as exc:
        if exc.errno == 40:  # ELOOP
            raise BadRecording(path, "symbolic link loop") from None
        raise BadRecording(path, exc.strerror or str(exc)) from None


def check_recording(raw: Any, path: Path | str) -> dict[str, Any]:
    """`raw` itself when it is a valid recording (checked without pydantic when its fields plainly have their
    types), else the JSON of its validated model; BadRecording saying which field is wrong otherwise."""
    if is_plainly_valid(raw):
        return raw  # type: ignore[no-any-return]
    file = validate_recording(raw, path)
    return file.model_dump(mode="json", by_alias=True, exclude_unset=True)


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
        return RecordingFile.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"] if not str(part).startswith("function-"))
        raise BadRecording(path, f"not a recording: {where}: {first['msg']}") from None


def load_recording(path: Path, display: str | None = None) -> Loaded:
    """Read, parse and validate one recording file. `display` is the path shown in facts and messages."""
    shown = display if display is not None else str(path)
    data = read_bytes(path)
    raw = parse_json(data, shown)
    file = validate_recording(raw, shown)
    facts = derive_facts(shown, len(data), raw if is_plainly_valid(raw) else _plain(file))
    return Loaded(path=path, raw=raw, file=file, facts=facts)


def load_bytes(data: bytes, display: str) -> Loaded:
    """Parse and validate a recording held in memory (for example a blob read through git)."""
    raw = parse_json(data, display)
    file = validate_recording(raw, display)
    facts = derive_facts(display, len(data), raw if is_plainly_valid(raw) else _plain(file))
    return Loaded(path=Path(display), raw=raw, file=file, facts=facts)


def _plain(file: RecordingFile) -> dict[str, Any]:
    return file.model_dump(mode="json", by_alias=True, exclude_unset=True)


def dump_upstream(obj: Any) -> bytes:
    """JSON as the upstream recorder writes it: indent 2, ASCII escapes, trailing newline."""
    return (json.dumps(obj, indent=2) + "\n").encode()


def dump_recording(file: RecordingFile) -> bytes:
    """A validated recording written back in the upstream style; byte-identical for an unchanged file."""
    return dump_upstream(file.model_dump(mode="json", by_alias=True, exclude_unset=True))


def write_atomic(path: Path, data: bytes) -> None:
    """Write `data` to `path` through a temporary file in the same folder and a rename: readers see the old
    file or the new one, never half of one."""
    folder = path.parent
    if path.exists() and not os.access(path, os.W_OK):
        raise WriteError(f"{path}: file is read-only; nothing written")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise WriteError(f"{folder}: cannot write here: {exc.strerror or exc}") from None
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if path.exists():
            tmp.chmod(path.stat().st_mode & 0o7777)
        else:
            tmp.chmod(0o644)
        tmp.replace(path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise WriteError(f"{path}: cannot write: {exc.strerror or exc}") from None
