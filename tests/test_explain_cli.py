"""`fixtures explain` from the log of a real pytest replay run: the miniature suite of tests/explainsuite.py is
recorded, changed the ways real projects change (a setup never recorded, files named by an older rule, requests
that drift between runs, a renamed test), replayed, and each miss is explained; the fix commands are run."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from explainsuite import CHAT, OTHERS, SUMMARIES, github_actions_log, record, rename_summary_test, replay, write_suite
from typer.testing import CliRunner

from llm_fixtures.app import app

CAPITAL_OLLAMA = f"{CHAT}::test_capital[txt=ollama/llama3.2:3b]"
ROUNDING = f"{CHAT}::test_rounding[txt=openai/gpt-4o]"
WEATHER = f"{CHAT}::test_weather_followup[txt=openai/gpt-4o]"
SUMMARY = f"{SUMMARIES}::test_summary[txt=openai/gpt-4o]"
OLD_SUMMARY = f"{SUMMARIES}::test_summary_of_text[txt=openai/gpt-4o]"
MODELS = "openai/gpt-4o,ollama/llama3.2:3b"
HASH = re.compile(r"Recording not found for (?:genai )?request hash: ([0-9a-f]{64})")


@pytest.fixture(scope="module")
def suite(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The project after its record runs and changes, and the output of its failing replay run."""
    root = write_suite(tmp_path_factory.mktemp("suite"))
    # Recorded with one model only; the rounding test by a recorder from before body normalization (#3403); the
    # follow-up test three times, by two client versions, each run with a fresh tool-call id.
    record(root, CHAT, SUMMARIES, OTHERS, "-k", "not rounding and not others", env={"MINI_CLIENT": "1"})
    for _ in range(2):
        record(root, f"{CHAT}::test_weather_followup", env={"MINI_CLIENT": "2"})
    record(root, f"{CHAT}::test_rounding", env={"MINI_RECORDER_RULE": "no-normalization"})
    rename_summary_test(root, "test_summary")
    result = replay(root, "tests/integration", "--text-model", MODELS)
    assert result.returncode == 1, result.stdout + result.stderr
    return root, result.stdout


