"""The pytest runs that re-record a set of node ids. Pure: takes the ids, the suite definitions read as data
(suitedefs.py) and the record-mode preset (recordmode.py), returns the runs.

A parametrized id such as `test_x[txt=ollama/llama3.2:3b-instruct-fp16]` exists only when pytest runs with the
options that produce it: the conftest turns `--text-model` (or a setup's default text model, `--setup=ollama`)
into the `txt=` part. So each id is mapped to the setup whose options produce it, exactly as the conftest builds
ids: an option given on the command line, else the option's own default, else the setup's default; model names
shortened as the conftest shortens them; the options CI's script always passes (`--embedding-model=...`) tried
first. Among setups that produce an id, the CI matrix's setups for a suite that holds the test come first, then
that suite's default setup, then any setup. One run per setup (and option set); an id no setup produces is
reported with the reason and not run. `[tool.fixtures.rerecord] command` replaces all this with one run."""

from __future__ import annotations

import itertools
import shlex
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath

from pydantic import BaseModel

from llm_fixtures import nodeids
from llm_fixtures.errors import UsageError
from llm_fixtures.rerecording.recordmode import Preset
from llm_fixtures.rerecording.suitedefs import (
    CI_SCRIPT,
    MATRIX_FILE,
    SETUP_OPTION,
    SUITES_FILE,
    ModelOption,
    Suite,
    SuiteDefinitions,
)
from llm_fixtures.settings import RerecordSettings

NODE_IDS = "{node_ids}"
PYTHON = "{python}"
STACK_OPTION = "--stack-config"
# The distribution CI's library client runs (`--stack-config=ci-tests`), when the package ships it.
CI_DISTRIBUTION = "ci-tests"
NO_RECORD_MODE = (
    "no way to put the tests in record mode: this is not an OGX or llama-stack repository; set "
    '[tool.fixtures.rerecord] env (for example env = {MY_TEST_MODE = "record"}) or preset'
)
SET_COMMAND = "set [tool.fixtures.rerecord] command to run such ids your way"


class RunPlan(BaseModel):
    """One pytest run: its argv and environment additions, the node ids it records, and why it is set up so."""

    argv: list[str]
    env: dict[str, str]
    tests: list[str]
    setup: str | None = None
    suites: list[str] = []
    why: list[str] = []

    @property
    def shell(self) -> str:
        """The run as a shell line a person can copy: `VAR=value ... argv`, every word quoted as needed."""
        settings = [f"{name}={shlex.quote(value)}" for name, value in sorted(self.env.items())]
        return " ".join([*settings, shlex.join(self.argv)])

    def alone(self, test: str) -> RunPlan:
        """The same run for one of its tests only (the other node ids left out of its command)."""
        others = set(self.tests) - {test}
        argv = [word for word in self.argv if word not in others]
        return self.model_copy(update={"argv": argv, "tests": [test]})


@dataclass(slots=True)
class Placement:
    """The runs, and each id that no run can produce with the reason."""

    runs: list[RunPlan]
    unplaced: dict[str, str]


# --- one run from `[tool.fixtures.rerecord] command` (or the plain pytest command) ------------------------


def _runs_pytest(template: Sequence[str]) -> bool:
    """Whether the command is pytest itself (`pytest`, `py.test`, `python -m pytest`)."""
    if not template:
        return False
    program = PurePosixPath(template[0]).name
    if program in ("pytest", "py.test"):
        return True
    return any(a == "-m" and b == "pytest" for a, b in itertools.pairwise(template))


def command_argv(
    template: Sequence[str], preset_args: Sequence[str], node_ids: Sequence[str], python: str
) -> list[str]:
    """The argv of a command template: `{node_ids}` expanded in place (appended when absent) after the preset's
    options (unless the template already gives them), `{python}` as this interpreter. Before the ids of a pytest
    command whose ids come last, a `--`: pytest reads options after it all the same (its arguments are parsed
    intermixed), so the ids are checked before they get here (nodeids.py); the `--` is for the runners that stop
    there."""
    parts = list(template) if NODE_IDS in template else [*template, NODE_IDS]
    given = {part.split("=", 1)[0] for part in parts}
    argv: list[str] = []
    for index, part in enumerate(parts):
        if part != NODE_IDS:
            argv.append(part.replace(PYTHON, python))
            continue
        argv.extend(arg for arg in preset_args if arg.split("=", 1)[0] not in given)
        if index == len(parts) - 1 and _runs_pytest(parts) and "--" not in parts:
            argv.append("--")
        argv.extend(node_ids)
    return argv


def environment(preset: Preset | None, settings: RerecordSettings) -> dict[str, str]:
    """The environment additions of every run: the preset's, then `[tool.fixtures.rerecord] env` over them.
    UsageError when nothing would put the tests in record mode."""
    env = {**(preset.env if preset else {}), **settings.env}
    if not env:
        raise UsageError(NO_RECORD_MODE)
    return env


