"""The integration suite of an OGX or llama-stack repository, read as data (syntax trees and JSON, never imported
or run): the setups and their default models and environment, the suites and their roots (`suites.py`), the CI
matrix (`ci_matrix.json`), the options the CI script always passes, and how the conftest sets record mode and
turns options into parametrization ids (`conftest.py`).

Every value is checked before use: a setup name, an option value or a variable name that could act as an option,
hold a control character or climb out of the project is dropped with a note, and the rest is read."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from llm_fixtures.safepaths import read_regular

INTEGRATION = "tests/integration"
SUITES_FILE = f"{INTEGRATION}/suites.py"
CONFTEST_FILE = f"{INTEGRATION}/conftest.py"
# Where a conftest that sets record mode is looked for, the suite's own first.
CONFTEST_CANDIDATES = (CONFTEST_FILE, "tests/conftest.py", "conftest.py")
MATRIX_FILE = f"{INTEGRATION}/ci_matrix.json"
CI_SCRIPT = "scripts/integration-tests.sh"
# The largest definition file read: the real ones are 5 to 25 KB.
MAX_SOURCE = 2 * 1024 * 1024
MODE_OPTION = "--inference-mode"
SETUP_OPTION = "--setup"
# The recorder's mode variable: OGX_TEST_INFERENCE_MODE, LLAMA_STACK_TEST_INFERENCE_MODE.
MODE_VARIABLE = re.compile(r"[A-Z][A-Z0-9_]*_TEST_INFERENCE_MODE")
# A name that goes on a command line as `--setup=<name>`: never an option, never a control character.
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+:@/-]*")
_MAX_VALUE = 512


def safe_value(value: object) -> str | None:
    """`value` as a command-line option value or environment value read from data, or None when it is not a
    short printable string (a control character, a NUL, a leading `-` or `@`, over 512 characters)."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    text = str(value)
    if not text or len(text) > _MAX_VALUE or text[0] in "-@":
        return None
    if any(ord(char) < 32 or ord(char) == 127 for char in text):
        return None
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return None
    return text


def safe_name(value: object) -> str | None:
    """A setup, suite or client name: letters, digits and `_.+:@/-`, not starting with a punctuation mark."""
    return value if isinstance(value, str) and len(value) <= 128 and _NAME.fullmatch(value) else None


@dataclass(frozen=True, slots=True)
class Setup:
    """A setup of `SETUP_DEFINITIONS`: its environment and its default option values (by option dest,
    `text_model`...)."""

    name: str
    env: dict[str, str]
    defaults: dict[str, str | int]


@dataclass(frozen=True, slots=True)
class Suite:
    """A suite of `SUITE_DEFINITIONS`. `roots`: paths relative to the project (a folder, a file, or
    `file::function`); None when they could not be read as data."""

    name: str
    roots: tuple[str, ...] | None
    default_setup: str | None


@dataclass(frozen=True, slots=True)
class MatrixEntry:
    """One CI job of `ci_matrix.json`: a suite run with a setup (and a stack config, and the clients allowed)."""

    suite: str
    setup: str
    stack_config: str | None = None
    allowed_clients: tuple[str, ...] | None = None
    group: str = "default"


@dataclass(frozen=True, slots=True)
class ModelOption:
    """An option the conftest turns into a parametrization id part: `--text-model` gives `txt=<value>` to the
    tests that take `text_model_id`; `dest` is where pytest keeps its value (`text_model`)."""

    fixture: str
    option: str
    prefix: str

    @property
    def dest(self) -> str:
        return self.option.lstrip("-").replace("-", "_")


