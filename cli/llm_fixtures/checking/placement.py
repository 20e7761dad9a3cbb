"""The `place` check: is a file in the folder the recorder derives from its test id?"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import PurePosixPath
from typing import Any

from llm_fixtures.checking.findings import Finding

_HEX12_NAME = re.compile(r"[0-9a-f]{12}\.json")
OLD_LAYOUT_FOLDER = "responses"  # the Jul-Oct 2025 layout: <recording dir>/responses/<hash12>.json


def recording_test_id(raw: dict[str, Any]) -> str | None:
    """The test id the recorder used to pick the folder: the top-level one (the ContextVar with its
    provider-data fallback), else the one an http or tool request stored."""
    test_id = raw.get("test_id")
    if not test_id:
        request = raw.get("request")
        test_id = request.get("test_id") if isinstance(request, dict) else None
    return test_id if isinstance(test_id, str) and test_id else None


def expected_folder(test_id: str) -> str:
    """`tests/integration/responses/test_x.py::t[p]` -> `tests/integration/responses/recordings`."""
    return _recordings_folder(test_id.split("::")[0])


@lru_cache(maxsize=1024)
def _recordings_folder(test_file: str) -> str:
    # Many recordings share a test file: the path arithmetic is done once per file.
    return str(PurePosixPath(test_file).parent / "recordings")


def _parent(path: str) -> str:
    return path.rsplit("/", 1)[0] if "/" in path else "."


def check_place(path: str, location: str, raw: dict[str, Any]) -> list[Finding]:
    """A misplaced file is one the recorder never looks for where it is. `location` is the absolute path
    (`path` is only what is shown). Only files in a `recordings` folder claim the upstream layout; files
    without a test id live in the base folder (configurable upstream), so neither is checked."""
    location = location.replace("\\", "/")
    folder = _parent(location)
    shown = _parent(path.replace("\\", "/"))
    name = location.rsplit("/", 1)[-1]
    if _HEX12_NAME.fullmatch(name):
        if folder.rsplit("/", 1)[-1] == OLD_LAYOUT_FOLDER:
            return []
        return [
            Finding(
                path=path,
                check="place",
                status="legacy-name",
                severity="warning",
                message="a 12-hex name outside the old recordings/responses/ layout: no recorder reads it here",
                details={"folder": shown},
            )
        ]
    test_id = recording_test_id(raw)
    if test_id is None or "recordings" not in folder.split("/"):
        return []
    expected = expected_folder(test_id)
    if folder == expected or folder.endswith("/" + expected):
        return []
    return [
        Finding(
            path=path,
            check="place",
            status="misplaced",
            severity="error",
            message=f"its test id maps to {expected}/, but the file is in {shown}/",
            details={"expected_folder": expected, "folder": shown, "test_id": test_id},
        )
    ]