def command_run(settings: RerecordSettings, preset: Preset | None, node_ids: Sequence[str], python: str) -> RunPlan:
    """The single run of `[tool.fixtures.rerecord] command` (or plain pytest) with every node id."""
    env = environment(preset, settings)
    template = list(settings.command) if settings.command else ["pytest", NODE_IDS]
    argv = command_argv(template, preset.args if preset else (), node_ids, python)
    return RunPlan(argv=argv, env=env, tests=list(node_ids))


# --- runs by setup --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Config:
    """A way to run a test: a setup, the options added to it, and the stack config."""

    setup: str
    options: tuple[tuple[str, str], ...]
    stack_config: str | None
    suite: str | None
    why: str

    @property
    def key(self) -> tuple[str, tuple[tuple[str, str], ...], str | None]:
        return (self.setup, self.options, self.stack_config)


def covers(suite: Suite, test_file: str, function: str) -> bool:
    """Whether a suite's roots hold the test: a folder above its file, its file, or `file::function`."""
    for root in suite.roots or ():
        path, _, name = root.partition("::")
        path = path.rstrip("/")
        if name:
            if test_file == path and function == name:
                return True
        elif test_file == path or test_file.startswith(path + "/"):
            return True
    return False


def _values(definitions: SuiteDefinitions, config: Config) -> dict[ModelOption, str | None]:
    """The value of each model option in a run of `config`, as the conftest decides it: given on the command
    line, else the option's default, else the setup's default."""
    conftest = definitions.conftest
    if conftest is None:
        return {}
    given = dict(config.options)
    setup = definitions.setups[config.setup]
    values: dict[ModelOption, str | None] = {}
    for option in conftest.model_options:
        value: object = given.get(option.option)
        if value is None:
            value = conftest.option_default(option.dest)
        if value is None:
            value = setup.defaults.get(option.dest)
        values[option] = None if value is None else str(value)
    return values


def _marked(params: str, marker: str) -> list[int]:
    """Where `marker` (`txt=`) starts an id part: at the start, or after `-` or `:`."""
    found, start = [], 0
    while (at := params.find(marker, start)) != -1:
        if at == 0 or params[at - 1] in "-:":
            found.append(at)
        start = at + 1
    return found


def _named_score(
    params: str,
    values: Mapping[ModelOption, str | None],
    short_ids: Mapping[str, str],
    signature: frozenset[str] | None,
) -> int | None:
    """How well the `prefix=value` parts of an id match a config (the length of the values matched, so the
    longest value wins where one is the start of another); None when a part is not the config's. When the test
    function's parameters are known, a part must be there exactly when the test names the option's fixture and
    the config gives it a value (the conftest's rule); otherwise only the parts there are checked."""
    score = 0
    for option, value in values.items():
        marker = f"{option.prefix}="
        found = _marked(params, marker)
        if signature is not None and option.fixture in signature:
            if value is None and found:
                return None
            if value is not None and not found:
                return None
        for at in found:
            if value is None:
                return None
            short = short_ids.get(value, value)
            rest = params[at + len(marker) :]
            if not rest.startswith(short) or rest[len(short) : len(short) + 1] not in ("", "-", ":"):
                return None
            score += len(short) + 1
    return score


def _has_named_parts(params: str, options: Iterable[ModelOption]) -> bool:
    return any(_marked(params, f"{option.prefix}=") for option in options)


def _delimited(params: str, text: str) -> bool:
    return params == text or params.startswith(text + "-") or params.endswith("-" + text) or f"-{text}-" in params


def _auto_score(params: str, values: Mapping[ModelOption, str | None]) -> int:
    """How well an id that pytest made from the values themselves (the conftest gives no ids when the test does
    not take the model fixtures by name: `vertexai/...-None-transformers/...`) matches a config: the length of
    the longest run of the config's values, in the conftest's order, found in it."""
    items = list(values.items())
    best = 0
    for size in range(1, len(items) + 1):
        for chosen in itertools.combinations(items, size):
            if all(value is None for _option, value in chosen):
                continue
            text = "-".join("None" if value is None else value for _option, value in chosen)
            if _delimited(params, text):
                best = max(best, sum(len(value) for _option, value in chosen if value))
    return best


