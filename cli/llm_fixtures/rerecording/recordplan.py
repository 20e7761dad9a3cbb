"""The pytest runner's plan: read the project's suite definitions and record mode (suitedefs.py, recordmode.py),
choose the runs that re-record the selected tests (runs.py), and say why: the preset, the files read, and for each
run its setup. Explicit settings win: `[tool.fixtures.rerecord] command` is one run with every test."""

from __future__ import annotations

import sys
from collections.abc import Mapping

from llm_fixtures.config import Project
from llm_fixtures.errors import FixtureError, UsageError
from llm_fixtures.rerecording.plan import Plan, with_runs
from llm_fixtures.rerecording.recordmode import choose_preset
from llm_fixtures.rerecording.runs import SET_COMMAND, RunPlan, command_run, setup_runs
from llm_fixtures.rerecording.signatures import function_parameters
from llm_fixtures.rerecording.suitedefs import (
    CI_SCRIPT,
    MATRIX_FILE,
    SUITES_FILE,
    SuiteDefinitions,
    read_suite_definitions,
)


def _setups_line(definitions: SuiteDefinitions) -> str:
    parts = [f"{len(definitions.setups)} setups and {len(definitions.suites)} suites of {SUITES_FILE}"]
    if definitions.matrix:
        parts.append(f"{len(definitions.matrix)} CI jobs of {MATRIX_FILE}")
    if definitions.script_options:
        parts.append(f"the options {CI_SCRIPT} passes")
    return "one run per setup, each id mapped to the setup whose options produce it: " + ", ".join(parts)


def record_runs(
    project: Project, tests: list[str], environ: Mapping[str, str], python: str = sys.executable
) -> tuple[list[RunPlan], dict[str, str], list[str]]:
    """The runs that record `tests`, each test no run can produce with the reason, and why the runs are so (the
    preset, the definitions read). UsageError when nothing would put the tests in record mode."""
    settings = project.settings.rerecord
    definitions = read_suite_definitions(project.root)
    preset = choose_preset(settings, definitions.conftest, project.root)
    how = list(preset.why) if preset else []
    if settings.env:
        how.append(f"[tool.fixtures.rerecord] env: {', '.join(sorted(settings.env))} (over the preset's)")
    conftest = definitions.conftest
    if settings.command:
        how.append("one run: [tool.fixtures.rerecord] command (it wins over any setups)")
        run = command_run(settings, preset, tests, python)
        return [run] if tests else [], {}, how
    if not definitions.setups or conftest is None or not conftest.has_setup_option:
        how.append(f"one run: no setups to choose from ({SUITES_FILE} and a --setup option of the conftest)")
        run = command_run(settings, preset, tests, python)
        return [run] if tests else [], {}, how
    how.append(_setups_line(definitions))
    how.extend(f"note: {note}" for note in definitions.notes)
    signatures = function_parameters(project.root, tests)
    placement = setup_runs(definitions, preset, settings, tests, environ, signatures)
    return placement.runs, placement.unplaced, how


def plan_record_runs(plan: Plan, project: Project, environ: Mapping[str, str], python: str = sys.executable) -> Plan:
    """`plan` with its runs. UsageError when nothing would put the tests in record mode, or when not one of the
    selected tests can be produced by a setup (with the hint to set the command)."""
    runs, unplaced, how = record_runs(project, plan.tests, environ, python)
    if plan.tests and not runs:
        first, reason = next(iter(sorted(unplaced.items())))
        more = f" (and {len(unplaced) - 1} more)" if len(unplaced) > 1 else ""
        raise UsageError(f"{first}: {reason}{more}; nothing was run; {SET_COMMAND}")
    return with_runs(plan, runs, {test: f"{reason}; {SET_COMMAND}" for test, reason in unplaced.items()}, how)


def run_of_each(project: Project, tests: list[str], environ: Mapping[str, str]) -> dict[str, RunPlan | str]:
    """For each test, the run `fixtures rerecord <test>` would make to record it alone (its setup, its command),
    or why there is none (no setup produces its id, nothing puts the tests in record mode)."""
    try:
        runs, unplaced, _how = record_runs(project, tests, environ)
    except FixtureError as exc:  # no record mode, an unknown preset: the same for every test
        return dict.fromkeys(tests, str(exc))
    found: dict[str, RunPlan | str] = {test: f"{reason}; {SET_COMMAND}" for test, reason in unplaced.items()}
    for run in runs:
        for test in run.tests:
            found[test] = run.alone(test)
    return found
