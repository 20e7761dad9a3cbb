"""The shared VCR cassettes (`../shared/vcr`) for the cassette tests: where they are and how they are named."""

from __future__ import annotations

from pathlib import Path

from conftest import REPO

SHARED_VCR = REPO.parent / "shared" / "vcr"


def shared_cassettes() -> list[Path]:
    """Every cassette of the shared sample ([] when it is absent)."""
    if not SHARED_VCR.is_dir():
        return []
    return sorted(path for path in SHARED_VCR.rglob("*.yaml") if "cassettes" in path.parts)


CASSETTES = shared_cassettes()


def label(path: Path) -> str:
    """A shared cassette's path as the tests show it: relative to the sample's root."""
    return path.relative_to(SHARED_VCR).as_posix()