@dataclass(frozen=True, slots=True)
class Conftest:
    """What the suite's conftest says. `mode_variable`: the recorder's mode variable it names;
    `writes_mode_from_option`: it sets that variable from `--inference-mode` (whose default is replay), so the
    variable alone does not record; `options`: every option it adds, with its default; `model_options`: the
    options that make id parts; `short_ids`: model names shortened in ids."""

    path: str
    mode_variable: str | None = None
    writes_mode_from_option: bool = False
    options: dict[str, Any] = field(default_factory=dict)
    model_options: tuple[ModelOption, ...] = ()
    short_ids: dict[str, str] = field(default_factory=dict)

    @property
    def has_mode_option(self) -> bool:
        return MODE_OPTION in self.options

    @property
    def has_setup_option(self) -> bool:
        return SETUP_OPTION in self.options

    def option_default(self, dest: str) -> Any:
        for option, default in self.options.items():
            if option.lstrip("-").replace("-", "_") == dest:
                return default
        return None


@dataclass(slots=True)
class SuiteDefinitions:
    """Everything read, and a note for each part that could not be (the rest is still used)."""

    setups: dict[str, Setup] = field(default_factory=dict)
    suites: dict[str, Suite] = field(default_factory=dict)
    matrix: list[MatrixEntry] = field(default_factory=list)
    script_options: dict[str, str] = field(default_factory=dict)  # option -> value the CI script always passes
    conftest: Conftest | None = None
    distributions: frozenset[str] = frozenset()
    found: list[str] = field(default_factory=list)  # the files read, relative to the project
    notes: list[str] = field(default_factory=list)


# --- reading files ---------------------------------------------------------------------------------------


def _source(root: Path, relative: str, notes: list[str]) -> str | None:
    path = root / relative
    if not path.is_file():
        return None
    try:
        return read_regular(path, MAX_SOURCE).decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        notes.append(f"{relative}: not read ({getattr(exc, 'strerror', None) or exc})")
        return None


def _parse(text: str, relative: str, notes: list[str]) -> ast.Module | None:
    try:
        return ast.parse(text, filename=relative)
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        notes.append(f"{relative}: not Python this can read ({type(exc).__name__})")
        return None


def _literal(node: ast.AST | None) -> Any:
    """The value of a literal expression (strings, numbers, lists, tuples, dicts), or None."""
    if node is None:
        return None
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, RecursionError, MemoryError):
        return None


def _module_assignments(tree: ast.Module) -> dict[str, ast.expr]:
    """`NAME = value` and `NAME: type = value` at the top of a module, by name (the last one wins)."""
    found: dict[str, ast.expr] = {}
    for statement in tree.body:
        if isinstance(statement, ast.Assign):
            for target in statement.targets:
                if isinstance(target, ast.Name):
                    found[target.id] = statement.value
        elif (
            isinstance(statement, ast.AnnAssign)
            and statement.value is not None
            and isinstance(statement.target, ast.Name)
        ):
            found[statement.target.id] = statement.value
    return found


def _call_keywords(node: ast.expr) -> dict[str, ast.expr] | None:
    """The keyword arguments of a call such as `Setup(name=..., env={...})`."""
    if not isinstance(node, ast.Call):
        return None
    return {keyword.arg: keyword.value for keyword in node.keywords if keyword.arg is not None}


# --- suites.py ---------------------------------------------------------------------------------------------


def _string_dict(value: Any) -> dict[str, str] | None:
    if not isinstance(value, dict):
        return None
    out: dict[str, str] = {}
    for key, item in value.items():
        text = safe_value(item)
        if not isinstance(key, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key) or text is None:
            return None
        out[key] = text
    return out


def _defaults(value: Any) -> dict[str, str | int] | None:
    if not isinstance(value, dict):
        return None
    out: dict[str, str | int] = {}
    for key, item in value.items():
        if not isinstance(key, str) or not re.fullmatch(r"[a-z_][a-z0-9_]*", key) or safe_value(item) is None:
            return None
        out[key] = item
    return out


def _calls(
    node: ast.expr | None, relative: str, table: str, kind: str, notes: list[str]
) -> Iterator[tuple[str, dict[str, ast.expr]]]:
    """`(name, keyword arguments)` of each `"name": Kind(...)` entry of a `TABLE = {...}` dict; a note for each
    entry of another form, and for a table that is not a dict."""
    if not isinstance(node, ast.Dict):
        notes.append(f"{relative}: no {table} dict")
        return
    for key_node, value_node in zip(node.keys, node.values, strict=True):
        name = safe_name(_literal(key_node))
        keywords = _call_keywords(value_node)
        if name is None or keywords is None:
            notes.append(f'{relative}: an entry of {table} that is not `"name": {kind}(...)` was skipped')
            continue
        yield name, keywords


