"""Every ```console example of README.md is what the tool prints now: each block runs in a prepared temporary
project (the sample recordings, the shared cassettes, as the block's marker says), and every command's output must
be what the README shows under it.

Markers. An HTML comment right before a block (invisible on GitHub) names the state it runs in, and optionally the
folder, inside the prepared project, where its first command runs: `<!-- console: STATE -->` or
`<!-- console: STATE cwd=recordings -->`. The states are the functions of STATES below, each a small documented
setup in a fresh temporary folder.

Running. In a block, a line starting with `$ ` is a command (a line ending in `\\` goes on to the next); the lines
up to the next command are its output, and blank lines just before a command only separate. The commands of a block
run one after the other in one bash session (so `cd` carries over), with the `fixtures` and `pytest` of this Python
first on PATH, a private cache, no terminal: stdout and stderr go into one pipe, as `fixtures ... 2>&1 | cat` shows
them, which is the piped output (one line per item, whole values, never wrapped). Every command must exit 0 or 1;
2 or more is a failure, never an example.

Normalized, on both sides, and only what varies from run to run or machine to machine:
- the commit id `diff --git` prints after a revision (`HEAD (7e5fde6771)`): the example's repository is committed
  afresh by each run (another date, so another id);
- the line of pytest's log that `explain` names (`(log line 44)`): the log is pytest's own output, whose tracebacks
  are longer or shorter with another pytest or Python;
- the folders of an absolute path in a temporary folder (`/tmp/cm2/.fixtures-cassette-usage.json` reads
  `<tmp>/.fixtures-cassette-usage.json`), where pytest prints the path of the manifest it wrote;
- the seconds of pytest's summary line (`6 passed in 0.20s`);
- the port of the fake server an example sends requests to: the README's (`127.0.0.1:38783`) is replaced in the
  command by the port of this run's server, and back in the output.
Nothing else varies: the examples print relative paths, no dates, and sizes and hashes of files that are the same
every run.

Regenerating. After a change of output, `python tests/test_readme_examples.py` runs every block and writes what the
commands print now into README.md (a block whose state cannot be built here is left as it is, and named); review
the diff. Never edit this test to fit a README that drifted.
"""

from __future__ import annotations

import contextlib
import dataclasses
import difflib
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from test_cassettes_prune import CHAT, write_tests

import builders
from conftest import REPO, SAMPLES
from diffkit import commit_all, git, init_repo, read
from fakeserver import FakeServer
from vcrkit import SHARED_VCR, recorded_project

README = REPO / "README.md"
HERE = Path(__file__).resolve().parent
INFERENCE = "recordings/tests/integration/inference/recordings"
DEEPSEEK = "pydantic-ai/tests/models/cassettes/test_deepseek"
# The key the README's cassette examples plant (a made-up one, in the shape of an OpenAI project key).
PLANTED_KEY = "sk-proj-" + "Q9w8E7r6T5y4U3i2O1p0" * 2

_BLOCK = re.compile(
    r"<!-- console: (?P<state>[a-z-]+)(?P<options>[^>]*?)\s*-->\n```console\n(?P<body>.*?\n)```\n", re.DOTALL
)
_FIXTURES = re.compile(r"(?:^|&& )fixtures (\w+)")
_COMMIT = re.compile(r"^(?P<revision>\S+) \([0-9a-f]{7,40}\)(?= → )", re.MULTILINE)
_LOG_LINE = re.compile(r"\(log line \d+\)")
_TEMPORARY = re.compile(r"(?<![\w.])/(?:tmp|var/folders|private)/\S*/(?=[^/\s]+)")
_PYTEST_SECONDS = re.compile(r"^(=* ?\d+ \w+(?:, \d+ \w+)* in )\d+(?:\.\d+)?s\b", re.MULTILINE)
# The fake server's address as the README shows it; a run's server has a port of its own.
README_SERVER = "127.0.0.1:38783"


class Unavailable(Exception):
    """A state that cannot be built on this machine (a missing tool or shared data); its block is skipped."""


