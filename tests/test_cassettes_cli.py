"""Every command on VCR cassettes, end to end through the CLI, on a copy of `../shared/vcr` made into a project."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from llm_fixtures.app import app
from vcrkit import CASSETTES, SHARED_VCR, recorded_project

needs_shared = pytest.mark.skipif(not CASSETTES, reason="../shared/vcr is not present")

OPENAI_KEY = "sk-proj-" + "Q9w8E7r6T5y4U3i2O1p0" * 2
DEEPSEEK = "pydantic-ai/tests/models/cassettes/test_deepseek"
STREAM = f"{DEEPSEEK}/test_deepseek_model_thinking_stream.yaml"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the shared cassettes with their test modules, as a project (a pyproject.toml at its root)."""
    if not CASSETTES:
        pytest.skip("../shared/vcr is not present")
    root = tmp_path / "project"
    shutil.copytree(SHARED_VCR, root, ignore=shutil.ignore_patterns("SOURCE", "README.md"))
    for path in [root, *root.rglob("*")]:  # shared/ is laid out read-only
        path.chmod(0o755 if path.is_dir() else 0o644)
    (root / "pyproject.toml").write_text('[project]\nname = "demo"\n')
    monkeypatch.chdir(root)
    return root


def lines(output: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in output.splitlines() if line.strip()]


def invoke(runner: CliRunner, *args: str) -> Any:
    return runner.invoke(app, list(args), catch_exceptions=False)


# --- ls --------------------------------------------------------------------------------------------------------


@pytest.mark.usefixtures("project")
def test_ls_lists_every_cassette_of_the_project(runner: CliRunner) -> None:
    result = invoke(runner, "ls", "--json")
    assert result.exit_code == 0, result.stderr
    rows = lines(result.stdout)
    assert len(rows) == len(CASSETTES) == 127
    by_path = {row["path"]: row for row in rows}
    stream = by_path[STREAM]
    assert {key: stream[key] for key in ("format", "interactions", "endpoint", "model", "provider", "streaming")} == {
        "format": "vcr",
        "interactions": 1,
        "endpoint": "/chat/completions",
        "model": "deepseek-reasoner",
        "provider": "deepseek",
        "streaming": True,
    }
    assert stream["chunks"] == 211
    assert sum(row["format"] == "websocket" for row in rows) == 10


@pytest.mark.usefixtures("project")
def test_ls_interactions_one_row_each_with_path_and_index(runner: CliRunner) -> None:
    result = invoke(runner, "ls", "--json", "--interactions", DEEPSEEK)
    rows = lines(result.stdout)
    assert [(Path(row["path"]).name, row["interaction"]) for row in rows] == [
        ("test_deepseek_deferred_capability_with_thinking.yaml", 0),
        ("test_deepseek_deferred_capability_with_thinking.yaml", 1),
        ("test_deepseek_deferred_capability_with_thinking.yaml", 2),
        ("test_deepseek_model_thinking_part.yaml", 0),
        ("test_deepseek_model_thinking_stream.yaml", 0),
    ]
    assert {row["model"] for row in rows} == {"deepseek-reasoner"}
    assert [row["streaming"] for row in rows] == [False, False, False, False, True]


@pytest.mark.usefixtures("project")
def test_ls_filters_apply_to_cassettes(runner: CliRunner) -> None:
    anthropic = lines(invoke(runner, "ls", "--json", "--provider", "anthropic").stdout)
    assert anthropic and all("anthropic" in row["providers"] for row in anthropic)
    streams = lines(invoke(runner, "ls", "--json", "--stream", "--interactions").stdout)
    assert streams and all(row["streaming"] for row in streams)
    tests = lines(invoke(runner, "ls", "--json", "--test", "*test_openrouter.py::*reasoning*").stdout)
    assert sorted(Path(row["path"]).name for row in tests) == [
        "test_openrouter_stream_with_reasoning.yaml",
        "test_openrouter_with_reasoning.yaml",
    ]