def _setups(node: ast.expr | None, relative: str, notes: list[str]) -> dict[str, Setup]:
    setups: dict[str, Setup] = {}
    for name, keywords in _calls(node, relative, "SETUP_DEFINITIONS", "Setup", notes):
        env = _string_dict(_literal(keywords.get("env"))) if "env" in keywords else {}
        defaults = _defaults(_literal(keywords.get("defaults"))) if "defaults" in keywords else {}
        if env is None or defaults is None:
            notes.append(f"{relative}: setup {name!r} has env or defaults that are not plain values; skipped")
            continue
        setups[name] = Setup(name, env, defaults)
    return setups


def _glob_roots(node: ast.ListComp, folder: Path, root: Path) -> tuple[str, ...] | None:
    """`[str(p) for p in this_dir.glob("*") if p.is_dir() and p.name not in (...)]`: every folder beside
    suites.py but the excluded names, as the suites' `base_roots` is written (both eras)."""
    if len(node.generators) != 1:
        return None
    generator = node.generators[0]
    iterated = generator.iter
    if not (
        isinstance(iterated, ast.Call)
        and isinstance(iterated.func, ast.Attribute)
        and iterated.func.attr == "glob"
        and [_literal(arg) for arg in iterated.args] == ["*"]
    ):
        return None
    excluded: set[str] = set()
    wants_dirs = False
    for condition in generator.ifs:
        parts = condition.values if isinstance(condition, ast.BoolOp) else [condition]
        for part in parts:
            if isinstance(part, ast.Call) and isinstance(part.func, ast.Attribute) and part.func.attr == "is_dir":
                wants_dirs = True
            elif isinstance(part, ast.Compare) and len(part.ops) == 1 and isinstance(part.ops[0], ast.NotIn):
                names = _literal(part.comparators[0])
                if not isinstance(names, list | tuple | set) or not all(isinstance(n, str) for n in names):
                    return None
                excluded.update(names)
            else:
                return None
    try:
        children = sorted(child for child in folder.iterdir() if not wants_dirs or child.is_dir())
    except OSError:
        return None
    return tuple(
        child.relative_to(root).as_posix()
        for child in children
        if child.name not in excluded and not child.is_symlink()
    )


def _roots(node: ast.expr | None, assignments: dict[str, ast.expr], folder: Path, root: Path) -> tuple[str, ...] | None:
    if isinstance(node, ast.Name):
        node = assignments.get(node.id)
    if isinstance(node, ast.ListComp):
        return _glob_roots(node, folder, root)
    value = _literal(node)
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        return None
    return tuple(value)


def _suites(
    node: ast.expr | None, assignments: dict[str, ast.expr], folder: Path, root: Path, notes: list[str]
) -> dict[str, Suite]:
    relative = f"{folder.relative_to(root).as_posix()}/suites.py"
    suites: dict[str, Suite] = {}
    for name, keywords in _calls(node, relative, "SUITE_DEFINITIONS", "Suite", notes):
        roots = _roots(keywords.get("roots"), assignments, folder, root)
        if roots is None:
            notes.append(f"{relative}: the roots of suite {name!r} are not data this can read")
        default = safe_name(_literal(keywords.get("default_setup")))
        suites[name] = Suite(name, roots, default)
    return suites


# --- ci_matrix.json, the CI script -----------------------------------------------------------------------


def _entries(value: Any, group: str) -> Iterator[dict[str, Any]]:
    if isinstance(value, list):
        for item in value:
            if isinstance(item, dict):
                yield {**item, "__group": group}
    elif isinstance(value, dict):  # schedules: cron -> entries
        for entries in value.values():
            yield from _entries(entries, group)


