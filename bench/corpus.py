"""Build the benchmark corpus: the recordings of ../shared/corpus multiplied under new test ids, each copy named
and normalized as the upstream recorder would (so `check` sees a realistic corpus, not 3,000 mismatched names)."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

from llm_fixtures.facts import hash_of_name
from llm_fixtures.hashing import request_key_name
from llm_fixtures.normalizing import normalize_response

REPO = Path(__file__).resolve().parents[1]
SOURCE = REPO.parent / "shared" / "corpus"
DEFAULT_DEST = REPO / "bench" / ".corpus"
FORMAT = 2  # bump when the way copies are made changes, so an old corpus is rebuilt


def source_files(source: Path = SOURCE) -> list[Path]:
    return sorted(p for p in source.rglob("*.json") if p.name != "expected-assembly.json")


def _renamed(raw: dict[str, Any], copy: int) -> dict[str, Any]:
    """The same recording as made by a test with another parametrization id."""
    test_id = raw.get("test_id")
    if isinstance(test_id, str):
        raw["test_id"] = f"{test_id[:-1]}-copy{copy}]" if test_id.endswith("]") else f"{test_id}[copy{copy}]"
    request = raw.get("request")
    if isinstance(request, dict) and isinstance(request.get("test_id"), str):
        request["test_id"] = raw.get("test_id", request["test_id"])
    return raw


def _name(raw: dict[str, Any], source: Path) -> str:
    """The name the recorder gives the renamed copy; for what no rule reproduces, a hash of the content."""
    name = request_key_name(raw)
    if name is not None:
        return name
    digest = hashlib.sha256(json.dumps(raw, sort_keys=True).encode()).hexdigest()
    return f"models-{digest}-{source.stem[-8:]}.json" if source.name.startswith("models-") else f"{digest}.json"


def build(dest: Path = DEFAULT_DEST, copies: int = 13, source: Path = SOURCE) -> tuple[int, int]:
    """Write `copies` renamed copies of every source recording under `dest`, keeping the folder layout.
    Returns (files, bytes). An existing corpus of the same shape is reused."""
    stamp = dest / ".built"
    if stamp.is_file() and stamp.read_text() == f"{FORMAT}:{copies}\n":
        files = list(dest.rglob("*.json"))
        return len(files), sum(p.stat().st_size for p in files)
    if dest.exists():
        shutil.rmtree(dest)
    count = size = 0
    for path in source_files(source):
        original = path.read_bytes()
        relative = path.relative_to(source)
        for copy in range(copies):
            raw = _renamed(json.loads(original), copy)
            name = _name(raw, path)
            if "test_id" in raw:
                # As the recorder writes it: ids carry the new name's hash (the old era was never normalized).
                raw, _changes = normalize_response(raw, hash_of_name(name))
            data = (json.dumps(raw, indent=2) + "\n").encode()
            target = dest / f"copy{copy:02d}" / relative.parent / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            count += 1
            size += len(data)
    stamp.write_text(f"{FORMAT}:{copies}\n")
    return count, size