@pytest.mark.usefixtures("project")
def test_ls_group_by_counts_cassettes_and_interactions(runner: CliRunner) -> None:
    every = lines(invoke(runner, "ls", "--json").stdout)
    by_model = lines(invoke(runner, "ls", "--json", "--group-by", "model").stdout)
    assert {row["of"] for row in by_model} == {"cassettes"}
    deepseek = next(row for row in by_model if row["key"] == "deepseek-reasoner")
    assert deepseek["count"] == sum("deepseek-reasoner" in row["models"] for row in every) == 3
    assert deepseek["bytes"] == sum(row["bytes"] for row in every if "deepseek-reasoner" in row["models"])
    # A cassette counts once under each model its interactions use; one without a model under `(none)`.
    assert sum(row["count"] for row in by_model) == sum(max(1, len(row["models"])) for row in every)
    by_file = lines(invoke(runner, "ls", "--json", "--group-by", "test-file").stdout)
    assert sum(row["count"] for row in by_file) == len(every)
    assert {"pydantic-ai/tests/models/test_deepseek.py": 3}.items() <= {r["key"]: r["count"] for r in by_file}.items()
    interactions = lines(invoke(runner, "ls", "--json", "--interactions").stdout)
    by_provider = lines(invoke(runner, "ls", "--json", "--interactions", "--group-by", "provider").stdout)
    assert {row["of"] for row in by_provider} == {"interactions"}
    assert sum(row["count"] for row in by_provider) == len(interactions)
    anthropic = next(row for row in by_provider if row["key"] == "anthropic")
    assert anthropic["count"] == sum(row["provider"] == "anthropic" for row in interactions)
    limited = lines(
        invoke(runner, "ls", "--json", "--group-by", "endpoint", "--limit", "2", "--provider", "openai").stdout
    )
    assert len(limited) == 2
    table = invoke(runner, "ls", "--group-by", "test", "--interactions", DEEPSEEK)
    assert table.stdout.splitlines()[0].split() == ["test", "interactions", "size"]


def test_ls_group_by_shows_recordings_and_cassettes_apart(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "pyproject.toml").write_text("")
    plant(tmp_path, "tests/cassettes/test_a/test_b.yaml")
    shutil.copytree(Path(__file__).parents[1] / "recordings" / "tests", tmp_path / "recordings" / "tests")
    monkeypatch.chdir(tmp_path)
    rows = lines(invoke(runner, "ls", "--json", "--group-by", "provider").stdout)
    assert [row["key"] for row in rows if row.get("of") == "cassettes"] == ["openai"]
    assert any("of" not in row for row in rows)  # the recordings' groups, as before
    human = invoke(runner, "ls", "--group-by", "provider").stdout
    assert "recordings" in human.splitlines()[0] and any(
        line.split()[:2] == ["provider", "cassettes"] for line in human.splitlines()
    )


@needs_shared
def test_ls_table_and_warm_cache(runner: CliRunner, project: Path) -> None:
    cold = invoke(runner, "ls", DEEPSEEK)
    assert cold.exit_code == 0
    assert "deepseek-reasoner" in cold.stdout
    assert "yes 211" in cold.stdout
    assert "3 of 3 cassettes" in cold.stderr
    warm = invoke(runner, "ls", DEEPSEEK)
    assert warm.stdout == cold.stdout
    # a changed cassette is read again, never served from the cache
    path = project / STREAM
    path.write_text(path.read_text().replace("deepseek-reasoner", "deepseek-chat"))
    changed = lines(invoke(runner, "ls", "--json", STREAM).stdout)
    assert changed[0]["model"] == "deepseek-chat"