def _matrix(data: bytes, setups: dict[str, Setup], suites: dict[str, Suite], notes: list[str]) -> list[MatrixEntry]:
    try:
        document = orjson.loads(data)
    except orjson.JSONDecodeError:
        notes.append(f"{MATRIX_FILE}: not JSON")
        return []
    if not isinstance(document, dict):
        notes.append(f"{MATRIX_FILE}: not a JSON object")
        return []
    entries: list[MatrixEntry] = []
    groups = sorted(document, key=lambda group: group != "default")  # the jobs of every pull request first
    for group in groups:
        for item in _entries(document[group], str(group)):
            suite, setup = safe_name(item.get("suite")), safe_name(item.get("setup"))
            if suite is None or setup is None or suite not in suites or setup not in setups:
                notes.append(f"{MATRIX_FILE}: an entry of {group!r} names no known suite and setup; skipped")
                continue
            stack = item.get("stack_config")
            clients = item.get("allowed_clients")
            if stack is not None and safe_value(stack) is None:
                notes.append(f"{MATRIX_FILE}: the stack config of {suite}/{setup} is not a plain value; skipped")
                continue
            if clients is not None and (not isinstance(clients, list) or not all(safe_name(c) for c in clients)):
                clients = None
            entries.append(
                MatrixEntry(suite, setup, stack, tuple(clients) if clients is not None else None, str(group))
            )
    return entries


def _script_options(text: str, model_options: Iterable[ModelOption]) -> dict[str, str]:
    """The model options the CI script passes to every pytest run with a literal value
    (`--embedding-model=sentence-transformers/...`): they shape the ids of every recording CI makes."""
    found: dict[str, str] = {}
    for option in model_options:
        for match in re.finditer(rf"(?<![\w-]){re.escape(option.option)}=([^\s\"'$`\\;|&()]+)", text):
            value = safe_value(match.group(1))
            if value is not None:
                found.setdefault(option.option, value)
    return found


# --- conftest.py -------------------------------------------------------------------------------------------


def _functions(tree: ast.Module) -> dict[str, ast.FunctionDef]:
    return {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}


def _options(function: ast.FunctionDef | None) -> dict[str, Any]:
    """Every `parser.addoption("--name", ..., default=...)` of `pytest_addoption`, with its default."""
    options: dict[str, Any] = {}
    if function is None:
        return options
    for node in ast.walk(function):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "addoption":
            names = [_literal(arg) for arg in node.args]
            default = next((_literal(k.value) for k in node.keywords if k.arg == "default"), None)
            for name in names:
                if isinstance(name, str) and name.startswith("--"):
                    options[name] = default
    return options


def _is_mode_option_read(node: ast.expr) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "getoption"
        and [_literal(arg) for arg in node.args[:1]] == [MODE_OPTION]
    )


def _environ_key(target: ast.expr, constants: dict[str, ast.expr]) -> str | None:
    """`X` of an `os.environ["X"]` target (or `os.environ[NAME]` with `NAME = "X"` at the top of the module)."""
    if isinstance(target, ast.Subscript) and isinstance(target.value, ast.Attribute) and target.value.attr == "environ":
        index = target.slice
        key = _literal(constants.get(index.id) if isinstance(index, ast.Name) else index)
        return key if isinstance(key, str) else None
    return None


def _writes_mode_from_option(tree: ast.Module, variable: str) -> bool:
    """Whether some function sets `os.environ[variable]` from `getoption("--inference-mode")`, directly or
    through a local name."""
    constants = _module_assignments(tree)
    for function in ast.walk(tree):
        if not isinstance(function, ast.FunctionDef):
            continue
        from_option: set[str] = set()
        for node in ast.walk(function):
            if isinstance(node, ast.Assign) and _is_mode_option_read(node.value):
                from_option.update(t.id for t in node.targets if isinstance(t, ast.Name))
        for node in ast.walk(function):
            if not isinstance(node, ast.Assign):
                continue
            if not any(_environ_key(target, constants) == variable for target in node.targets):
                continue
            value = node.value
            if _is_mode_option_read(value) or (isinstance(value, ast.Name) and value.id in from_option):
                return True
    return False


