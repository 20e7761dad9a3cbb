"""Build the benchmark corpus: the recordings of ../shared/corpus multiplied under new names and test ids."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SOURCE = REPO.parent / "shared" / "corpus"
DEFAULT_DEST = REPO / "bench" / ".corpus"


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


def build(dest: Path = DEFAULT_DEST, copies: int = 13, source: Path = SOURCE) -> tuple[int, int]:
    """Write `copies` renamed copies of every source recording under `dest`, keeping the folder layout.
    Returns (files, bytes). An existing corpus of the same shape is reused."""
    stamp = dest / ".built"
    if stamp.is_file() and stamp.read_text() == f"{copies}\n":
        files = list(dest.rglob("*.json"))
        return len(files), sum(p.stat().st_size for p in files)
    if dest.exists():
        shutil.rmtree(dest)
    count = size = 0
    for path in source_files(source):
        original = path.read_bytes()
        relative = path.relative_to(source)
        for copy in range(copies):
            raw = json.loads(original)
            data = (json.dumps(_renamed(raw, copy), indent=2) + "\n").encode()
            digest = hashlib.sha256(data).hexdigest()
            name = f"models-{digest}-{path.stem[-8:]}.json" if path.name.startswith("models-") else f"{digest}.json"
            target = dest / f"copy{copy:02d}" / relative.parent / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            count += 1
            size += len(data)
    stamp.write_text(f"{copies}\n")
    return count, size