@pytest.mark.parametrize(
    "damage",
    [
        lambda entry: entry.__setitem__(2, [["x"] * 3, []]),  # a row of the wrong length
        lambda entry: entry[2][0].__setitem__(-4, "12 KB"),  # bytes as text
        lambda entry: entry[2][0][10].append(7),  # a model that is no string
        lambda entry: entry[2][1][0].__setitem__(0, None),  # an interaction without its index
        lambda entry: entry.__setitem__(1, "weird"),
    ],
)
def test_ls_cache_entries_are_checked_before_use(runner: CliRunner, project: Path, damage: Any) -> None:
    from llm_fixtures.caching import cache_dir

    del project
    time.sleep(0.05)  # the copies were just made: a file changed within a clock tick is never cached
    cold = invoke(runner, "ls", "--json", DEEPSEEK)
    cold_interactions = invoke(runner, "ls", "--json", "--interactions", DEEPSEEK)
    cache = next(cache_dir().glob("cassettes-*.json"))
    document = json.loads(cache.read_text())
    assert len(document["entries"]) == 3
    for entry in document["entries"].values():
        damage(entry)
    cache.write_text(json.dumps(document))
    assert invoke(runner, "ls", "--json", DEEPSEEK).stdout == cold.stdout
    assert invoke(runner, "ls", "--json", "--interactions", DEEPSEEK).stdout == cold_interactions.stdout