# --- the states ------------------------------------------------------------------------------------------------


@dataclasses.dataclass
class Prepared:
    """A state made: the project the block starts in, what its session's environment adds, and the README's text
    that stands for something of this run's (the fake server's address), with what it is this time."""

    project: Path
    env: dict[str, str] = dataclasses.field(default_factory=dict)
    stands_for: dict[str, str] = dataclasses.field(default_factory=dict)


def samples(root: Path, _: contextlib.ExitStack) -> Prepared:
    """The repository as a user has it: its pyproject.toml (`[tool.fixtures] roots`) and a copy of the sample
    recordings project, `recordings/`, in `project/`."""
    project = root / "project"
    project.mkdir()
    shutil.copyfile(REPO / "pyproject.toml", project / "pyproject.toml")
    shutil.copytree(SAMPLES, project / "recordings", ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"))
    return Prepared(project)


def samples_edited_in_git(root: Path, resources: contextlib.ExitStack) -> Prepared:
    """`samples` committed in a git repository, then the README's three edits in the working tree: the second tool
    call of 7710372b asks for fahrenheit, the answer of fe3696d6 says "SAturn" and lost its `service_tier`, and
    b4abc2ad is `git mv`ed to a 12-hex name."""
    prepared = samples(root, resources)
    project = prepared.project
    init_repo(project)  # writes a pyproject.toml of its own: put the repository's back
    shutil.copyfile(REPO / "pyproject.toml", project / "pyproject.toml")
    commit_all(project, "the sample recordings")
    folder = project / INFERENCE

    def edit(name: str, change: Callable[[dict[str, Any]], None]) -> None:
        raw = read(folder / name)
        change(raw)
        builders.write_recording(folder / name, raw)

    def fahrenheit(raw: dict[str, Any]) -> None:
        function = raw["response"]["body"][10]["__data__"]["choices"][0]["delta"]["tool_calls"][0]["function"]
        function["arguments"] = function["arguments"].replace("celsius", "fahrenheit")

    def saturn(raw: dict[str, Any]) -> None:
        raw["response"]["body"][1]["__data__"]["choices"][0]["delta"]["content"] = "SAt"  # "Sat" + "urn"
        for chunk in raw["response"]["body"]:
            del chunk["__data__"]["service_tier"]

    edit("7710372bff77e3f1934bfaa9eee862b29504d010f7cb7b092b856c66d5fe3191.json", fahrenheit)
    edit("fe3696d6eb3f69cd05943d4b34d007b38dd63b1dbd2fcadcb89a5af4e74b1b2a.json", saturn)
    old = f"{INFERENCE}/b4abc2ada7fbcb5e90675da32f15433b013cda77d8936c4045e9f4de0bea9d1f.json"
    git(project, "mv", old, f"{INFERENCE}/b4abc2ada7fb.json")
    return prepared


def sample_replay(root: Path, resources: contextlib.ExitStack) -> Prepared:
    """`samples` with the replay stand-in beside it, in `project/tests/` (the README's `PYTHONPATH=../tests`):
    tests/samplereplay.py and the recorder it uses. The sample's tests need their own dependency, `openai`."""
    if importlib.util.find_spec("openai") is None:
        raise Unavailable("the sample project's tests need openai, which is not installed")
    prepared = samples(root, resources)
    (prepared.project / "tests").mkdir()
    for module in ("samplereplay.py", "upstreamrecorder.py"):
        shutil.copyfile(HERE / module, prepared.project / "tests" / module)
    return prepared


def shared_cassettes(root: Path, _: contextlib.ExitStack) -> Prepared:
    """The shared cassettes with their test modules (`../shared/vcr`: `pydantic-ai/`, `crewai/`, `openllmetry/`)
    in a project (a pyproject.toml beside them)."""
    if not SHARED_VCR.is_dir():
        raise Unavailable("../shared/vcr is not present")
    project = root / "project"
    shutil.copytree(SHARED_VCR, project, ignore=shutil.ignore_patterns("SOURCE", "README.md"))
    for path in [project, *project.rglob("*")]:  # shared/ is laid out read-only
        path.chmod(0o755 if path.is_dir() else 0o644)
    (project / "pyproject.toml").write_text('[project]\nname = "demo"\n')
    return Prepared(project)


def shared_cassettes_planted(root: Path, resources: contextlib.ExitStack) -> Prepared:
    """`shared-cassettes` with what the README plants: a copy of test_deepseek_model_thinking_part.yaml as the
    cassette of a test that does not exist (test_deepseek_removed.yaml), then an OpenAI key as the authorization
    header of that cassette's first request (line 5)."""
    prepared = shared_cassettes(root, resources)
    cassette = prepared.project / DEEPSEEK / "test_deepseek_model_thinking_part.yaml"
    shutil.copyfile(cassette, cassette.with_name("test_deepseek_removed.yaml"))
    text = cassette.read_text()
    header = f"      authorization:\n      - Bearer {PLANTED_KEY}\n"
    cassette.write_text(text.replace("      accept:\n", header + "      accept:\n", 1))
    return prepared


def shared_cassettes_served(root: Path, resources: contextlib.ExitStack) -> Prepared:
    """`shared-cassettes` and the test suite's fake server (tests/fakeserver.py) on 127.0.0.1, as the README's
    `--base-url`, with a made-up key in `OPENAI_API_KEY`."""
    prepared = shared_cassettes(root, resources)
    server = resources.enter_context(FakeServer())
    prepared.env["OPENAI_API_KEY"] = "sk-test-" + "k" * 40
    prepared.stands_for[README_SERVER] = server.url.removeprefix("http://")
    return prepared


def cassettes_replayed(root: Path, resources: contextlib.ExitStack) -> Prepared:
    """The README's project whose tests were recorded with pytest-recording (test_cassettes_prune's: two requests
    in test_two, three parametrizations, a test that uses VCR), against the fake server, then changed (test_param's
    `b/c` gone, test_mark_dropped's VCR mark dropped, test_two making one request), with its `--collect` command in
    `[tool.fixtures.prune]`; `FAKE_URL` names the server, as the replay needs."""
    server = resources.enter_context(FakeServer())
    project = root / "project"
    project.mkdir()
    collect = [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", "tests"]
    pyproject = f"[tool.fixtures.prune]\ncollect = [{json.dumps(collect)}]\n"
    source = CHAT.replace("WORDS", '["a", "b/c", "d"]').replace("MARK", "@pytest.mark.vcr")
    recorded_project(project, source, pyproject, FAKE_URL=server.url, MORE="1")
    write_tests(project, '["a", "d"]', "")
    return Prepared(project, env={"FAKE_URL": server.url})


STATES: dict[str, Callable[[Path, contextlib.ExitStack], Prepared]] = {
    "samples": samples,
    "samples-edited-in-git": samples_edited_in_git,
    "sample-replay": sample_replay,
    "shared-cassettes": shared_cassettes,
    "shared-cassettes-planted": shared_cassettes_planted,
    "shared-cassettes-served": shared_cassettes_served,
    "cassettes-replayed": cassettes_replayed,
}


# --- the blocks ------------------------------------------------------------------------------------------------


@dataclasses.dataclass
class Command:
    text: str  # as written after `$ `, continuation lines included
    expected: str  # the output shown, without the blank lines that separate it from the next command
    separator: int  # those blank lines


@dataclasses.dataclass
class Block:
    line: int  # of the ```console fence in README.md
    state: str
    cwd: str
    commands: list[Command]
    start: int  # the span of the block's body in the README's text
    end: int

    def __str__(self) -> str:
        found = (_FIXTURES.search(command.text) for command in self.commands)
        return f"README.md:{self.line}-" + next(match.group(1) for match in found if match)


def parse_commands(body: str) -> list[Command]:
    commands: list[Command] = []
    lines = body.removesuffix("\n").split("\n")
    number = 0
    while number < len(lines):
        line = lines[number]
        if line.startswith("$ "):
            text = [line[2:]]
            while text[-1].endswith("\\"):
                number += 1
                text.append(lines[number])
            commands.append(Command("\n".join(text), "", 0))
        else:
            assert commands, f"output before any command: {line!r}"
            commands[-1].expected += line + "\n"
        number += 1
    for command in commands:
        output = command.expected.rstrip("\n")
        command.separator = command.expected.count("\n") - output.count("\n") - (1 if output else 0)
        command.expected = output
    return commands


def readme_blocks(text: str) -> list[Block]:
    blocks = []
    for match in _BLOCK.finditer(text):
        options = dict(option.split("=", 1) for option in match.group("options").split())
        assert set(options) <= {"cwd"}, f"unknown marker options {options}"
        line = text.count("\n", 0, match.start("body"))
        commands = parse_commands(match.group("body"))
        state, cwd = match.group("state"), options.get("cwd", ".")
        blocks.append(Block(line, state, cwd, commands, match.start("body"), match.end("body")))
    return blocks


BLOCKS = readme_blocks(README.read_text(encoding="utf-8"))


# --- running ---------------------------------------------------------------------------------------------------


def session_env(cache: Path) -> dict[str, str]:
    """This Python's scripts first on PATH, a private cache, and nothing that would change what a user sees."""
    dropped = {"COLUMNS", "LINES", "FORCE_COLOR", "CLICOLOR_FORCE", "PY_COLORS", "NO_COLOR", "PYTHONPATH"}
    env = {key: value for key, value in os.environ.items() if key not in dropped and not key.startswith("PYTEST_")}
    env["PATH"] = os.pathsep.join([sysconfig.get_path("scripts"), env.get("PATH", "")])
    env["XDG_CACHE_HOME"] = str(cache)
    return env


def run_block(block: Block, root: Path) -> list[tuple[int, str]]:
    """Build the block's state under `root`, run its commands in one bash session; (exit code, output) each, the
    output saying what the README's stand-ins stand for as the README says it."""
    if any(re.search(r"\|\s*jq\b", command.text) for command in block.commands) and shutil.which("jq") is None:
        raise Unavailable("jq is not installed")
    runs = root / "runs"
    runs.mkdir()
    with contextlib.ExitStack() as resources:
        prepared = STATES[block.state](root, resources)
        script = ["exec </dev/null", f"cd {block.cwd}"]
        for number, command in enumerate(block.commands):
            text = command.text
            for shown, actual in prepared.stands_for.items():
                text = text.replace(shown, actual)
            script.append(f"{{ {text}\n}} >{runs}/{number}.out 2>&1; echo $? >{runs}/{number}.rc")
        env = session_env(root / "cache") | prepared.env
        subprocess.run(["bash", "-c", "\n".join(script)], cwd=prepared.project, env=env, timeout=600, check=True)
    results = []
    for number in range(len(block.commands)):
        output = (runs / f"{number}.out").read_text().rstrip("\n")
        for shown, actual in prepared.stands_for.items():
            output = output.replace(actual, shown)
        results.append((int((runs / f"{number}.rc").read_text()), output))
    return results


def normalized(output: str) -> str:
    output = _COMMIT.sub(r"\g<revision> (<commit>)", output)
    output = _LOG_LINE.sub("(log line N)", output)
    output = _TEMPORARY.sub("<tmp>/", output)
    return _PYTEST_SECONDS.sub(r"\g<1><seconds>s", output)


# --- the tests -------------------------------------------------------------------------------------------------


def test_every_console_block_is_run() -> None:
    """A block without a marker, or a marker naming no state, must not silently go untested."""
    text = README.read_text(encoding="utf-8")
    assert len(BLOCKS) == text.count("```console\n") >= 14
    assert {block.state for block in BLOCKS} <= set(STATES)
    assert set(STATES) <= {block.state for block in BLOCKS}, "a state no block uses"
    for block in BLOCKS:
        assert any(_FIXTURES.search(command.text) for command in block.commands), f"{block.line}: no fixtures command"


def test_a_block_is_read_as_commands_and_their_outputs() -> None:
    body = "$ cd x\n$ fixtures a \\\n    --b\nout 1\n\nout 2\n\n$ fixtures c\n$ fixtures d | jq .\n{\n}\n"
    commands = parse_commands(body)
    assert [(c.text, c.expected, c.separator) for c in commands] == [
        ("cd x", "", 0),
        ("fixtures a \\\n    --b", "out 1\n\nout 2", 1),
        ("fixtures c", "", 0),
        ("fixtures d | jq .", "{\n}", 0),
    ]
    block = Block(1, "samples", ".", commands, 0, len(body))
    assert regenerated(block, [(0, c.expected) for c in commands]) == body


def test_only_what_varies_is_normalized() -> None:
    assert normalized("HEAD (7e5fde6771) → working tree: 22 pairs") == "HEAD (<commit>) → working tree: 22 pairs"
    assert normalized("missed    POST x · hash 96328  (log line 44)") == "missed    POST x · hash 96328  (log line N)"
    assert normalized("manifest: /tmp/cm2/.usage.json") == normalized("manifest: /tmp/pytest-of-a/b/c/.usage.json")
    assert normalized("6 passed in 0.20s") == normalized("6 passed in 12.05s") == "6 passed in <seconds>s"
    assert normalized("1 failed, 2 passed in 3s") == "1 failed, 2 passed in <seconds>s"
    kept = ["6fe671d7e743  tests/x.py::t  /v1/responses", "moved    a.json (7e5fde6771)", "1 renamed", "/tmp/x"]
    kept += ["recordings/tests/a.json  1.6 KB", "took 0.20s", "$ OGX=record pytest -- 'tests/x.py::t[a/b]'"]
    for line in kept:
        assert normalized(line) == line


@pytest.mark.parametrize("block", BLOCKS, ids=str)
def test_a_readme_example_is_what_the_tool_prints(block: Block, tmp_path: Path) -> None:
    try:
        results = run_block(block, tmp_path)
    except Unavailable as why:
        pytest.skip(str(why))
    for command, (code, output) in zip(block.commands, results, strict=True):
        assert code in (0, 1), f"{block}: `{command.text}` exited {code}:\n{output}"
        if normalized(output) != normalized(command.expected):
            diff = difflib.unified_diff(
                command.expected.splitlines(), output.splitlines(), "README.md", "the tool now", lineterm=""
            )
            pytest.fail(
                f"{block}: `$ {command.text}` prints otherwise; regenerate the README with "
                f"`python tests/test_readme_examples.py` and review the diff:\n" + "\n".join(diff)
            )


# --- regenerating ----------------------------------------------------------------------------------------------


def regenerated(block: Block, results: list[tuple[int, str]]) -> str:
    lines = []
    for command, (_, now) in zip(block.commands, results, strict=True):
        lines.append(f"$ {command.text}")
        output = command.expected if normalized(now) == normalized(command.expected) else now
        if output:
            lines.append(output)
        lines.extend([""] * command.separator)
    return "\n".join(lines) + "\n"


def main() -> int:
    text = README.read_text(encoding="utf-8")
    pieces, done = [], 0
    for block in BLOCKS:
        with tempfile.TemporaryDirectory() as folder:
            try:
                results = run_block(block, Path(folder))
            except Unavailable as why:
                print(f"{block}: left as it is: {why}", file=sys.stderr)  # noqa: T201
                continue
        failed = [(c.text, code) for c, (code, _) in zip(block.commands, results, strict=True) if code not in (0, 1)]
        if failed:
            print(f"{block}: left as it is: {failed[0][0]!r} exited {failed[0][1]}", file=sys.stderr)  # noqa: T201
            continue
        pieces += [text[done : block.start], regenerated(block, results)]
        done = block.end
    pieces.append(text[done:])
    new = "".join(pieces)
    if new != text:
        README.write_text(new, encoding="utf-8")
    print(f"README.md: {'rewritten' if new != text else 'unchanged'}", file=sys.stderr)  # noqa: T201
    return 0


if __name__ == "__main__":
    sys.exit(main())
