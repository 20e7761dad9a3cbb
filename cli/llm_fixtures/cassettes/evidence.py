"""What a replay run says about cassettes: the manifests `pytest -p llm_fixtures.cassettes.usage` writes, read back
and checked (which tests passed, which cassettes were loaded, which of their interactions were played).

A manifest is data from disk: every field is checked before use, and its paths are only compared with the
cassettes' own (never opened). A run that loaded no cassette, or that was not a replay (pytest-recording's
`--record-mode` other than `none` or `once`, `--disable-recording`, pytest-vcr's `--vcr-record` other than `none`
or `once`), proves nothing: its manifest is refused whole.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llm_fixtures.cassettes.naming import name_keys
from llm_fixtures.errors import FixtureError
from llm_fixtures.safepaths import read_regular

FORMAT = "fixtures-cassette-usage/1"
# The record modes in which vcrpy plays stored interactions (and counts the plays).
REPLAY_MODES = frozenset({"none", "once", "new_episodes"})
# The run-wide options that make a run a replay: pytest-recording's and pytest-vcr's record modes.
_REPLAY_OPTIONS = {"--record-mode": frozenset({"none", "once"}), "--vcr-record": frozenset({"none", "once"})}
_SHA256 = re.compile(r"[0-9a-f]{64}")
# The most interactions a manifest may claim for one cassette (the largest real cassettes hold a few hundred).
MAX_INTERACTIONS = 1_000_000


class BadManifest(FixtureError):
    """A cassette usage manifest that cannot be used as evidence."""


@dataclass(slots=True)
class Loaded:
    """One cassette file as a run loaded it: its SHA-256 then ("" when two loads saw different bytes), how many
    interactions vcrpy loaded from it (None when it was combined with other files into one cassette), the
    positions played (None when not known: combined, or loaded in a mode that never plays), the tests that
    loaded it and the record modes it was loaded in."""

    sha256: str
    interactions: int | None
    played: set[int] | None
    tests: set[str] = field(default_factory=set)
    modes: set[str] = field(default_factory=set)

    def merge(self, other: Loaded) -> None:
        """Fold another load of the same file in: the plays add up; what the two disagree on becomes unknown."""
        if other.sha256 != self.sha256:
            self.sha256 = ""
        if other.interactions != self.interactions:
            self.interactions = None
        if self.played is not None and other.played is not None:
            self.played |= other.played
        else:
            self.played = None
        self.tests |= other.tests
        self.modes |= other.modes

    def as_json(self) -> dict[str, Any]:
        return {
            "sha256": self.sha256,
            "interactions": self.interactions,
            "played": None if self.played is None else sorted(self.played),
            "tests": sorted(self.tests),
            "modes": sorted(self.modes),
        }


def merge_into(loads: dict[str, Loaded], path: str, load: Loaded) -> None:
    if path in loads:
        loads[path].merge(load)
    else:
        loads[path] = load


@dataclass(frozen=True, slots=True)
class CassetteUsage:
    """The evidence of one or more replay runs: the tests that passed in every run that ran them, keyed as the
    cassette they would load by default (resolved test module, a name of `naming.name_keys`), and by node id;
    and each cassette loaded (by resolved absolute path)."""

    passed: frozenset[tuple[str, str]]
    passed_ids: frozenset[str]
    loaded: Mapping[str, Loaded]

    def test_passed(self, module: str, name: str) -> bool:
        return (module, name) in self.passed


def _test_keys(root: Path, node_id: str) -> list[tuple[str, str]]:
    """(resolved test module, name) for each name the test's default cassette may have on disk."""
    file, sep, _rest = node_id.partition("::")
    if not sep or not file or "\x00" in node_id:
        return []
    module = os.path.realpath(root / file)
    return [(module, name) for name in name_keys(node_id)]