def _candidates(definitions: SuiteDefinitions, test: str) -> list[Config]:
    """The ways to run a test, best first: the CI matrix's setups for a suite holding it (jobs the library client
    may run first), that suite's default setup, then every setup; each with the options CI's script always
    passes, then without them."""
    file, function = nodeids.test_file(test), nodeids.function_name(test)
    holding = [name for name, suite in definitions.suites.items() if covers(suite, file, function)]
    found: list[tuple[str, str | None, str | None, str]] = []
    library = [
        e
        for e in definitions.matrix
        if e.suite in holding and (e.allowed_clients is None or "library" in e.allowed_clients)
    ]
    others = [e for e in definitions.matrix if e.suite in holding and e not in library]
    for entry in [*library, *others]:
        found.append(
            (
                entry.setup,
                entry.suite,
                entry.stack_config,
                f"CI runs suite {entry.suite} with setup {entry.setup} ({MATRIX_FILE})",
            )
        )
    for name in holding:
        default = definitions.suites[name].default_setup
        if default in definitions.setups:
            found.append((default, name, None, f"setup {default} is the default of suite {name} ({SUITES_FILE})"))
    for name in definitions.setups:
        found.append((name, None, None, f"setup {name} gives the id's model parts ({SUITES_FILE})"))
    script = tuple(sorted(definitions.script_options.items()))
    variants = [script, ()] if script else [()]
    configs: list[Config] = []
    seen: set[tuple[str, tuple[tuple[str, str], ...], str | None]] = set()
    for setup, suite, stack, why in found:
        for options in variants:
            config = Config(setup, options, stack, suite, why)
            if config.key not in seen:
                seen.add(config.key)
                configs.append(config)
    return configs


def place_test(definitions: SuiteDefinitions, test: str, signature: frozenset[str] | None = None) -> Config | str:
    """The config whose options produce `test`'s id, or why none does. `signature`: the parameters of the test
    function, when its file could be read."""
    conftest = definitions.conftest
    options = conftest.model_options if conftest is not None else ()
    short_ids = conftest.short_ids if conftest is not None else {}
    params = nodeids.parameters(test)
    candidates = _candidates(definitions, test)
    if candidates and "[" not in test.split("::", 1)[-1]:
        return candidates[0]  # no parameters: the id names every parametrization, which any setup gives
    named = _has_named_parts(params, options)
    if signature is not None:
        # Ids name the options of the fixtures the function takes; none of them: pytest's own ids of the values.
        named = any(option.fixture in signature for option in options)
    scored: list[tuple[int, Config]] = []
    for config in candidates:
        values = _values(definitions, config)
        score = _named_score(params, values, short_ids, signature) if named else _auto_score(params, values)
        if score is not None:
            scored.append((score, config))
    if named and not scored:
        tried = f" (nor with what {CI_SCRIPT} passes)" if definitions.script_options else ""
        return f"no setup of {SUITES_FILE} gives its parameters [{params}]{tried}"
    if not scored:
        return f"no setup of {SUITES_FILE} to run it with"
    best = max(score for score, _config in scored)
    return next(config for score, config in scored if score == best)


def setup_runs(
    definitions: SuiteDefinitions,
    preset: Preset | None,
    settings: RerecordSettings,
    node_ids: Sequence[str],
    environ: Mapping[str, str],
    signatures: Mapping[str, frozenset[str] | None] | None = None,
) -> Placement:
    """One run per setup (and option set) for the ids the suite's setups produce; each other id with why not.
    `signatures`: the parameters of each test function, where known (signatures.py)."""
    env = environment(preset, settings)
    placed: dict[tuple[str, tuple[tuple[str, str], ...], str | None], list[tuple[str, Config]]] = {}
    unplaced: dict[str, str] = {}
    for test in node_ids:
        found = place_test(definitions, test, (signatures or {}).get(test))
        if isinstance(found, str):
            unplaced[test] = found
        else:
            placed.setdefault(found.key, []).append((test, found))
    default_stack = _default_stack_config(definitions, preset, environ)
    order = {name: index for index, name in enumerate(definitions.setups)}
    runs: list[RunPlan] = []
    for key in sorted(placed, key=lambda k: (order.get(k[0], len(order)), k[1] != (), k[2] or "")):
        members = placed[key]
        setup, options, stack = key
        stack_why: list[str] = []
        if stack is None and default_stack is not None:
            stack, stack_why = default_stack
        extras = [f"{SETUP_OPTION}={setup}", *(f"{option}={value}" for option, value in options)]
        if stack is not None:
            extras.append(f"{STACK_OPTION}={stack}")
        tests = sorted(test for test, _config in members)
        argv = command_argv(["pytest", *extras, NODE_IDS], preset.args if preset else (), tests, "")
        why = sorted({config.why for _test, config in members})
        if options:
            why.append(f"{', '.join(f'{o}={v}' for o, v in options)}: what {CI_SCRIPT} passes to every run")
        suites = sorted({config.suite for _test, config in members if config.suite})
        runs.append(RunPlan(argv=argv, env=env, tests=tests, setup=setup, suites=suites, why=why + stack_why))
    return Placement(runs=runs, unplaced=unplaced)


def _default_stack_config(
    definitions: SuiteDefinitions, preset: Preset | None, environ: Mapping[str, str]
) -> tuple[str, list[str]] | None:
    """`ci-tests`, the distribution CI's library client runs, when the package ships it and the environment
    names no stack (`OGX_CONFIG`): the suite's fixtures need one."""
    variable = preset.config_variable if preset else None
    if variable is None or environ.get(variable) or CI_DISTRIBUTION not in definitions.distributions:
        return None
    return CI_DISTRIBUTION, [f"{STACK_OPTION}={CI_DISTRIBUTION}: the distribution CI runs ({variable} is not set)"]
