"""`fixtures check` and `fixtures normalize` as a user runs them: exit codes, stdout vs stderr, JSON, writes."""

from __future__ import annotations

import json
import shutil
import stat
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import builders
from llm_fixtures.app import app
from llm_fixtures.hashing import request_key_name

SUITE = "tests/integration/inference/recordings"
STALE = "554f2a5d4d846060293809c398c1a0392fa44b1335b562eea144ba42d71f5f8e.json"
MISMATCH = "0c7e89c3292fa313cc8bcb077f1158cd81383e5e4b4ea5fd35ac4d46b648b503.json"
OLD = "tests/integration/recordings/responses/e039de706f76.json"


@pytest.fixture
def project(tmp_path: Path, samples: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A copy of the sample recordings project, as the current directory."""
    root = tmp_path / "project"
    shutil.copytree(samples, root)
    monkeypatch.chdir(root)
    yield root
    for path in root.rglob("*"):  # let pytest clean up folders a test made read-only
        if path.is_dir():
            path.chmod(0o755)


def invoke(runner: CliRunner, *args: str) -> Any:
    return runner.invoke(app, list(args), catch_exceptions=False)


def lines(output: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in output.splitlines() if line.strip()]


@pytest.mark.usefixtures("project")
def test_check_finds_the_stale_and_mismatched_samples(runner: CliRunner) -> None:
    result = invoke(runner, "check")
    assert result.exit_code == 1
    assert "stale" in result.stdout
    assert STALE in result.stdout
    assert "files checked" in result.stderr
    assert "Traceback" not in result.output


@pytest.mark.usefixtures("project")
def test_check_json_shape(runner: CliRunner) -> None:
    result = invoke(runner, "check", "--json")
    assert result.exit_code == 1
    rows = lines(result.stdout)
    assert all(set(row) == {"path", "check", "status", "severity", "message", "details"} for row in rows)
    hashes = Counter(row["status"] for row in rows if row["check"] == "hash")
    assert hashes == {"stale": 2, "mismatch": 1}
    stale = next(row for row in rows if row["path"].endswith(STALE))
    assert stale["details"]["rule"] == "no-normalization"
    assert stale["severity"] == "error"


def test_check_all_reports_every_file(runner: CliRunner, project: Path) -> None:
    rows = lines(invoke(runner, "check", "--json", "--all", "--select", "hash").stdout)
    files = list(project.rglob("recordings/**/*.json"))
    assert len(rows) == len(files) > 3
    assert Counter(row["status"] for row in rows) == {"ok": len(files) - 3, "stale": 2, "mismatch": 1}


@pytest.mark.usefixtures("project")
def test_select_ignore_and_fail_on(runner: CliRunner) -> None:
    only = invoke(runner, "check", "--json", "--select", "normalization")
    assert only.exit_code == 0  # a warning is below the default --fail-on error
    assert {row["check"] for row in lines(only.stdout)} == {"normalization"}
    assert invoke(runner, "check", "--select", "normalization", "--fail-on", "warning").exit_code == 1
    rest = invoke(runner, "check", "--json", "--ignore", "hash,normalization")
    assert rest.exit_code == 0
    assert lines(rest.stdout) == []


@pytest.mark.usefixtures("project")
def test_bad_usage_exits_2(runner: CliRunner) -> None:
    result = invoke(runner, "check", "--select", "hashes")
    assert result.exit_code == 2
    assert "unknown check hashes" in result.output
    assert invoke(runner, "check", "--write").exit_code == 2
    missing = invoke(runner, "check", "nowhere")
    assert missing.exit_code == 2
    assert missing.stderr.startswith("error: nowhere")


def test_broken_files_are_schema_findings(runner: CliRunner, project: Path) -> None:
    (project / SUITE / "broken.json").write_text('{"request": {')
    (project / SUITE / "empty.json").write_text("")
    result = invoke(runner, "check", "--json", "--select", "schema")
    assert result.exit_code == 1
    rows = lines(result.stdout)
    assert [(row["path"].rsplit("/", 1)[-1], row["status"]) for row in rows] == [
        ("broken.json", "invalid"),
        ("empty.json", "invalid"),
    ]
    assert "truncated JSON" in rows[0]["message"]


def test_secrets_are_masked_and_allowlisted(runner: CliRunner, project: Path) -> None:
    secret = "sk-proj-" + "Z9" * 20
    target = project / SUITE / MISMATCH
    target.write_text(target.read_text().replace('"headers": {}', f'"headers": {{"Authorization": "Bearer {secret}"}}'))
    result = invoke(runner, "check", "--select", "secrets")
    assert result.exit_code == 1
    assert secret not in result.output
    assert "Bear…Z9Z9" in result.stdout
    (project / "pyproject.toml").write_text(
        (project / "pyproject.toml").read_text() + '\n[tool.fixtures.check]\nallow_secrets = ["Bearer sk-proj-(Z9)+"]\n'
    )
    assert invoke(runner, "check", "--select", "secrets").exit_code == 0


def test_rename_preview_then_write(runner: CliRunner, project: Path) -> None:
    preview = invoke(runner, "check", "--rename", "--json")
    assert preview.exit_code == 1
    rows = lines(preview.stdout)
    assert {row["status"] for row in rows} == {"pending"}
    assert len(rows) == 3
    assert (project / SUITE / STALE).exists()
    before = (project / SUITE / STALE).read_bytes()
    done = invoke(runner, "check", "--rename", "--write")
    assert done.exit_code == 0
    assert "3 renamed" in done.stderr
    assert not (project / SUITE / STALE).exists()
    raw = json.loads(before)
    assert (project / SUITE / str(request_key_name(raw))).read_bytes() == before
    assert invoke(runner, "check", "--select", "hash").exit_code == 0


def test_rename_never_overwrites(runner: CliRunner, project: Path) -> None:
    raw = json.loads((project / SUITE / STALE).read_text())
    target = project / SUITE / str(request_key_name(raw))
    target.write_text("{}")
    result = invoke(runner, "check", "--rename", "--write", "--json", SUITE)
    assert result.exit_code == 1
    rows = {row["path"].rsplit("/", 1)[-1]: row for row in lines(result.stdout)}
    assert rows[STALE]["status"] == "refused"
    assert rows[MISMATCH]["status"] == "renamed"
    assert target.read_text() == "{}"
    assert (project / SUITE / STALE).exists()


def test_rename_into_a_read_only_folder_writes_nothing(runner: CliRunner, project: Path) -> None:
    folder = project / SUITE
    folder.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        result = invoke(runner, "check", "--rename", "--write")
    finally:
        folder.chmod(0o755)
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1
    assert "read-only" in result.stderr
    assert str(folder) in result.stderr
    assert (folder / STALE).exists()
    assert (folder / MISMATCH).exists()


def test_normalize_preview_write_and_minimal_diff(runner: CliRunner, project: Path) -> None:
    path = project / OLD
    before = path.read_text()
    preview = invoke(runner, "normalize")
    assert preview.exit_code == 1
    assert OLD in preview.stdout
    assert "response.body[*].id -> 'rec-e039de706f76'" in preview.stdout
    assert path.read_text() == before
    rows = lines(invoke(runner, "normalize", "--json").stdout)
    assert [row["path"] for row in rows] == [OLD]
    assert rows[0]["written"] is False
    done = invoke(runner, "normalize", "--write")
    assert done.exit_code == 0
    after = path.read_text()
    changed = [(old, new) for old, new in zip(before.splitlines(), after.splitlines(), strict=True) if old != new]
    assert changed
    assert all('"id"' in old or '"created"' in old for old, _ in changed)
    assert json.loads(after)["request"] == json.loads(before)["request"]
    assert invoke(runner, "normalize").exit_code == 0
    assert invoke(runner, "check", "--select", "normalization", "--fail-on", "warning").exit_code == 0


def test_normalize_read_only_file(runner: CliRunner, project: Path) -> None:
    path = project / OLD
    path.chmod(stat.S_IRUSR)
    before = path.read_bytes()
    try:
        result = invoke(runner, "normalize", "--write")
    finally:
        path.chmod(0o644)
    assert result.exit_code == 2
    assert result.stderr == f"error: {path}: file is read-only; nothing written\n"
    assert path.read_bytes() == before


def test_normalize_reports_broken_files(runner: CliRunner, project: Path) -> None:
    (project / SUITE / "broken.json").write_text("{")
    result = invoke(runner, "normalize", SUITE)
    assert result.exit_code == 1
    assert "broken.json: truncated JSON" in result.stderr


def test_the_cache_gives_the_same_report_and_notices_changes(
    runner: CliRunner, project: Path, cache_home: Path
) -> None:
    first = invoke(runner, "check", "--json", "--all")
    cache_files = list((cache_home / "llm-fixtures").glob("check-*.json"))
    assert len(cache_files) == 1
    again = invoke(runner, "check", "--json", "--all")
    assert again.stdout == first.stdout
    assert again.exit_code == first.exit_code == 1
    # an edited file is checked again: fixing the stale name's content changes its verdict
    stale = project / SUITE / STALE
    raw = json.loads(stale.read_text())
    raw["request"]["body"]["messages"][0]["content"] += " (edited)"
    builders.write_recording(stale, raw)
    rows = lines(invoke(runner, "check", "--json", "--select", "hash").stdout)
    assert next(row for row in rows if row["path"].endswith(STALE))["status"] == "mismatch"
    assert invoke(runner, "check", "--json", "--all", "--no-cache").stdout != first.stdout
    # a whole-project run forgets files that are gone; a run over some paths keeps the others
    (project / SUITE / MISMATCH).unlink()
    invoke(runner, "check", "--json")
    entries = json.loads(cache_files[0].read_text())["entries"]
    assert not any(location.endswith(MISMATCH) for location in entries)
    assert any(location.endswith(STALE) for location in entries)
    invoke(runner, "check", "--json", "tests/integration/messages")
    assert any(location.endswith(STALE) for location in json.loads(cache_files[0].read_text())["entries"])


# --- the whole corpus ------------------------------------------------------------------------------------

CORPUS_COUNTS = {
    ("hash", "ok"): 178,
    ("hash", "mismatch"): 40,
    ("hash", "stale"): 6,
    ("hash", "unverifiable"): 19,
    ("place", "legacy-name"): 4,
    ("normalization", "unnormalized"): 53,
    ("duplicates", "duplicate"): 12,
    ("size", "large-image"): 5,
    ("size", "large-file"): 1,
}


def test_json_that_is_not_a_recording_is_noted(runner: CliRunner, project: Path) -> None:
    (project / "data.json").write_text('{"a": 1}')
    result = invoke(runner, "check", "--json", "data.json")
    assert result.exit_code == 0
    assert result.stdout == ""
    assert "skipped 1 JSON file that is not a recording (e.g. data.json)" in result.stderr


def test_check_over_the_whole_corpus(runner: CliRunner, corpus: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(corpus)
    result = invoke(runner, "check", "--json", "--all", ".")
    assert result.exit_code == 1
    counts = Counter((row["check"], row["status"]) for row in lines(result.stdout))
    assert dict(counts) == CORPUS_COUNTS


def test_check_options_default_to_the_settings_defaults() -> None:
    # `check` builds CheckOptions() without pydantic when the project has no [tool.fixtures.check] table.
    from llm_fixtures.checking import CheckOptions
    from llm_fixtures.settings import Settings

    defaults, settings = CheckOptions(), Settings().check
    assert defaults.allow_secrets == tuple(settings.allow_secrets)
    assert (defaults.max_file_bytes, defaults.max_image_bytes) == (settings.max_file_bytes, settings.max_image_bytes)


def test_a_bad_check_setting_is_a_usage_error(runner: CliRunner, project: Path) -> None:
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + '\n[tool.fixtures.check]\nmax_file_bytes = "big"\n')
    result = invoke(runner, "check")
    assert result.exit_code == 2
    assert "pyproject.toml" in result.stderr and "max_file_bytes" in result.stderr
