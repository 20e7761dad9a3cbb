"""Shared fixtures: a private cache for every test, the real corpus beside the repository (skipped when absent)
and a CLI runner; the package byte-compiled once per run for the tool's subprocesses."""

from __future__ import annotations

import compileall
import tempfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "corpus"
SAMPLES = REPO / "recordings"


def pytest_configure(config: pytest.Config) -> None:
    """Byte-compile the package and the test helpers its subprocesses import, as pip compiles an installed package:
    where `PYTHONDONTWRITEBYTECODE` is set (it is on the development machine), every `fixtures` the tests start
    would otherwise compile each module it imports from source, about 0.05 s of CPU per process. Only what is stale
    is compiled; under xdist the controller does it before the workers start."""
    if hasattr(config, "workerinput"):
        return
    for folder, depth in ((REPO / "cli", 10), (REPO / "tests", 0)):
        compileall.compile_dir(folder, maxlevels=depth, quiet=2)


@pytest.fixture(scope="session")
def _caches(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("caches")


@pytest.fixture(autouse=True)
def cache_home(_caches: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own `XDG_CACHE_HOME`, outside any project it builds: no test reads what another cached
    (they run in parallel), none touches the user's `~/.cache`, and a project's file listing never holds a cache.
    Subprocesses inherit it. (`mkdtemp` in one folder: `tmp_path_factory.mktemp` lists its whole base folder at
    every call, which grows by one entry per test.)"""
    folder = Path(tempfile.mkdtemp(dir=_caches))
    monkeypatch.setenv("XDG_CACHE_HOME", str(folder))
    return folder


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
