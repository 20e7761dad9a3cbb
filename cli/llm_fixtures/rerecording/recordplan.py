"""The pytest runner's plan: read the project's suite definitions and record mode (suitedefs.py, recordmode.py),
choose the runs that re-record the selected tests (runs.py), and say why: the preset, the files read, and for each
run its setup. Explicit settings win: `[tool.fixtures.rerecord] command` is one run with every test."""

from __future__ import annotations

import sys
from collections.abc import Mapping

from llm_fixtures.config import Project
from llm_fixtures.errors import UsageError
from llm_fixtures.rerecording.plan import Plan, with_runs
from llm_fixtures.rerecording.recordmode import choose_preset
from llm_fixtures.rerecording.runs import SET_COMMAND, command_run, setup_runs
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


def plan_record_runs(plan: Plan, project: Project, environ: Mapping[str, str], python: str = sys.executable) -> Plan:
    """`plan` with its runs. UsageError when nothing would put the tests in record mode, or when not one of the
    selected tests can be produced by a setup (with the hint to set the command)."""
    settings = project.settings.rerecord
    definitions = read_suite_definitions(project.root)
    preset = choose_preset(settings, definitions.conftest, project.root)
    how = list(preset.why) if preset else []
    if settings.env:
        how.append(f"[tool.fixtures.rerecord] env: {', '.join(sorted(settings.env))} (over the preset's)")
    tests = plan.tests
    conftest = definitions.conftest
    if settings.command:
        how.append("one run: [tool.fixtures.rerecord] command (it wins over any setups)")
        run = command_run(settings, preset, tests, python)
        return with_runs(plan, [run] if tests else [], {}, how)
    if not definitions.setups or conftest is None or not conftest.has_setup_option:
        why = f"one run: no setups to choose from ({SUITES_FILE} and a --setup option of the conftest)"
        how.append(why)
        run = command_run(settings, preset, tests, python)
        return with_runs(plan, [run] if tests else [], {}, how)
    how.append(_setups_line(definitions))
    how.extend(f"note: {note}" for note in definitions.notes)
    signatures = function_parameters(project.root, tests)
    placement = setup_runs(definitions, preset, settings, tests, environ, signatures)
    if tests and not placement.runs:
        first, reason = next(iter(sorted(placement.unplaced.items())))
        more = f" (and {len(placement.unplaced) - 1} more)" if len(placement.unplaced) > 1 else ""
        raise UsageError(f"{first}: {reason}{more}; nothing was run; {SET_COMMAND}")
    unplaced = {test: f"{reason}; {SET_COMMAND}" for test, reason in placement.unplaced.items()}
    return with_runs(plan, placement.runs, unplaced, how)