@pytest.fixture
def project(suite: tuple[Path, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """A copy of the replayed project (commands may change it), the working folder, and its log on disk."""
    source, log = suite
    root = tmp_path / "project"
    shutil.copytree(source, root)
    (tmp_path / "replay.log").write_text(log)
    monkeypatch.chdir(root)
    return root, tmp_path / "replay.log"


def explain(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["explain", *args], input=stdin, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def explained(log: Path) -> dict[str | None, dict[str, Any]]:
    code, out, _ = explain(str(log), "--json")
    assert code == 1
    lines = [json.loads(line) for line in out.splitlines()]
    return {line["test_id"]: line for line in lines}


def block(out: str, test_id: str) -> str:
    """The human explanation of one test's miss."""
    start = out.index(f"{test_id}\n")
    end = out.find("\n\n", start)
    return out[start : end if end != -1 else len(out)]


def run_fix(command: str) -> int:
    words = shlex.split(command)
    assert words[0] == "fixtures"
    return CliRunner().invoke(app, words[1:], catch_exceptions=False).exit_code


def test_every_miss_of_the_log_is_explained_with_the_hash_the_recorder_printed(project: tuple[Path, Path]) -> None:
    _, log = project
    found = explained(log)
    printed = set(HASH.findall(log.read_text()))
    assert {line["hash"] for line in found.values() if line["kind"] in ("inference", "genai")} == printed
    assert set(found) == {
        CAPITAL_OLLAMA,
        ROUNDING,
        f"{CHAT}::test_rounding[txt=ollama/llama3.2:3b]",
        WEATHER,
        f"{CHAT}::test_weather_followup[txt=ollama/llama3.2:3b]",
        SUMMARY,
        f"{SUMMARIES}::test_summary[txt=ollama/llama3.2:3b]",
        *(f"{OTHERS}::test_{name}" for name in ("web_search", "rerank", "messages", "messages_streaming", "genai")),
    }
    for line in found.values():
        assert list(line) == [
            "test_id",
            "hash",
            "endpoint",
            "model",
            "kind",
            "url",
            "line",
            "candidates",
            "cause",
            "certain",
            "reason",
            "causes",
            "drift",
            "fix",
            "notes",
            "setup",
            "record_command",
        ]
        assert all(candidate["status"] in ("ok", "stale", "mismatch") for candidate in line["candidates"])


def test_a_setup_never_recorded(project: tuple[Path, Path]) -> None:
    _, log = project
    line = explained(log)[CAPITAL_OLLAMA]
    assert (line["cause"], line["certain"], line["model"]) == ("never-recorded", False, "llama3.2:3b")
    assert [(c["relation"], c["status"]) for c in line["candidates"]] == [("other-parametrization", "ok")]
    assert line["candidates"][0]["test_id"] == f"{CHAT}::test_capital[txt=openai/gpt-4o]"
    assert line["fix"] == [f"fixtures rerecord '{CAPITAL_OLLAMA}'"]
    _, out, _ = explain(str(log))
    text = block(out, CAPITAL_OLLAMA)
    assert "it was recorded with gpt-4o only ([txt=openai/gpt-4o]): this setup is not in the record matrix" in text
    assert f"fix       fixtures rerecord '{CAPITAL_OLLAMA}'" in text


def test_a_hashing_change_is_certain_and_its_rename_makes_the_replay_pass(project: tuple[Path, Path]) -> None:
    root, log = project
    line = explained(log)[ROUNDING]
    assert (line["cause"], line["certain"]) == ("stale-name", True)
    (stale,) = line["candidates"]
    assert (stale["relation"], stale["status"], stale["replays_as"]) == ("this-test", "stale", "current")
    assert "no-normalization" in stale["message"]
    assert stale["expected_name"] == f"{line['hash']}.json"
    assert line["fix"] == [f"fixtures check --rename --write {stale['path']}"]
    _, out, _ = explain(str(log))
    assert f"stale-name (certain): {stale['path']} is the recording replay looks for" in block(out, ROUNDING)

    assert replay(root, ROUNDING).returncode == 1
    assert run_fix(line["fix"][0]) == 0
    assert (root / "tests/integration/inference/recordings" / f"{line['hash']}.json").is_file()
    assert replay(root, ROUNDING).returncode == 0


def test_drift_names_the_fields_and_the_normalization_upstream_would_need(project: tuple[Path, Path]) -> None:
    _, log = project
    line = explained(log)[WEATHER]
    assert (line["cause"], line["certain"]) == ("drift", False)
    assert [c["status"] for c in line["candidates"] if c["relation"] == "this-test"] == ["ok"] * 3
    fields = {drift["field"]: drift for drift in line["drift"]}
    assert set(fields) == {"max_tokens", "messages.*.tool_call_id", "messages.*.tool_calls.*.id", "messages[0].content"}
    assert fields["max_tokens"]["difference"] in ("0 vs null (empty either way)", "null vs 0 (empty either way)")
    assert "text parts" in fields["messages[0].content"]["normalization"]
    assert line["fix"] == [f"fixtures rerecord '{WEATHER}' --prune-superseded"]
    assert [ranked["cause"] for ranked in line["causes"]] == ["drift", "request-changed"]


def test_a_renamed_test_is_found_under_its_old_id(project: tuple[Path, Path]) -> None:
    _, log = project
    line = explained(log)[SUMMARY]
    assert (line["cause"], line["certain"]) == ("moved-test", True)
    (old,) = line["candidates"]
    assert (old["relation"], old["test_id"], old["replays_as"]) == ("other-test", OLD_SUMMARY, "current")
    assert old["test_gone"] == "function test_summary_of_text gone"
    assert line["fix"] == [f"fixtures rerecord '{SUMMARY}'", "fixtures prune"]
    # The second command does what it says: prune lists the old test's recording.
    result = CliRunner().invoke(app, ["prune", "--json"], catch_exceptions=False)
    assert [json.loads(row)["path"] for row in result.stdout.splitlines()] == [old["path"]]


def test_the_fix_of_a_renamed_test_records_it_under_its_new_id(
    project: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The test has no recording of its own: `fixtures rerecord <its id>` records it (the suite's recorder answers
    by itself in record mode, as a provider would), in the run `explain` named; its replay then passes."""
    root, log = project
    line = explained(log)[SUMMARY]
    assert line["record_command"] == f"OGX_TEST_INFERENCE_MODE=record pytest --inference-mode=record -- '{SUMMARY}'"
    assert line["setup"] is None  # the suite defines no setups
    assert replay(root, SUMMARY).returncode == 1
    monkeypatch.setenv("PYTHONPATH", str(Path(__file__).resolve().parent))  # the suite's recorder module
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    assert run_fix(line["fix"][0]) == 0
    assert replay(root, SUMMARY).returncode == 0


def test_the_other_calls_of_the_recorder(project: tuple[Path, Path]) -> None:
    _, log = project
    found = explained(log)
    tool = found[f"{OTHERS}::test_web_search"]
    key = {"provider": "tavily", "tool_name": "web_search", "kwargs": {"query": "latest OGX release", "max_results": 3}}
    import hashlib

    assert tool["hash"] == hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()
    assert (tool["kind"], tool["endpoint"]) == ("tool", "tavily.web_search")
    assert (found[f"{OTHERS}::test_rerank"]["kind"], found[f"{OTHERS}::test_rerank"]["url"]) == (
        "rerank",
        "http://localhost:8000/v1/rerank",
    )
    assert found[f"{OTHERS}::test_messages"]["kind"] == "http"
    assert found[f"{OTHERS}::test_messages_streaming"]["kind"] == "http-stream"
    genai = found[f"{OTHERS}::test_genai"]
    assert (genai["kind"], genai["endpoint"], genai["model"]) == ("genai", "/generate_content", "gemini-2.0-flash")
    assert all(line["cause"] == "never-recorded" for name, line in found.items() if name and OTHERS in name)


def test_a_github_actions_log_reads_as_the_plain_one(project: tuple[Path, Path], tmp_path: Path) -> None:
    _, log = project
    text = log.read_text()
    assert "\x1b[" in text  # the run forced colours, as upstream CI does
    actions = tmp_path / "actions.log"
    actions.write_text(github_actions_log(text))
    assert actions.read_text().startswith("2025-10-01T12:00:00.0234567Z ")
    plain, stamped = explained(log), explained(actions)
    assert [(k, v["cause"], v["hash"], v["fix"]) for k, v in plain.items()] == [
        (k, v["cause"], v["hash"], v["fix"]) for k, v in stamped.items()
    ]


def test_the_log_from_standard_input(project: tuple[Path, Path]) -> None:
    _, log = project
    code, out, _ = explain("-", "--json", stdin=log.read_text())
    assert code == 1
    assert len(out.splitlines()) == len(explained(log))


def test_no_miss_is_exit_0_and_says_why(project: tuple[Path, Path], tmp_path: Path) -> None:
    root, _ = project
    passing = replay(root, f"{CHAT}::test_capital")
    assert passing.returncode == 0
    (tmp_path / "green.log").write_text(passing.stdout)
    code, out, err = explain(str(tmp_path / "green.log"))
    assert (code, out) == (0, "")
    assert "no replay miss in the log" in err
    other = tmp_path / "other.log"
    other.write_text("t/test_a.py::test_x FAILED [100%]\nE   assert 1 == 2\n")
    assert explain(str(other))[2].strip().endswith("1 test failed for other reasons)")


@pytest.mark.usefixtures("project")
def test_an_unreadable_log_is_exit_2(tmp_path: Path) -> None:
    code, _, err = explain(str(tmp_path / "missing.log"))
    assert code == 2
    assert err.startswith("error: ") and "missing.log" in err
    assert explain(str(tmp_path))[0] == 2


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
@pytest.mark.usefixtures("project")
def test_a_fifo_as_the_log_does_not_hang(tmp_path: Path) -> None:
    fifo = tmp_path / "log.fifo"
    os.mkfifo(fifo)
    result = subprocess.run(
        [sys.executable, "-m", "llm_fixtures", "explain", str(fifo)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "FIFO" in result.stderr


@pytest.mark.usefixtures("project")
def test_hostile_test_ids_and_control_sequences_never_reach_a_command_or_the_terminal(tmp_path: Path) -> None:
    h = "ab" * 32
    hostile = tmp_path / "hostile.log"
    hostile.write_text(
        "\n".join(
            [
                f"FAILED ../../etc/test_x.py::test_a - RuntimeError: Recording not found for request hash: {h}",
                f"FAILED tests/test_x.py::test_b[$(touch pwned); -rf] - RuntimeError: Recording not found for "
                f"request hash: {h[::-1]}",
                "E   RuntimeError: Recording not found for httpx POST http://h/v1/messages\x1b]0;pwned\x07\x1b[2J",
            ]
        )
    )
    code, out, err = explain(str(hostile))
    assert code == 1
    assert "\x1b" not in out + err and "\x07" not in out + err
    assert not [line for line in out.splitlines() if "../../etc" in line and "fixtures" in line]
    assert "fixtures rerecord 'tests/test_x.py::test_b[$(touch pwned); -rf]'" in out
    lines = [json.loads(line) for line in explain(str(hostile), "--json")[1].splitlines()]
    assert lines[0]["test_id"] is None and lines[0]["fix"] == []
    assert lines[0]["notes"] == ["the test id the log gives is not a plain relative node id; it is not used"]


def test_the_sample_projects_replay_of_the_readme(
    samples: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The README's example: the sample project's chat tests replayed against its recordings (tests/samplereplay.py
    stands in for the stack's recorder), the one certain cause renamed, the test replayed again."""
    pytest.importorskip("openai")  # the sample project's dependency, not ours
    root = tmp_path / "recordings"
    shutil.copytree(samples, root)
    monkeypatch.chdir(root)
    here = Path(__file__).resolve().parent
    pytest_run = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "samplereplay", "-v", "--tb=short"]
    model = ["--text-model", "ollama/llama3.2:3b-instruct-fp16"]
    chat = ["tests/integration/inference/test_openai_chat_completion.py", "-k", "non_streaming or reasoning"]
    env = {**os.environ, "PYTHONPATH": str(here)}

    def replay_sample(*selection: str) -> subprocess.CompletedProcess[str]:
        command = [*pytest_run, *selection, *model]
        return subprocess.run(command, cwd=root, env=env, capture_output=True, text=True, timeout=120, check=False)

    (tmp_path / "replay.log").write_text(replay_sample(*chat).stdout)
    found = explained(tmp_path / "replay.log")
    assert {line["cause"] for line in found.values()} == {"never-recorded", "stale-name"}
    [stale] = [line for line in found.values() if line["cause"] == "stale-name"]
    assert replay_sample(stale["test_id"]).returncode == 1
    assert run_fix(stale["fix"][0]) == 0
    again = replay_sample(stale["test_id"])
    assert again.returncode == 0, again.stdout


def test_rerecord_from_log_selects_the_tests_that_missed(project: tuple[Path, Path]) -> None:
    _, log = project
    result = CliRunner().invoke(
        app, ["rerecord", "--from-log", str(log), "--dry-run", "--json"], catch_exceptions=False
    )
    assert result.exit_code == 0, result.stderr
    items = [json.loads(line) for line in result.stdout.splitlines()]
    # Every test that missed: those with recordings by their recordings, the others (never recorded, renamed) as
    # tests the run records.
    assert {item["test_id"] for item in items} == set(explained(log)) - {None}
    assert {item["test_id"] for item in items if item["path"] is not None} == {ROUNDING, WEATHER}
    assert all(item["action"] == "run" for item in items)
    [command] = {item["command"] for item in items}
    assert f"-- {shlex.quote(CAPITAL_OLLAMA)}" in command or shlex.quote(CAPITAL_OLLAMA) in command


def test_rerecord_from_log_runs_them_in_record_mode(
    project: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    root, log = project
    with (root / "pyproject.toml").open("a") as f:
        f.write(
            '\n[tool.fixtures.rerecord]\ncommand = ["{python}", "-m", "pytest", "-p", "no:cacheprovider", "{node_ids}"]'
        )
    monkeypatch.setenv("PYTHONPATH", str(Path(__file__).resolve().parent))  # the suite's recorder module
    only_rounding = log.parent / "rounding.log"
    only_rounding.write_text(
        "\n".join(line for line in log.read_text().splitlines() if "test_rounding[txt=openai" in line)
    )
    result = CliRunner().invoke(app, ["rerecord", "--from-log", str(only_rounding)], catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    assert replay(root, ROUNDING).returncode == 0


def test_rerecord_from_a_log_without_a_miss_is_a_usage_error(project: tuple[Path, Path], tmp_path: Path) -> None:
    root, _ = project
    green = tmp_path / "green.log"
    green.write_text(replay(root, f"{CHAT}::test_capital").stdout)
    result = CliRunner().invoke(app, ["rerecord", "--from-log", str(green)], catch_exceptions=False)
    assert result.exit_code == 2
    assert "no test in the log missed a recording" in result.stderr


@pytest.mark.usefixtures("project")
def test_a_log_beyond_the_cap_is_refused_from_a_file_and_from_standard_input(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("llm_fixtures.commands.explain.MAX_LOG", 1024)
    big = tmp_path / "big.log"
    big.write_text("x" * 2048)
    code, _, err = explain(str(big))
    assert code == 2 and "big.log" in err
    code, _, err = explain("-", stdin="x" * 2048)
    assert code == 2 and err.startswith("error: standard input: more than")
