"""A pytest plugin (`pytest -p llm_fixtures.usage`) that records which recordings each test read, and reading it.

On a replay run it writes a manifest: for every test its outcome and the recording files it opened for
reading. `fixtures prune --unused-from MANIFEST` then finds superseded recordings: those of a test that passed
without reading them.

How reads are seen: a PEP 578 audit hook on the `open` event. Every Python-level open (`open()`, `io.open`,
`os.open`, `pathlib.Path.read_text/read_bytes/open`) raises it, whatever module does the reading, so nothing
is monkeypatched. A `*.json` file under a folder named `recordings` that is opened without write access
counts. Reads made in another process (a stack started in server mode) are not seen: run the replay with the
library client. Under pytest-xdist each worker writes a part that the controller merges.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llm_fixtures.errors import FixtureError
from llm_fixtures.pruning import UsageEvidence
from llm_fixtures.safepaths import read_regular
from llm_fixtures.store import write_atomic

if TYPE_CHECKING:
    import pytest

FORMAT = "fixtures-usage/1"
ENV_VAR = "FIXTURES_USAGE_MANIFEST"
DEFAULT_NAME = ".fixtures-usage.json"
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
_MARKER = f"{os.sep}recordings{os.sep}"
OUTSIDE_TESTS = ""  # the key of reads made outside any test (session fixtures, collection)


class BadManifest(FixtureError):
    """A usage manifest that cannot be used as evidence."""


class _Recorder:
    """The state of one pytest session: the running test and what each test read."""

    def __init__(self, manifest: Path, root: Path) -> None:
        self.manifest = manifest
        self.root = root
        self.active = True
        self.current = OUTSIDE_TESTS
        self.opened: dict[str, set[str]] = {}
        self.outcomes: dict[str, str] = {}

    def audit(self, event: str, args: tuple[Any, ...]) -> None:
        if event != "open" or not self.active:
            return
        path, mode, flags = (*args, None, None, None)[:3]
        if isinstance(path, int) or path is None:
            return
        if isinstance(mode, str):
            if any(char in mode for char in "wax+"):
                return
        elif isinstance(flags, int) and flags & _WRITE_FLAGS:
            return
        try:
            name = os.fsdecode(path)
        except TypeError:
            return
        if not name.endswith(".json"):
            return
        # Lexical only: the hook runs on every open and must stay cheap; the reader resolves links.
        absolute = os.path.abspath(name)  # noqa: PTH100
        if _MARKER in absolute:
            self.opened.setdefault(self.current, set()).add(absolute)

    def outcome(self, nodeid: str, when: str, outcome: str) -> None:
        """A test passed when its call passed and no phase failed or skipped; failed and skipped stick."""
        previous = self.outcomes.get(nodeid, "incomplete")
        if outcome == "failed":
            self.outcomes[nodeid] = "failed"
        elif outcome == "skipped":
            if previous != "failed":
                self.outcomes[nodeid] = "skipped"
        elif when == "call" and previous == "incomplete":
            self.outcomes[nodeid] = "passed"
        else:
            self.outcomes.setdefault(nodeid, "incomplete")

    def document(self, modes: dict[str, str]) -> dict[str, Any]:
        def shown(path: str) -> str:
            try:
                return Path(path).relative_to(self.root).as_posix()
            except ValueError:
                return path

        tests: dict[str, Any] = {}
        for nodeid in sorted(set(self.outcomes) | (set(self.opened) - {OUTSIDE_TESTS})):
            tests[nodeid] = {
                "outcome": self.outcomes.get(nodeid, "incomplete"),
                "opened": sorted(shown(path) for path in self.opened.get(nodeid, ())),
            }
        return {
            "format": FORMAT,
            "root": str(self.root),
            "modes": modes,
            "tests": tests,
            "outside_tests": sorted(shown(path) for path in self.opened.get(OUTSIDE_TESTS, ())),
        }


_RECORDER_KEY = "_fixtures_usage_recorder"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("fixtures-usage", "recording usage (llm_fixtures.usage)")
    group.addoption(
        "--fixtures-usage",
        dest="fixtures_usage",
        default=None,
        metavar="PATH",
        help=f"Where to write the usage manifest (default: ${ENV_VAR}, else {DEFAULT_NAME} in the rootdir).",
    )


def manifest_path(config: pytest.Config, given: str | None, env_var: str, default_name: str) -> Path:
    """Where a plugin's manifest goes: `given` (its option), else `$env_var`, else `default_name` in the rootdir, a
    relative path taken from where pytest was started; under pytest-xdist each worker writes a part beside it."""
    manifest = Path(given or os.environ.get(env_var) or str(config.rootpath / default_name))
    if not manifest.is_absolute():
        manifest = Path(config.invocation_params.dir) / manifest
    worker = getattr(config, "workerinput", {}).get("workerid")
    return manifest.with_name(f"{manifest.name}.{worker}.part") if worker else manifest


def pytest_configure(config: pytest.Config) -> None:
    manifest = manifest_path(config, config.getoption("fixtures_usage"), ENV_VAR, DEFAULT_NAME)
    recorder = _Recorder(manifest, config.rootpath)
    setattr(config, _RECORDER_KEY, recorder)
    # Audit hooks cannot be removed; the hook does nothing once the session is over (`active`).
    sys.addaudithook(recorder.audit)


def _recorder(config: pytest.Config) -> _Recorder | None:
    recorder = getattr(config, _RECORDER_KEY, None)
    return recorder if isinstance(recorder, _Recorder) else None


def pytest_runtest_logstart(nodeid: str, location: object) -> None:  # noqa: ARG001 (pytest hook signature)
    for recorder in _RECORDERS:
        recorder.current = nodeid


def pytest_runtest_logfinish(nodeid: str, location: object) -> None:  # noqa: ARG001 (pytest hook signature)
    for recorder in _RECORDERS:
        if recorder.current == nodeid:
            recorder.current = OUTSIDE_TESTS


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    for recorder in _RECORDERS:
        recorder.outcome(report.nodeid, report.when or "", report.outcome)


_RECORDERS: list[_Recorder] = []


def pytest_sessionstart(session: pytest.Session) -> None:
    recorder = _recorder(session.config)
    if recorder is not None:
        _RECORDERS.append(recorder)


def _modes(config: pytest.Config) -> dict[str, str]:
    """The upstream recorder's mode as this run sets it: its variables (`replay` is their default) and option."""
    from llm_fixtures.rerecording.recordmode import PRESET_VARIABLES  # read once per session, not at import

    modes = {name: os.environ[name] for name in PRESET_VARIABLES.values() if name in os.environ}
    try:
        option = config.getoption("--inference-mode")
    except ValueError:
        option = None
    if isinstance(option, str):
        modes["--inference-mode"] = option
    return modes


