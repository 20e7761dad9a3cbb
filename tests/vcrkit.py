"""The shared VCR cassettes (`../shared/vcr`) for the cassette tests: where they are and how they are named; and a
project whose tests record their cassettes with pytest-recording in a real pytest run."""

from __future__ import annotations

import os
import subprocess
import sys
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


# Re-record through the tests with this interpreter (its pytest, vcrpy and pytest-recording).
RERECORD_COMMAND = (
    '[tool.fixtures.rerecord]\ncommand = ["{python}", "-m", "pytest", "-q", "-p", "no:cacheprovider", "{node_ids}"]\n'
)


def run_pytest(root: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`pytest -q -p no:cacheprovider ARGS tests` in a project, with `env` added to the environment."""
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args, "tests"],
        cwd=root,
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=300,
        check=False,
    )


def recorded_project(root: Path, tests: str, pyproject: str = RERECORD_COMMAND, **env: str) -> None:
    """A project at `root` whose `tests/test_chat.py` is `tests`, its cassettes recorded (`--record-mode=once`)."""
    (root / "pyproject.toml").write_text(pyproject)
    (root / "tests").mkdir(exist_ok=True)
    (root / "tests" / "test_chat.py").write_text(tests)
    done = run_pytest(root, "--record-mode=once", **env)
    assert done.returncode == 0, done.stdout + done.stderr