def _model_options(tree: ast.Module) -> tuple[ModelOption, ...]:
    """The `fixture_configs` table of `pytest_generate_tests`: fixture name -> (option, id prefix)."""
    function = _functions(tree).get("pytest_generate_tests")
    if function is None:
        return ()
    for node in ast.walk(function):
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) for t in node.targets):
            table = _literal(node.value)
            if not isinstance(table, dict) or not table:
                continue
            options: list[ModelOption] = []
            for fixture, spec in table.items():
                if (
                    isinstance(fixture, str)
                    and isinstance(spec, tuple | list)
                    and len(spec) == 2
                    and all(isinstance(part, str) for part in spec)
                    and spec[0].startswith("--")
                    and re.fullmatch(r"[a-z]+", spec[1])
                ):
                    options.append(ModelOption(fixture, spec[0], spec[1]))
            if options and len(options) == len(table):
                return tuple(options)
    return ()


def _mode_variable(text: str) -> str | None:
    names = [match.group(0) for match in MODE_VARIABLE.finditer(text)]
    return max(set(names), key=names.count) if names else None


def read_conftest(root: Path, relative: str, notes: list[str]) -> Conftest | None:
    """What a conftest says about record mode and parametrization ids; None when there is none."""
    text = _source(root, relative, notes)
    if text is None:
        return None
    variable = _mode_variable(text)
    tree = _parse(text, relative, notes)
    if tree is None:
        return Conftest(relative, mode_variable=variable)
    short = _literal(_module_assignments(tree).get("MODEL_SHORT_IDS"))
    short_ids = (
        {k: v for k, v in short.items() if isinstance(k, str) and isinstance(v, str)} if isinstance(short, dict) else {}
    )
    return Conftest(
        relative,
        mode_variable=variable,
        writes_mode_from_option=variable is not None and _writes_mode_from_option(tree, variable),
        options=_options(_functions(tree).get("pytest_addoption")),
        model_options=_model_options(tree),
        short_ids=short_ids,
    )


def _distributions(root: Path) -> frozenset[str]:
    """The distributions the package ships (`src/ogx/distributions/ci-tests`, `llama_stack/distributions/...`)."""
    names: set[str] = set()
    for pattern in ("*/distributions/*", "src/*/distributions/*"):
        try:
            names.update(path.name for path in root.glob(pattern) if path.is_dir() and safe_name(path.name))
        except OSError:
            continue
    return frozenset(names)


def read_suite_definitions(root: Path) -> SuiteDefinitions:
    """The suite of the repository at `root`, as far as its files can be read (nothing found: all empty)."""
    found = SuiteDefinitions()
    notes = found.notes
    conftest = None
    for candidate in CONFTEST_CANDIDATES:
        read = read_conftest(root, candidate, notes)
        if read is not None and (conftest is None or (conftest.mode_variable is None and read.mode_variable)):
            conftest = read
        if conftest is not None and conftest.mode_variable is not None:
            break
    found.conftest = conftest
    if conftest is not None:
        found.found.append(conftest.path)
    text = _source(root, SUITES_FILE, notes)
    tree = _parse(text, SUITES_FILE, notes) if text is not None else None
    if tree is None:
        return found
    found.found.append(SUITES_FILE)
    assignments = _module_assignments(tree)
    found.setups = _setups(assignments.get("SETUP_DEFINITIONS"), SUITES_FILE, notes)
    found.suites = _suites(assignments.get("SUITE_DEFINITIONS"), assignments, root / INTEGRATION, root, notes)
    if (root / MATRIX_FILE).is_file():
        try:
            data = read_regular(root / MATRIX_FILE, MAX_SOURCE)
        except OSError as exc:
            notes.append(f"{MATRIX_FILE}: not read ({exc.strerror or exc})")
        else:
            found.found.append(MATRIX_FILE)
            found.matrix = _matrix(data, found.setups, found.suites, notes)
    script = _source(root, CI_SCRIPT, notes)
    if script is not None and conftest is not None:
        found.script_options = _script_options(script, conftest.model_options)
        if found.script_options:
            found.found.append(CI_SCRIPT)
    found.distributions = _distributions(root)
    return found