def test_ls_reports_a_broken_cassette_and_lists_the_rest(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "tests" / "cassettes" / "test_x"
    folder.mkdir(parents=True)
    (tmp_path / "pyproject.toml").write_text("")
    (folder / "test_ok.yaml").write_text(
        "interactions:\n- request: {method: GET, uri: 'https://api.openai.com/v1/models', body: null, headers: {}}\n"
        "  response: {status: {code: 200, message: OK}, headers: {}, body: {string: '{}'}}\nversion: 1\n"
    )
    (folder / "test_bad.yaml").write_text("interactions: [\n")
    (folder / "test_bomb.yaml").write_text("interactions: !!python/object/apply:os.system ['echo pwned']\n")
    (tmp_path / ".github").mkdir()
    (tmp_path / ".github" / "ci.yaml").write_text("not: a cassette\n")  # outside a cassettes folder: never read
    monkeypatch.chdir(tmp_path)
    result = invoke(runner, "ls", "--json")
    assert result.exit_code == 1
    assert [row["path"] for row in lines(result.stdout)] == ["tests/cassettes/test_x/test_ok.yaml"]
    assert result.stderr.splitlines() == [
        "tests/cassettes/test_x/test_bad.yaml: invalid YAML: did not find expected node content at line 2 column 1",
        "tests/cassettes/test_x/test_bomb.yaml: invalid YAML: tag !!python/object/apply:os.system is not plain data; "
        "refused at line 1 column 15",
    ]


# --- show ------------------------------------------------------------------------------------------------------


@pytest.mark.usefixtures("project")
def test_show_each_interaction_of_a_cassette(runner: CliRunner) -> None:
    result = invoke(runner, "show", "--json", "crewai/lib/crewai/tests/cassettes/test_anthropic_function_calling.yaml")
    assert result.exit_code == 0, result.stderr
    shown = lines(result.stdout)
    assert [(item["interaction"], item["request"]["model"], item["response"]["status"]) for item in shown] == [
        (0, "claude-sonnet-4-5", 200),
        (1, "claude-sonnet-4-5", 200),
    ]
    assert shown[0]["request"]["tools"] == ["get_weather"]
    assert shown[0]["request"]["messages"][0]["parts"][0]["text"].startswith("What is the weather in Tokyo?")
    human = invoke(runner, "show", "crewai/lib/crewai/tests/cassettes/test_anthropic_function_calling.yaml")
    assert "test_anthropic_function_calling.yaml · interaction 1" in human.stdout
    assert "POST · /v1/messages · anthropic · claude-sonnet-4-5" in human.stdout


@pytest.mark.usefixtures("project")
def test_show_by_node_id_and_by_cassette_name(runner: CliRunner) -> None:
    by_node = lines(invoke(runner, "show", "--json", "test_deepseek.py::test_deepseek_model_thinking_stream").stdout)
    assert [(item["path"], item["interaction"]) for item in by_node] == [(STREAM, 0)]
    by_name = lines(invoke(runner, "show", "--json", "test_deepseek_model_thinking_part.yaml").stdout)
    assert [item["request"]["model"] for item in by_name] == ["deepseek-reasoner"]


@pytest.mark.usefixtures("project")
def test_show_assemble_json_one_object_per_interaction(runner: CliRunner) -> None:
    result = invoke(
        runner,
        "show",
        "--assemble",
        "--json",
        STREAM,
        "crewai/lib/crewai/tests/cassettes/test_anthropic_function_calling.yaml",
    )
    assert result.exit_code == 0
    objects = lines(result.stdout)
    assert [(Path(item["path"]).name, item["interaction"], item["kind"]) for item in objects] == [
        ("test_deepseek_model_thinking_stream.yaml", 0, "chat.completion.chunk"),
        ("test_anthropic_function_calling.yaml", 0, "anthropic"),
        ("test_anthropic_function_calling.yaml", 1, "anthropic"),
    ]
    stream = objects[0]
    assert stream["n_items"] == 211
    assert stream["choices"][0]["message"]["content"] == "Hello there! 😊 How can I help you today?"
    assert stream["choices"][0]["finish_reason"] == "stop"
    assert objects[1]["message"]["content"][0]["name"] == "get_weather"
    human = invoke(runner, "show", "--assemble", STREAM).stdout
    assert "211 items" in human
    assert "Hello there!" in human


@pytest.mark.usefixtures("project")
def test_show_lists_the_frames_of_a_websocket_cassette(runner: CliRunner) -> None:
    path = "pydantic-ai/tests/realtime/cassettes/test_google_ws/test_tool_call_round.yaml"
    frames = lines(invoke(runner, "show", "--json", path).stdout)
    assert len(frames) == 66
    assert [(frame["interaction"], frame["direction"], frame["name"]) for frame in frames[:4]] == [
        (0, "sent", "setup"),
        (1, "received", "setupComplete"),
        (2, "sent", "client_content"),
        (3, "received", "toolCall"),
    ]
    human = invoke(runner, "show", path).stdout
    assert "→ setup" in human and "← toolCall" in human


@pytest.mark.usefixtures("project")
def test_show_masks_a_key_in_the_url(runner: CliRunner, project: Path) -> None:
    path = (
        project
        / "pydantic-ai/tests/models/google/cassettes/test_output/test_google_default_tools_use_validated_mode.yaml"
    )
    key = "AIza" + "K" * 35
    text = path.read_text()
    uri = next(line for line in text.splitlines() if "uri:" in line)
    path.write_text(text.replace(uri, uri + f"?key={key}", 1))
    result = invoke(runner, "show", str(path.relative_to(project)))
    assert key not in result.stdout
    assert "key=REDACTED" in result.stdout


# --- check and normalize ---------------------------------------------------------------------------------------


def plant_key(project: Path) -> tuple[Path, bytes]:
    """An OpenAI key planted as the authorization header of a real cassette's first request."""
    path = project / STREAM
    before = path.read_bytes()
    text = before.decode().replace(
        "      accept:\n", f"      authorization:\n      - Bearer {OPENAI_KEY}\n      accept:\n", 1
    )
    path.write_text(text)
    return path, text.encode()


def test_a_planted_header_key_is_found_and_masked_everywhere(runner: CliRunner, project: Path) -> None:
    path, planted = plant_key(project)
    check = invoke(runner, "check", "--json", "--select", "secrets", DEEPSEEK)
    assert check.exit_code == 1
    findings = lines(check.stdout)
    assert [(item["path"], item["status"], item["details"]["where"]) for item in findings] == [
        (STREAM, "auth-header", "request header authorization")
    ]
    human = invoke(runner, "check", DEEPSEEK)
    for output in (check.stdout, human.stdout, human.stderr):
        assert OPENAI_KEY not in output
    assert "sk-p…" in human.stdout
    for args in (
        ["show", STREAM],
        ["show", "--json", STREAM],
        ["show", "--assemble", STREAM],
        ["ls", "--json", STREAM],
    ):
        result = invoke(runner, *args)
        assert OPENAI_KEY not in result.stdout + result.stderr, args
    preview = invoke(runner, "normalize", DEEPSEEK)
    assert preview.exit_code == 1
    assert OPENAI_KEY not in preview.stdout
    assert path.read_bytes() == planted  # a preview writes nothing
    written = invoke(runner, "normalize", "--write", DEEPSEEK)
    assert written.exit_code == 0
    after = path.read_bytes()
    assert after == planted.replace(OPENAI_KEY.encode(), b"REDACTED")
    assert invoke(runner, "check", "--select", "secrets", DEEPSEEK).exit_code == 0


def test_normalize_drop_and_allow_secrets(runner: CliRunner, project: Path) -> None:
    path, planted = plant_key(project)
    (project / "pyproject.toml").write_text(
        '[project]\nname = "demo"\n[tool.fixtures.check]\nallow_secrets = ["sk-proj-"]\n'
    )
    assert invoke(runner, "normalize", DEEPSEEK).exit_code == 0  # allowed: nothing to scrub
    assert invoke(runner, "check", "--select", "secrets", DEEPSEEK).exit_code == 0
    (project / "pyproject.toml").write_text('[project]\nname = "demo"\n')
    result = invoke(runner, "normalize", "--write", "--drop", DEEPSEEK)
    assert result.exit_code == 0
    assert "dropped interaction 0 request header authorization" in result.stdout
    removed = [line for line in planted.decode().splitlines() if line not in path.read_text().splitlines()]
    assert removed == ["      authorization:", f"      - Bearer {OPENAI_KEY}"]


def test_check_and_scrub_the_cookies_of_the_shared_cassettes(runner: CliRunner, project: Path) -> None:
    check = invoke(runner, "check", "--json", "--select", "secrets,schema")
    statuses = sorted({(item["check"], item["status"]) for item in lines(check.stdout)})
    assert statuses == [("schema", "error-status"), ("secrets", "cookie")]
    before = {path: path.read_bytes() for path in project.rglob("*.yaml")}
    assert invoke(runner, "normalize", "--write").exit_code == 0
    changed = [path for path, data in before.items() if path.read_bytes() != data]
    assert len(changed) == 20
    assert invoke(runner, "check", "--select", "secrets").exit_code == 0


@pytest.mark.usefixtures("project")
def test_check_reports_empty_and_broken_cassettes(runner: CliRunner, project: Path) -> None:
    folder = project / "tests" / "cassettes" / "test_new"
    folder.mkdir(parents=True)
    (folder / "test_empty.yaml").write_text("interactions: []\nversion: 1\n")
    (folder / "test_broken.yaml").write_text("interactions:\n- request: [\n")
    findings = lines(invoke(runner, "check", "--json", "tests").stdout)
    assert [(Path(item["path"]).name, item["status"]) for item in findings] == [
        ("test_broken.yaml", "invalid"),
        ("test_empty.yaml", "empty-cassette"),
    ]


def test_check_results_of_cassettes_are_cached_checked_and_never_stale(
    runner: CliRunner, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    from llm_fixtures.caching import cache_dir
    from llm_fixtures.cassettes import linting

    time.sleep(0.05)  # the copies were just made: a file changed within a clock tick is never cached
    cold = invoke(runner, "check", "--json", "--show-info")
    assert cold.exit_code == 1 and cold.stdout  # the shared cassettes hold real cookies
    read: list[str] = []
    checked = linting.check_cassette_bytes

    def counting(data: bytes, path: str, options: Any) -> Any:
        read.append(path)
        return checked(data, path, options)

    monkeypatch.setattr(linting, "check_cassette_bytes", counting)
    warm = invoke(runner, "check", "--json", "--show-info")
    assert (warm.stdout, read) == (cold.stdout, [])  # every result from the cache, the same findings
    # A changed cassette is checked again; one changed within a clock tick (here: dated in the future) is never
    # cached, so it is read again on every run.
    target = project / STREAM
    target.write_text(target.read_text().replace("Authorization", "x-api-key") + f"# {OPENAI_KEY}\n")
    future = time.time() + 30
    os.utime(target, (future, future))
    for _ in range(2):
        read.clear()
        again = lines(invoke(runner, "check", "--json", "--show-info").stdout)
        assert read == [STREAM]
        assert any(row["path"] == STREAM and row["check"] == "secrets" for row in again)
    # Entries of another shape (the cache is data from disk) are misses, never a crash or a wrong answer.
    expected = invoke(runner, "check", "--json", "--show-info", "--no-cache").stdout
    cache = next(cache_dir().glob("check-cassettes-*.json"))
    document = json.loads(cache.read_text())
    for entry in document["entries"].values():
        entry[1] = {"findings": [["secrets", "x", "fatal", 1, None]], "size": "big"}
    cache.write_text(json.dumps(document))
    read.clear()
    assert invoke(runner, "check", "--json", "--show-info").stdout == expected
    assert len(read) == len(CASSETTES)


# --- prune -----------------------------------------------------------------------------------------------------

MINIMAL = (
    "interactions:\n- request: {method: GET, uri: 'https://api.openai.com/v1/models', body: null, headers: {}}\n"
    "  response: {status: {code: 200, message: OK}, headers: {}, body: {string: '{}'}}\nversion: 1\n"
)


def plant(project: Path, *paths: str) -> None:
    for relative in paths:
        path = project / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(MINIMAL)


def test_prune_finds_planted_orphans_and_no_cassette_of_an_existing_test(runner: CliRunner, project: Path) -> None:
    plant(
        project,
        f"{DEEPSEEK}/test_deepseek_gone.yaml",  # function gone from test_deepseek.py
        "pydantic-ai/tests/models/cassettes/test_removed_module/test_x.yaml",  # module gone
        f"{DEEPSEEK}/TestNoSuchClass.test_y[param].yaml",  # class gone
    )
    result = invoke(runner, "prune", "--json")
    assert result.exit_code == 0
    orphans = {row["path"]: row["reason"] for row in lines(result.stdout)}
    assert orphans == {
        f"{DEEPSEEK}/TestNoSuchClass.test_y[param].yaml": "class TestNoSuchClass gone",
        f"{DEEPSEEK}/test_deepseek_gone.yaml": "function test_deepseek_gone gone",
        "pydantic-ai/tests/models/cassettes/test_removed_module/test_x.yaml": "test file gone",
    }
    assert invoke(runner, "prune", "--check").exit_code == 1
    deleted = invoke(runner, "prune", "--delete", "--yes")
    assert deleted.exit_code == 0
    assert not (project / DEEPSEEK / "test_deepseek_gone.yaml").exists()
    assert (project / STREAM).exists()
    assert lines(invoke(runner, "prune", "--json").stdout) == []
    assert invoke(runner, "prune", "--restore").exit_code == 0
    assert (project / DEEPSEEK / "test_deepseek_gone.yaml").read_text() == MINIMAL


def test_prune_layouts_literal_names_and_overrides(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "pyproject.toml").write_text("")
    tests = tmp_path / "tests"
    (tests / "events").mkdir(parents=True)
    (tests / "test_flat.py").write_text("def test_flat():\n    pass\n")
    (tests / "events" / "test_events.py").write_text("class TestOrder:\n    def test_ids(self):\n        pass\n")
    (tests / "test_literal.py").write_text(
        "import vcr\n\n@vcr.use_cassette('tests/cassettes/shared_login.yaml')\ndef test_login():\n    pass\n"
    )
    custom = tmp_path / "custom"
    custom.mkdir()
    (custom / "conftest.py").write_text(
        "import pytest\n\n@pytest.fixture\ndef default_cassette_name(request):\n    return 'x'\n"
    )
    plant(
        tmp_path,
        "tests/cassettes/test_flat.yaml",  # pytest-vcr: flat, kept
        "tests/cassettes/test_flat_gone.yaml",  # pytest-vcr: orphan
        "tests/cassettes/events/TestOrder.test_ids.yaml",  # mirror of the test tree (crewAI): kept
        "tests/cassettes/events/TestOrder.test_gone.yaml",  # orphan
        "tests/cassettes/shared_login.yaml",  # named in @vcr.use_cassette: kept
        "custom/cassettes/test_anything/test_whatever.yaml",  # names overridden: undecided
    )
    monkeypatch.chdir(tmp_path)
    result = invoke(runner, "prune", "--json")
    assert {row["path"]: row["reason"] for row in lines(result.stdout)} == {
        "tests/cassettes/events/TestOrder.test_gone.yaml": "no test TestOrder::test_gone in tests/events/",
        "tests/cassettes/test_flat_gone.yaml": "no test test_flat_gone in tests/",
    }
    assert "custom/conftest.py overrides default_cassette_name" in invoke(runner, "prune").stderr


# --- diff ------------------------------------------------------------------------------------------------------


def git(cwd: Path, *args: str) -> None:
    import subprocess

    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=cwd, check=True, capture_output=True
    )


def test_diff_git_pairs_interactions_and_sets_volatile_headers_aside(runner: CliRunner, project: Path) -> None:
    git(project, "init", "-q")
    git(project, "add", "-A")
    git(project, "commit", "-qm", "recorded")
    workflow = project / "openllmetry/packages/traceloop-sdk/tests/cassettes/test_workflows/test_simple_workflow.yaml"
    workflow.write_text(workflow.read_text().replace("Date:\n      - ", "Date:\n      - Mon, 01 Jan 2030 "))
    stream = project / "openllmetry/packages/traceloop-sdk/tests/cassettes/test_workflows/test_streaming_workflow.yaml"
    stream.write_text(stream.read_text().replace('"content":"Why', '"content":"So why', 1))
    result = invoke(runner, "diff", "--git", "HEAD", "--json")
    assert result.exit_code == 1, result.stderr
    reports = {row["new"]: row for row in lines(result.stdout) if row["status"] != "unchanged"}
    prefix = "openllmetry/packages/traceloop-sdk/tests/cassettes/test_workflows/"
    assert {key.removeprefix(prefix): (row["changes"], row["paired_by"]) for key, row in reports.items()} == {
        "test_simple_workflow.yaml#0": (["volatile"], "path"),
        "test_simple_workflow.yaml#1": (["volatile"], "path"),
        "test_streaming_workflow.yaml#0": (["content"], "path"),
    }
    content = reports[prefix + "test_streaming_workflow.yaml#0"]
    assert content["test_id"] == "openllmetry/packages/traceloop-sdk/tests/test_workflows.py::test_streaming_workflow"
    assert ["-", "Why"] in content["details"]["content"]["ops"]
    assert reports[prefix + "test_simple_workflow.yaml#0"]["details"]["volatile"] == ["response header date"]
    human = invoke(runner, "diff", "--git", "HEAD")
    assert "test_streaming_workflow.yaml#0  [content]" in human.stdout
    assert "2 pairs volatile only" in human.stdout


def test_diff_folders_added_and_removed_interactions(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not CASSETTES:
        pytest.skip("../shared/vcr is not present")
    source = SHARED_VCR / DEEPSEEK / "test_deepseek_deferred_capability_with_thinking.yaml"
    (tmp_path / "pyproject.toml").write_text("")
    for side in ("old", "new"):
        (tmp_path / side / "cassettes" / "test_deepseek").mkdir(parents=True)
    text = source.read_text()
    (tmp_path / "old/cassettes/test_deepseek/test_x.yaml").write_text(text)
    # the new recording lost its last interaction and gained a header that matters
    cut = text[: text.rindex("- request:")]
    (tmp_path / "new/cassettes/test_deepseek/test_x.yaml").write_text(
        cut.replace(
            "      content-type:\n      - application/json\n",
            "      content-type:\n      - application/json\n      x-custom:\n      - '1'\n",
            1,
        )
    )
    monkeypatch.chdir(tmp_path)
    rows = sorted(lines(invoke(runner, "diff", "--json", "old", "new").stdout), key=lambda row: row["old"])
    assert [(row["old"], row["new"], row["status"], row["changes"]) for row in rows] == [
        (
            "old/cassettes/test_deepseek/test_x.yaml#0",
            "new/cassettes/test_deepseek/test_x.yaml#0",
            "changed",
            ["request"],
        ),
        ("old/cassettes/test_deepseek/test_x.yaml#1", "new/cassettes/test_deepseek/test_x.yaml#1", "unchanged", []),
        ("old/cassettes/test_deepseek/test_x.yaml#2", None, "removed", []),
    ]
    assert rows[0]["details"]["request"] == [{"path": "$.request.headers.x-custom", "new": ["1"]}]


# --- rerecord --------------------------------------------------------------------------------------------------

CHAT_TEST = """import os

import httpx
import pytest


@pytest.mark.vcr
def test_hello():
    answer = httpx.post(
        os.environ["FAKE_URL"] + "/v1/chat/completions",
        json={"model": "gpt-4o", "messages": [{"role": "user", "content": os.environ.get("QUESTION", "hello")}]},
    )
    assert answer.status_code == 200
    assert os.environ.get("FAIL_AFTER") != "1"
"""


@pytest.fixture
def vcr_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A project whose test records a cassette with pytest-recording against a real server on 127.0.0.1."""
    from fakeserver import FakeServer

    with FakeServer() as server:
        monkeypatch.setenv("FAKE_URL", server.url)
        monkeypatch.chdir(tmp_path)
        recorded_project(tmp_path, CHAT_TEST)
        yield tmp_path


CASSETTE = "tests/cassettes/test_chat/test_hello.yaml"


def test_rerecord_rewrites_a_cassette_through_its_test(
    runner: CliRunner, vcr_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = (vcr_project / CASSETTE).read_text()
    assert "hello" in before
    plan = invoke(runner, "rerecord", "--dry-run", CASSETTE)
    assert plan.exit_code == 0
    assert "run  tests/cassettes/test_chat/test_hello.yaml  tests/test_chat.py::test_hello" in plan.stderr
    assert "--record-mode=rewrite tests/test_chat.py::test_hello" in plan.stderr
    monkeypatch.setenv("QUESTION", "what changed?")
    result = invoke(runner, "rerecord", "--json", CASSETTE)
    assert result.exit_code == 0, result.stderr
    assert lines(result.stdout) == [
        {"path": CASSETTE, "status": "changed", "changes": ["content", "request", "volatile"]}
    ]
    after = (vcr_project / CASSETTE).read_text()
    assert "what changed?" in after
    assert not list(vcr_project.glob(".fixtures/backup-*"))  # the backup is gone once the run is judged
    human = invoke(runner, "rerecord", CASSETTE)
    assert human.exit_code == 0
    assert "tests/cassettes/test_chat/test_hello.yaml" in human.stdout + human.stderr


def test_rerecord_restores_every_byte_when_the_run_fails(
    runner: CliRunner, vcr_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = (vcr_project / CASSETTE).read_bytes()
    monkeypatch.setenv("QUESTION", "this run fails")
    monkeypatch.setenv("FAIL_AFTER", "1")
    result = invoke(runner, "rerecord", CASSETTE)
    assert result.exit_code == 1
    assert (vcr_project / CASSETTE).read_bytes() == before
    assert "restored" in result.stderr or "failed" in result.stderr


def test_rerecord_review_stages_then_accepts(
    runner: CliRunner, vcr_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = (vcr_project / CASSETTE).read_bytes()
    monkeypatch.setenv("QUESTION", "reviewed question")
    staged = invoke(runner, "rerecord", "--review", CASSETTE)
    assert staged.exit_code == 0, staged.stderr
    assert (vcr_project / CASSETTE).read_bytes() == before  # nothing replaced before it is accepted
    pending = invoke(runner, "rerecord", "--pending", "--json")
    assert [(row["target"], row["test_id"], row["kind"]) for row in lines(pending.stdout)] == [
        (CASSETTE, "tests/test_chat.py::test_hello", "changed")
    ]
    assert invoke(runner, "rerecord", "--accept").exit_code == 0
    assert "reviewed question" in (vcr_project / CASSETTE).read_text()
