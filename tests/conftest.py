"""Shared fixtures: the real corpus beside the repository (skipped when absent) and a CLI runner."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "corpus"
SAMPLES = REPO / "recordings"


def corpus_files(*parts: str) -> list[Path]:
    """Every recording JSON file of the corpus (or of one part of it); [] when the corpus is absent."""
    base = CORPUS.joinpath(*parts)
    if not base.is_dir():
        return []
    return sorted(p for p in base.rglob("*.json") if p.name != "expected-assembly.json")


@pytest.fixture
def corpus() -> Path:
    if not CORPUS.is_dir():
        pytest.skip("../shared/corpus is not present")
    return CORPUS


@pytest.fixture
def samples() -> Path:
    return SAMPLES


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()