def _merge_parts(document: dict[str, Any], parts: Iterable[Path]) -> None:
    for part in parts:
        try:
            other = json.loads(read_regular(part, follow_link=False))
        except (OSError, ValueError, RecursionError):
            continue
        tests, outside, modes = (_field(other, key, kind) for key, kind in _PART_FIELDS)
        document["tests"].update(tests)
        document["outside_tests"] = sorted(set(document["outside_tests"]) | {str(name) for name in outside})
        document["modes"].update(modes)
        part.unlink(missing_ok=True)


_PART_FIELDS: tuple[tuple[str, type], ...] = (("tests", dict), ("outside_tests", list), ("modes", dict))


def _field(document: Any, key: str, kind: type) -> Any:
    """`document[key]` when it is of `kind`, else an empty one (a part written by a worker is still a file)."""
    value = document.get(key) if isinstance(document, dict) else None
    return value if isinstance(value, kind) else kind()


def pytest_sessionfinish(session: pytest.Session) -> None:
    recorder = _recorder(session.config)
    if recorder is None:
        return
    recorder.active = False
    if recorder in _RECORDERS:
        _RECORDERS.remove(recorder)
    write_manifest(session.config, recorder.manifest, recorder.document(_modes(session.config)), _merge_parts)


def write_manifest(
    config: pytest.Config,
    manifest: Path,
    document: dict[str, Any],
    merge: Callable[[dict[str, Any], Iterable[Path]], None],
) -> None:
    """Write a plugin's manifest at the end of the session; the controller of a pytest-xdist run first merges
    (and removes) the parts its workers wrote."""
    if not getattr(config, "workerinput", None):
        merge(document, sorted(manifest.parent.glob(f"{manifest.name}.*.part")))
    write_atomic(manifest, (json.dumps(document, indent=1, sort_keys=True) + "\n").encode())


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    recorder = _recorder(config)
    if recorder is not None and not getattr(config, "workerinput", None):
        terminalreporter.write_line(f"fixtures usage manifest: {recorder.manifest}")


