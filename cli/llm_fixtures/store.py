"""Reading and writing recording files on disk: parse, validate, write atomically in the upstream style."""

from __future__ import annotations

import json
import os
import stat
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from llm_fixtures.errors import BadRecording, WriteError
from llm_fixtures.facts import Facts, check_url, derive_facts, is_plainly_valid
from llm_fixtures.safepaths import NotRegularFile, read_regular

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


def write_atomic(
    path: Path, data: bytes, *, like: Path | None = None, mode: int | None = None, durable: bool = True
) -> None:
    """Write `data` to `path` through a temporary file in the same folder and a rename: readers see the old
    file or the new one, never half of one. The new file keeps the permission bits and the owner of the file
    it replaces, or of `like` (the file it is a renamed copy of); a file of its own gets `mode` (default
    0o644). An owner that cannot be kept is a WriteError, and nothing is written. The bytes reach the disk
    before the rename unless `durable=False` (a cache, which may be lost)."""
    folder = path.parent
    if path.exists() and not os.access(path, os.W_OK):
        raise WriteError(f"{path}: file is read-only; nothing written")
    try:
        model: os.stat_result | None = (like or path).stat()
    except OSError:
        model = None
    if model is not None and not stat.S_ISREG(model.st_mode):
        model = None  # a FIFO or a device in the way is replaced, not copied
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
            if model is not None and hasattr(os, "fchown"):
                _keep_owner(handle.fileno(), model, path)
            if durable:
                os.fsync(handle.fileno())
        tmp.chmod(model.st_mode & 0o7777 if model is not None else (mode or 0o644) & 0o777)
        tmp.replace(path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise WriteError(f"{path}: cannot write: {exc.strerror or exc}") from None
    except WriteError:
        tmp.unlink(missing_ok=True)
        raise


def _keep_owner(fd: int, model: os.stat_result, path: Path) -> None:
    """Give the temporary file the owner and group of the file it stands in for (before its mode: a change
    of owner clears the set-id bits)."""
    mine = os.fstat(fd)
    if (mine.st_uid, mine.st_gid) == (model.st_uid, model.st_gid):
        return
    try:
        os.fchown(fd, model.st_uid, model.st_gid)
    except PermissionError:
        raise WriteError(
            f"{path}: owned by user {model.st_uid}, group {model.st_gid}; cannot keep its owner; nothing written"
        ) from None
