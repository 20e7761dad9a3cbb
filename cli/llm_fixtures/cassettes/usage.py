"""A pytest plugin (`pytest -p llm_fixtures.cassettes.usage`) that records which VCR cassettes each test loaded and
which of their interactions were played, for `fixtures prune --unused-from MANIFEST`.

vcrpy counts the plays of every cassette (`Cassette.play_counts`, by position in the cassette) but offers no hook
to see a cassette being loaded. For the session, the plugin wraps `vcr.cassette.Cassette.load`, the one classmethod
every cassette goes through (pytest-recording's `vcr` fixture, pytest-vcr's, `@vcr.use_cassette` and `with
vcr.use_cassette(...)` alike); the original is put back when the session ends. At each load it notes the file's
SHA-256 (so that a cassette changed since the run is not judged by it), how many interactions vcrpy loaded from
it, the record mode, and the test that was running; it keeps the cassette's play counter, read when the test ends
and when the session ends (a module-scoped cassette plays for several tests). A cassette pytest-recording combines
with others (`@pytest.mark.vcr("extra.yaml")`) is noted as loaded, its plays not told apart.

Under pytest-xdist each worker writes a part that the controller merges. Loads in another process are not seen.
"""

from __future__ import annotations

import hashlib
import json
import os
import weakref
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llm_fixtures.cassettes.evidence import FORMAT, REPLAY_MODES, Loaded, merge_into
from llm_fixtures.safepaths import read_regular
from llm_fixtures.usage import _Recorder as OutcomeTracker  # the rule that says a test passed, one place
from llm_fixtures.usage import manifest_path, write_manifest

if TYPE_CHECKING:
    import pytest

ENV_VAR = "FIXTURES_CASSETTE_USAGE_MANIFEST"
DEFAULT_NAME = ".fixtures-cassette-usage.json"
_KEY = "_fixtures_cassette_usage_recorder"
# The run-wide options a manifest notes, so that the reader can refuse a run that was not a replay.
_OPTIONS = ("--record-mode", "--disable-recording", "--vcr-record")


@dataclass(slots=True)
class _Live:
    """A loaded cassette whose plays are still counting: the cassette (weakly), its counter, where it was
    loaded from and how many interactions came from there."""

    cassette: weakref.ref[Any]
    counter: Counter[int]
    path: str
    count: int


def _mode(cassette: Any) -> str:
    mode = getattr(cassette, "record_mode", "")
    return str(getattr(mode, "value", mode))


def _digest(path: str) -> str | None:
    try:
        return hashlib.sha256(read_regular(path)).hexdigest()
    except OSError:
        return None  # a cassette about to be recorded: nothing was loaded from it


class _Recorder:
    """The state of one session: the outcome of each test, each cassette loaded, the counters still counting."""

    def __init__(self, manifest: Path, root: Path) -> None:
        self.manifest = manifest
        self.root = root
        self.tests = OutcomeTracker(manifest, root)
        self.loads: dict[str, Loaded] = {}
        self.live: list[_Live] = []

    def loaded(self, cassette: Any) -> None:
        """Note a cassette vcrpy has just loaded (never raises: a test must not fail for the plugin)."""
        try:
            self._loaded(cassette)
        except Exception:  # whatever a subclass of Cassette holds, the test goes on
            return

    def _loaded(self, cassette: Any) -> None:
        path = os.path.abspath(os.fspath(cassette._path))  # noqa: PTH100 (as vcrpy resolves it: from the cwd)
        extra = [os.path.abspath(os.fspath(item)) for item in getattr(cassette._persister, "extra_paths", None) or []]  # noqa: PTH100
        mode = _mode(cassette)
        test = {self.tests.current} if self.tests.current else set()
        combined = bool(extra)
        count = len(cassette.data)
        for file in [path, *extra]:
            digest = _digest(file)
            if digest is None:
                continue
            known = not combined and mode in REPLAY_MODES
            load = Loaded(digest, None if combined else count, set() if known else None, set(test), {mode})
            merge_into(self.loads, file, load)
            if known:
                self.live.append(_Live(weakref.ref(cassette), cassette.play_counts, file, count))

    def settle(self, test: str = "") -> None:
        """Add the plays counted so far to the loads (a live cassette's counter read as it is now: `rewind`
        gives it a new one); a cassette that played since the last time counts `test` among its tests."""
        for live in self.live:
            cassette = live.cassette()
            if cassette is not None:
                live.counter = cassette.play_counts
            load = self.loads.get(live.path)
            if load is None or load.played is None:
                continue
            played = {index for index, plays in live.counter.items() if plays and 0 <= index < live.count}
            if test and not played <= load.played:
                load.tests.add(test)
            load.played |= played
        self.live = [live for live in self.live if live.cassette() is not None]

    def document(self, options: dict[str, Any]) -> dict[str, Any]:
        def shown(path: str) -> str:
            try:
                return Path(path).relative_to(self.root).as_posix()
            except ValueError:
                return path

        return {
            "format": FORMAT,
            "root": str(self.root),
            "options": options,
            "tests": {node_id: {"outcome": outcome} for node_id, outcome in sorted(self.tests.outcomes.items())},
            "cassettes": {shown(path): load.as_json() for path, load in sorted(self.loads.items())},
        }