def _read(path: Path, project_root: Path) -> tuple[set[str], set[str], set[str]]:
    """(tests that passed, tests with any other outcome, recordings read) of one manifest."""
    try:
        document = json.loads(read_regular(path))
    except FileNotFoundError:
        raise BadManifest(f"{path}: no such usage manifest (run `pytest -p llm_fixtures.usage` first)") from None
    except (OSError, ValueError, RecursionError) as exc:
        raise BadManifest(f"{path}: unreadable usage manifest: {exc}") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise BadManifest(f"{path}: not a fixtures usage manifest (format {FORMAT!r} expected)")
    modes = document.get("modes") or {}
    if not isinstance(modes, dict):
        raise BadManifest(f"{path}: `modes` is not a table")
    not_replay = {name: value for name, value in modes.items() if str(value).lower() != "replay"}
    if not_replay:
        shown = ", ".join(f"{name}={value}" for name, value in sorted(not_replay.items()))
        raise BadManifest(f"{path}: the run was not a replay ({shown}); its reads prove nothing")
    tests = document.get("tests")
    if not isinstance(tests, dict):
        raise BadManifest(f"{path}: no `tests` table")
    recorded_root = Path(str(document.get("root", "")))
    root = recorded_root if recorded_root.is_dir() else project_root
    passed: set[str] = set()
    other: set[str] = set()
    lists = [_field(document, "outside_tests", list)]
    for nodeid, entry in tests.items():
        if not isinstance(entry, dict):
            continue
        (passed if entry.get("outcome") == "passed" else other).add(str(nodeid))
        lists.append(_field(entry, "opened", list))
    # The paths are only compared with the recordings' own (never opened): a name that is no path is no match.
    opened = {os.path.realpath(root / name) for names in lists for name in names if _usable(name)}
    if not opened:
        raise BadManifest(
            f"{path}: the run read no recording at all; was it a replay run with the library client "
            "(in-process)? Reads in a server process are not seen"
        )
    return passed, other, opened


def _usable(name: Any) -> bool:
    return isinstance(name, str) and bool(name) and "\x00" not in name


def read_manifests(paths: Iterable[Path], project_root: Path) -> UsageEvidence:
    """The evidence of usage manifests (one per CI job, say): tests that passed in every run that ran them,
    and every recording any run read (resolved absolute paths). Relative paths are taken from a manifest's
    root, or from `project_root` when that folder is gone (a manifest made in CI). Raises BadManifest for a
    run that was not a replay or read no recording at all."""
    passed: set[str] = set()
    other: set[str] = set()
    opened: set[str] = set()
    for path in paths:
        more_passed, more_other, more_opened = _read(path, project_root)
        passed |= more_passed
        other |= more_other
        opened |= more_opened
    return UsageEvidence.of(passed - other, opened)