def _str_list(value: Any, where: str) -> set[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise BadManifest(f"{where} is not a list of strings")
    return set(value)


def load_of(entry: Any, where: str) -> Loaded:
    if not isinstance(entry, dict):
        raise BadManifest(f"{where} is not a table")
    sha256, count, played = entry.get("sha256"), entry.get("interactions"), entry.get("played")
    if not isinstance(sha256, str) or not (sha256 == "" or _SHA256.fullmatch(sha256)):
        raise BadManifest(f"{where}: `sha256` is not a SHA-256")
    if count is not None and (type(count) is not int or not 0 <= count <= MAX_INTERACTIONS):
        raise BadManifest(f"{where}: `interactions` is not a count")
    if played is not None:
        if not isinstance(played, list) or not all(type(i) is int and 0 <= i < (count or 0) for i in played):
            raise BadManifest(f"{where}: `played` is not a list of positions below `interactions`")
        played = set(played)
    return Loaded(
        sha256, count, played, _str_list(entry.get("tests", []), where), _str_list(entry.get("modes", []), where)
    )


def _read(path: Path, project_root: Path) -> tuple[set[str], set[str], dict[str, Loaded], Path]:
    """(tests that passed, tests with another outcome, loads by resolved path, the run's root) of one manifest."""
    try:
        document = json.loads(read_regular(path))
    except FileNotFoundError:
        raise BadManifest(
            f"{path}: no such usage manifest (run `pytest -p llm_fixtures.cassettes.usage` first)"
        ) from None
    except (OSError, ValueError, RecursionError) as exc:
        raise BadManifest(f"{path}: unreadable usage manifest: {exc}") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise BadManifest(f"{path}: not a fixtures cassette usage manifest (format {FORMAT!r} expected)")
    options = document.get("options")
    if not isinstance(options, dict):
        raise BadManifest(f"{path}: `options` is not a table")
    if options.get("--disable-recording") is True:
        raise BadManifest(f"{path}: the run had --disable-recording: it loaded no cassette on purpose")
    for name, replaying in _REPLAY_OPTIONS.items():
        value = options.get(name)
        if value is not None and value not in replaying:
            raise BadManifest(f"{path}: the run was not a replay ({name}={value}); its loads prove nothing")
    tests, cassettes = document.get("tests"), document.get("cassettes")
    if not isinstance(tests, dict) or not isinstance(cassettes, dict):
        raise BadManifest(f"{path}: no `tests` or `cassettes` table")
    recorded_root = Path(str(document.get("root", "")))
    root = recorded_root if recorded_root.is_absolute() and recorded_root.is_dir() else project_root
    passed: set[str] = set()
    other: set[str] = set()
    for node_id, entry in tests.items():
        outcome = entry.get("outcome") if isinstance(entry, dict) else None
        (passed if outcome == "passed" else other).add(str(node_id))
    loads: dict[str, Loaded] = {}
    for name, entry in cassettes.items():
        if not isinstance(name, str) or not name or "\x00" in name:
            raise BadManifest(f"{path}: a cassette path that is no path")
        merge_into(loads, os.path.realpath(root / name), load_of(entry, f"{path}: cassette {name!r}"))
    if not loads:
        raise BadManifest(
            f"{path}: the run loaded no cassette at all; were its tests run with VCR (pytest-recording, "
            "pytest-vcr or vcrpy) in this process?"
        )
    return passed, other, loads, root


def read_cassette_manifests(paths: Iterable[Path], project_root: Path) -> CassetteUsage:
    """The evidence of cassette usage manifests (one per CI job, say): tests that passed in every run that ran
    them, and every cassette any run loaded, its plays added up. Relative paths are taken from a manifest's
    root, or from `project_root` when that folder is gone (a manifest made in CI). Raises BadManifest."""
    passed: dict[str, Path] = {}
    other: set[str] = set()
    loads: dict[str, Loaded] = {}
    for path in paths:
        more_passed, more_other, more_loads, root = _read(path, project_root)
        for node_id in more_passed:
            passed.setdefault(node_id, root)
        other |= more_other
        for location, load in more_loads.items():
            merge_into(loads, location, load)
    keys = {key for node_id, root in passed.items() if node_id not in other for key in _test_keys(root, node_id)}
    return CassetteUsage(
        passed=frozenset(keys),
        passed_ids=frozenset(passed) - other,
        loaded=loads,
    )


def manifest_format(path: Path) -> str | None:
    """The `format` a manifest says it has, or None when it cannot be read as one (the reader says why)."""
    try:
        document = json.loads(read_regular(path))
    except (OSError, ValueError, RecursionError):
        return None
    value = document.get("format") if isinstance(document, dict) else None
    return value if isinstance(value, str) else None


def split_manifests(paths: Iterable[Path]) -> tuple[list[Path], list[Path]]:
    """(recordings' usage manifests, cassette usage manifests) of `prune --unused-from`, by their `format`; a file
    that is neither goes with the recordings' (whose reader says what is wrong with it)."""
    recordings: list[Path] = []
    cassettes: list[Path] = []
    for path in paths:
        (cassettes if manifest_format(path) == FORMAT else recordings).append(path)
    return recordings, cassettes