def _install(recorder: _Recorder) -> Callable[[], None] | None:
    """Wrap `Cassette.load` so that every cassette loaded is noted; the function that undoes it (None when vcrpy
    is not installed)."""
    try:
        from vcr.cassette import Cassette
    except ImportError:
        return None
    original = Cassette.__dict__["load"]

    def load(cls: type[Any], /, **kwargs: Any) -> Any:
        cassette = original.__func__(cls, **kwargs)
        recorder.loaded(cassette)
        return cassette

    Cassette.load = classmethod(load)

    def undo() -> None:
        Cassette.load = original

    return undo


_UNDO_KEY = "_fixtures_cassette_usage_undo"
_RECORDERS: list[_Recorder] = []


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("fixtures-cassette-usage", "VCR cassette usage (llm_fixtures.cassettes.usage)")
    group.addoption(
        "--fixtures-cassette-usage",
        dest="fixtures_cassette_usage",
        default=None,
        metavar="PATH",
        help=f"Where to write the cassette usage manifest (default: ${ENV_VAR}, else {DEFAULT_NAME} in the rootdir).",
    )


def pytest_configure(config: pytest.Config) -> None:
    manifest = manifest_path(config, config.getoption("fixtures_cassette_usage"), ENV_VAR, DEFAULT_NAME)
    recorder = _Recorder(manifest, config.rootpath)
    setattr(config, _KEY, recorder)
    setattr(config, _UNDO_KEY, _install(recorder))
    _RECORDERS.append(recorder)


def pytest_unconfigure(config: pytest.Config) -> None:
    undo = getattr(config, _UNDO_KEY, None)
    if callable(undo):
        undo()
    recorder = getattr(config, _KEY, None)
    if recorder in _RECORDERS:
        _RECORDERS.remove(recorder)


def _recorder(config: pytest.Config) -> _Recorder | None:
    recorder = getattr(config, _KEY, None)
    return recorder if isinstance(recorder, _Recorder) else None


def pytest_runtest_logstart(nodeid: str, location: object) -> None:  # noqa: ARG001 (pytest hook signature)
    for recorder in _RECORDERS:
        recorder.tests.current = nodeid


def pytest_runtest_logfinish(nodeid: str, location: object) -> None:  # noqa: ARG001 (pytest hook signature)
    for recorder in _RECORDERS:
        recorder.settle(nodeid)
        if recorder.tests.current == nodeid:
            recorder.tests.current = ""


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    for recorder in _RECORDERS:
        recorder.tests.outcome(report.nodeid, report.when or "", report.outcome)


def _options(config: pytest.Config) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for name in _OPTIONS:
        try:
            value = config.getoption(name)
        except ValueError:
            continue  # the plugin that adds it is not installed
        if value is not None:
            found[name] = value if isinstance(value, bool | str) else str(value)
    return found


def _merge_parts(document: dict[str, Any], parts: Iterable[Path]) -> None:
    from llm_fixtures.cassettes.evidence import BadManifest, load_of

    for part in parts:
        try:
            other = json.loads(read_regular(part, follow_link=False))
            tests, cassettes = other["tests"], other["cassettes"]
            loads = {name: load_of(entry, name) for name, entry in cassettes.items()}
        except (OSError, ValueError, RecursionError, KeyError, TypeError, AttributeError, BadManifest):
            continue
        if isinstance(tests, dict):
            document["tests"].update(tests)
        merged = {name: load_of(entry, name) for name, entry in document["cassettes"].items()}
        for name, load in loads.items():
            merge_into(merged, name, load)
        document["cassettes"] = {name: load.as_json() for name, load in sorted(merged.items())}
        part.unlink(missing_ok=True)


def pytest_sessionfinish(session: pytest.Session) -> None:
    recorder = _recorder(session.config)
    if recorder is None:
        return
    recorder.settle()
    write_manifest(session.config, recorder.manifest, recorder.document(_options(session.config)), _merge_parts)


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    recorder = _recorder(config)
    if recorder is not None and not getattr(config, "workerinput", None):
        terminalreporter.write_line(f"fixtures cassette usage manifest: {recorder.manifest}")
