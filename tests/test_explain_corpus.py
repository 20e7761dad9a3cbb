"""`fixtures explain` over the real corpus: a replay log that misses every recording's request (the hash the
recorder of its era computes from the file's content) is explained file by file; the renames it prints are run and
then every miss is found on disk."""

from __future__ import annotations

import json
import shlex
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from conftest import corpus_files
from llm_fixtures.app import app
from llm_fixtures.explaining.nodeids import domain_of
from llm_fixtures.hashing import RuleKeys, rule_named, verify_name
from llm_fixtures.store import load_recording


def _message(raw: dict[str, Any], digest: str) -> list[str]:
    """The lines the upstream recorder raises for this recording's request."""
    request = raw["request"]
    if "tool_name" in request:
        return [
            f"E   RuntimeError: Recording not found for {request['provider']}.{request['tool_name']} | "
            f"Request: {request['kwargs']!r}"
        ]
    if request["url"].startswith("vertexai://"):
        return [
            f"E   RuntimeError: Recording not found for genai request hash: {digest}",
            f"E   Model: {request.get('model')} | Endpoint: {request['endpoint']}",
        ]
    return [
        f"E   RuntimeError: Recording not found for request hash: {digest}",
        f"E   Model: {request['body'].get('model', 'unknown')} | Request: POST {request['url']}",
    ]


Key = tuple[str | None, str]  # (test id, hash missed)


def replay_log(base: Path) -> tuple[str, dict[Key, dict[str, str]]]:
    """A `-v --tb=short` log in which every inference, genai and tool recording under `base` misses, and per miss
    (test id, hash) the recordings it is about with their check status (shared recordings without a test id can
    share a hash: one miss)."""
    results: list[str] = []
    sections: list[str] = []
    expected: dict[Key, dict[str, str]] = {}
    for path in sorted(base.rglob("*.json")):
        loaded = load_recording(path, str(path.relative_to(base)))
        facts, raw = loaded.facts, loaded.raw
        verdict = verify_name(path.name, raw)
        if facts.kind not in ("inference", "tool") or verdict.expected_name is None:
            continue
        rule = "model-list" if facts.model_list else "current" if facts.kind == "inference" else "tool"
        digest = RuleKeys(raw).digest(rule_named(rule))
        assert digest is not None
        expected.setdefault((facts.test_id, digest), {})[facts.path] = verdict.status
        if facts.test_id:
            results.append(f"{facts.test_id} FAILED")
            sections.append(f"{'_' * 20} {domain_of(facts.test_id)} {'_' * 20}")
        else:
            sections.append("=" * 20 + " captured server log " + "=" * 20)
        sections += _message(raw, digest)
    return "\n".join([*results, "=" * 30 + " FAILURES " + "=" * 30, *sections]) + "\n", expected


def explain_json(log: Path) -> list[dict[str, Any]]:
    result = CliRunner().invoke(app, ["explain", str(log), "--json"], catch_exceptions=False)
    assert result.exit_code == 1, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_every_corpus_miss_is_found_on_disk_or_renamed_into_place(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "llama-stack"
    shutil.copytree(corpus / "llama-stack", project)
    for path in [project, *project.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)  # the corpus is read-only; its copy is ours
    monkeypatch.chdir(project)
    text, expected = replay_log(project)
    log = tmp_path / "replay.log"
    log.write_text(text)
    lines = explain_json(log)
    assert {(line["test_id"], line["hash"]) for line in lines} == set(expected)
    assert len(lines) > 140
    renames = []
    for line in lines:
        files = expected[(line["test_id"], line["hash"])]
        assert line["certain"] is True
        if set(files.values()) == {"ok"}:
            assert (line["cause"], line["fix"]) == ("present", [])
            assert line["reason"].split(" ", 1)[0] in files
        else:
            [stale] = [path for path, status in files.items() if status != "ok"]
            assert line["cause"] == "stale-name", line
            assert line["fix"] == [shlex.join(["fixtures", "check", "--rename", "--write", stale])]
            renames.append(line["fix"][0])
    # 6 stale; 3 edited (2 by the OGX rename, 1 unexplained); 4 in tool_runtime named otherwise after recording;
    # the 4 legacy 12-hex agents files, which the current recorder looks up by their current key.
    assert len(renames) == 17
    causes = {c["check_cause"] for line in lines for c in line["candidates"] if c["status"] == "mismatch"}
    assert {"ogx-rename", "renamed"} <= causes

    for command in renames:
        assert CliRunner().invoke(app, shlex.split(command)[1:], catch_exceptions=False).exit_code == 0
    after = explain_json(log)
    assert {line["cause"] for line in after} == {"present"}


def test_the_august_2025_era_is_explained_by_its_own_rule(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = corpus / "llama-stack-2025-08"
    monkeypatch.chdir(base)
    lines: list[str] = []
    names: dict[str, set[str]] = {}
    for path in corpus_files("llama-stack-2025-08"):
        raw = json.loads(path.read_bytes())
        digest = RuleKeys(raw).digest(rule_named("legacy-12hex"))
        assert digest is not None
        names.setdefault(digest, set()).add(str(path.relative_to(base)))  # the same request in two folders
        # The message of that era (before #3760): the request and the model on lines of their own.
        lines += [
            f"E   RuntimeError: No recorded response found for request hash: {digest}",
            f"E   Request: POST {raw['request']['url']} {raw['request']['body']!r}",
            f"E   Model: {raw['request'].get('model')}",
        ]
    log = tmp_path / "old.log"
    log.write_text("\n".join(lines))
    explained = explain_json(log)
    assert len(explained) == len(names) == 27
    for line in explained:
        assert (line["cause"], line["certain"], line["test_id"]) == ("present", True, None)
        path, rest = line["reason"].split(" ", 1)
        assert path in names[line["hash"]] and rest.startswith("is the recording replay looked for")
