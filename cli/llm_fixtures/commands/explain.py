"""`fixtures explain`: read a failing replay run's pytest log and say, for every miss, why it missed and the
command that fixes it. This module reads the log and the recordings; the reasoning is llm_fixtures/explaining."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from llm_fixtures.commands.common import JsonOpt, echo_json_lines, handle_errors, warn
from llm_fixtures.errors import FixtureError, UsageError
from llm_fixtures.humanizing import plural

if TYPE_CHECKING:
    from llm_fixtures.config import Project
    from llm_fixtures.explaining.logreading import LogReading
    from llm_fixtures.explaining.model import Explanation
    from llm_fixtures.facts import Facts

# The most bytes of log read (a whole CI job's log is a few MB; this only stops a runaway file or pipe).
MAX_LOG = 64 * 1024 * 1024

LogArg = Annotated[
    str | None,
    typer.Argument(help="The pytest log: a file, or - for standard input (the default).", show_default=False),
]


class UnreadableLog(FixtureError):
    """The log could not be read (exit 2)."""


def _decode(data: bytes) -> str:
    """Log bytes as text: UTF-16 when a byte-order mark says so (PowerShell's redirection writes it), else UTF-8;
    what does not decode becomes U+FFFD."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace")
    return data.decode("utf-8", errors="replace").removeprefix("\ufeff")


def read_log_bytes(log: str | None) -> bytes:
    """The log's bytes: a regular file (never a FIFO or a device), or standard input; either at most MAX_LOG."""
    from llm_fixtures.safepaths import NotRegularFile, read_regular

    if log is None or log == "-":
        if sys.stdin.isatty():
            raise UsageError("no log: give the log file, or pipe the log into `fixtures explain -`")
        data = sys.stdin.buffer.read(MAX_LOG + 1)
        if len(data) > MAX_LOG:
            raise UnreadableLog(f"standard input: more than {MAX_LOG // (1024 * 1024)} MiB of log")
        return data
    try:
        return read_regular(log, MAX_LOG)
    except NotRegularFile as exc:
        raise UnreadableLog(f"{log}: {exc}") from None
    except OSError as exc:
        raise UnreadableLog(f"{log}: {exc.strerror or exc}") from None


def read_log_file(log: str | None) -> LogReading:
    """The misses of a log given as a path or `-`; UnreadableLog (exit 2) when it cannot be read."""
    from llm_fixtures.explaining.logreading import read_log

    return read_log(_decode(read_log_bytes(log)))


def select_from_log(log: str) -> list[str]:
    """`rerecord --from-log`: the node ids of the tests that missed in the log, as references (a test with no
    recording yet is recorded by the pytest runner). UsageError when the log holds no miss."""
    from llm_fixtures.explaining.logreading import missed_tests

    tests = missed_tests(read_log_file(log))
    if not tests:
        raise UsageError(f"{log}: no test in the log missed a recording")
    return tests


class _Recordings:
    """The I/O the explanation needs: recordings read once each, and whether a recording's test still exists
    (from its file's syntax tree, as `prune` tells)."""

    def __init__(self, project: Project) -> None:
        from llm_fixtures.testfiles import TestFiles

        self.root = project.root
        self.cwd = Path.cwd()
        self.tests = TestFiles(project.root)
        self.raws: dict[str, dict[str, Any] | None] = {}
        self.gones: dict[tuple[str, str], str | None] = {}

    def load(self, facts: Facts) -> dict[str, Any] | None:
        if facts.path not in self.raws:
            from llm_fixtures.decoding import parse_json
            from llm_fixtures.errors import BadRecording
            from llm_fixtures.store import read_bytes

            try:
                raw = parse_json(read_bytes(self.cwd / facts.path), facts.path)
            except BadRecording:
                raw = None
            self.raws[facts.path] = raw if isinstance(raw, dict) else None
        return self.raws[facts.path]

    def gone(self, facts: Facts) -> str | None:
        if not facts.test_id or not facts.test_file:
            return None
        absolute = str(self.cwd / facts.path)
        key = (self.tests.key_for(absolute, facts.test_file), facts.test_function or "")
        if key not in self.gones:
            from llm_fixtures.testindex import lookup

            presence, reason = lookup(self.tests.indexes[key[0]], facts.test_function)
            self.gones[key] = reason if presence == "absent" else None
        return self.gones[key]


def _name_the_runs(explanations: list[Explanation], project: Project) -> None:
    """The run that each fix re-recording a test makes (the setup the preset chose), from the suite definitions
    read as `rerecord` reads them; only for ids that may reach pytest in this project."""
    import os

    from llm_fixtures.explaining.report import attach_runs, rerecorded_tests
    from llm_fixtures.rerecording.nodeids import node_id_problem
    from llm_fixtures.rerecording.recordplan import run_of_each

    tests = [test for test in rerecorded_tests(explanations) if node_id_problem(test, project.root) is None]
    if tests:
        attach_runs(explanations, run_of_each(project, tests, os.environ))


def run(
    log: LogArg = None,
    *,
    no_cache: Annotated[
        bool, typer.Option("--no-cache", help="Read every recording, ignoring the facts cache.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Explain a failing replay run: for every `Recording not found` in a pytest log (a file, or - for standard
    input; plain pytest output or a CI log with timestamps and colours), which test missed, the endpoint, model
    and hash, what the project has on disk for it (with each file's `check` status), the cause (certain when a
    recording's content hashes to the missing hash, otherwise ranked) and the command that fixes it.

    Exit 0 when the log holds no miss, 1 when misses were explained, 2 when the log cannot be read.
    """
    with handle_errors():
        reading = read_log_file(log)
        if not reading.misses:
            failed = f"; {plural(len(reading.failed), 'test')} failed for other reasons" if reading.failed else ""
            warn(f"no replay miss in the log ({reading.lines} lines{failed})")
            return
        # The recordings are read only when there is a miss to explain.
        from llm_fixtures.catalog import load_catalog
        from llm_fixtures.config import load_project
        from llm_fixtures.diffing.sides import volatility_of
        from llm_fixtures.explaining.report import explain_misses

        project = load_project()
        catalog = load_catalog(None, project, use_cache=not no_cache)
        recordings = _Recordings(project)
        explanations = explain_misses(
            reading.misses, catalog.facts, recordings.load, recordings.gone, volatility_of(project)
        )
        _name_the_runs(explanations, project)
        if as_json:
            echo_json_lines(explanations)
        else:
            from llm_fixtures.render.explain import render_explanations

            render_explanations(explanations, failed=len(reading.failed))
    raise typer.Exit(1)
