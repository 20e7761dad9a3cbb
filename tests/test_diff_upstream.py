"""`fixtures diff` on two real upstream re-recordings (a git bundle in ../shared/upstream/history, cloned into
tmp_path; skipped when absent)."""

from __future__ import annotations

import json
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from conftest import REPO
from diffkit import GIT_ENV_ARGS
from llm_fixtures.app import app

BUNDLE = REPO.parent / "shared" / "upstream" / "history" / "upstream-rerecords.bundle"


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not BUNDLE.is_file():
        pytest.skip("../shared/upstream/history is not present")
    clone = tmp_path_factory.mktemp("upstream") / "history"
    subprocess.run(["git", *GIT_ENV_ARGS, "clone", "-q", str(BUNDLE), str(clone)], check=True)
    (clone / "pyproject.toml").write_text('[project]\nname = "upstream"\nversion = "0"\n')
    return clone


def diff(history: Path, branch: str, monkeypatch: pytest.MonkeyPatch) -> tuple[int, list[dict[str, Any]], str]:
    subprocess.run(["git", "checkout", "-q", branch], cwd=history, check=True)
    monkeypatch.chdir(history)
    runner = CliRunner()
    result = runner.invoke(app, ["diff", "--git", "HEAD~1..HEAD", "--json"], catch_exceptions=False)
    human = runner.invoke(app, ["diff", "--git", "HEAD~1..HEAD"], catch_exceptions=False)
    assert human.exit_code == result.exit_code
    return result.exit_code, [json.loads(line) for line in result.stdout.splitlines()], human.stdout


def test_the_file_search_scrub_rerecord(history: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """5d63477df: the hashing changed, so files were renamed within their tests; content and usage re-recorded."""
    code, rows, human = diff(history, "c-5d63477df", monkeypatch)
    assert code == 1
    assert Counter(row["status"] for row in rows) == Counter(added=72, changed=42, removed=6)
    renamed = [row for row in rows if row["paired_by"] == "test"]
    assert len(renamed) == 10 and all(row["old"] != row["new"] for row in renamed)
    assert "(paired by test)" in human
    # a dropped service tier is metadata, never content
    tiers = [row for row in rows if any(c["path"] == "$.service_tier" for c in row["details"].get("metadata", []))]
    assert tiers and all(change["old"] == "default" for row in tiers for change in row["details"]["metadata"])
    assert any("content" not in row["changes"] for row in tiers)


def test_the_qwen3_adjustments(history: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """1562277cf: 198 recordings added, 71 modified, many only gaining `id_normalization_mapping`."""
    code, rows, _human = diff(history, "c-1562277cf", monkeypatch)
    assert code == 1
    assert Counter(row["status"] for row in rows) == Counter(added=198, changed=55, unchanged=16)
    assert all(row["paired_by"] == "path" for row in rows if row["status"] != "added")
    classes = Counter(change for row in rows for change in row["changes"])
    assert classes["content"] == 36 and classes["metadata"] == 0 and classes["name"] == 0
