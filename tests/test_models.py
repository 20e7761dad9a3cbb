"""The recording models: every era and variant of the real corpus validates and writes back byte for byte."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import builders
from conftest import SAMPLES, corpus_files
from llm_fixtures.app import app
from llm_fixtures.decoding import dump_recording, dump_upstream
from llm_fixtures.envelopes import parse_envelope
from llm_fixtures.facts import is_plainly_valid
from llm_fixtures.models import (
    FileProcessorRequest,
    HttpRequest,
    InferenceRequest,
    RecordingFile,
    ToolRequest,
)

UPSTREAM = corpus_files("llama-stack") + corpus_files("llama-stack-2025-08")
SAMPLE_FILES = sorted(SAMPLES.rglob("*.json"))


@pytest.mark.parametrize("path", UPSTREAM + SAMPLE_FILES, ids=lambda p: p.name[:16])
def test_upstream_style_files_round_trip_byte_for_byte(path: Path) -> None:
    data = path.read_bytes()
    file = RecordingFile.model_validate(json.loads(data))
    assert dump_recording(file) == data


@pytest.mark.usefixtures("corpus")
def test_corpus_covers_every_request_kind_and_top_level_key_set() -> None:
    kinds: set[type] = set()
    key_sets: set[tuple[str, ...]] = set()
    for path in UPSTREAM:
        raw = json.loads(path.read_bytes())
        kinds.add(type(RecordingFile.model_validate(raw).request))
        key_sets.add(tuple(raw))
    assert kinds == {InferenceRequest, HttpRequest, ToolRequest, FileProcessorRequest}
    assert key_sets == {
        ("test_id", "request", "response", "id_normalization_mapping"),
        ("test_id", "request", "response"),
        ("request", "response"),
    }


def _recording(**changes: Any) -> dict[str, Any]:
    request = builders.sdk_request("http://h/v1/chat/completions", "/v1/chat/completions", {}, model="m")
    raw = builders.recording(request, None, test_id="tests/test_x.py::test_y", mapping=False)
    raw.update(changes)
    return raw


@pytest.mark.parametrize(
    "body",
    [
        {"__type__": "openai.types.chat.chat_completion.ChatCompletion", "__data__": {"id": "x"}},
        [{"__type__": "a.B", "__data__": {}}, {"__type__": "a.B", "__data__": {}}],
        ["event: message_start", 'data: {"type": "message_start"}', ""],
        {"plain": "dict"},
        [1, 2, 3],
        None,
    ],
    ids=["envelope", "envelope-list", "sse-lines", "dict", "list", "null"],
)
def test_every_body_shape_is_accepted(body: Any) -> None:
    raw = _recording(response={"body": body, "is_streaming": isinstance(body, list)})
    file = RecordingFile.model_validate(raw)
    assert file.response.body == body
    assert dump_upstream(file.model_dump(mode="json", by_alias=True, exclude_unset=True)) == dump_upstream(raw)


def test_unknown_keys_survive_and_keep_their_place() -> None:
    raw = _recording()
    raw = {"zeta": 1, **raw, "extra": {"a": [1]}}
    raw["response"]["later"] = True
    file = RecordingFile.model_validate(raw)
    assert list(file.model_dump(mode="json", by_alias=True, exclude_unset=True)) == list(raw)
    assert dump_upstream(file.model_dump(mode="json", by_alias=True, exclude_unset=True)) == dump_upstream(raw)


TRIPWIRE = "fixtures_tripwire_module"  # a module that says so when it is imported


def test_type_names_are_only_read_never_imported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, runner: CliRunner
) -> None:
    fired = tmp_path / "imported"
    (tmp_path / f"{TRIPWIRE}.py").write_text(f"import pathlib\npathlib.Path({str(fired)!r}).write_text('yes')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    name = f"{TRIPWIRE}.ChatCompletionChunk"
    chunk = {"__type__": name, "__data__": {"object": "chat.completion.chunk", "choices": []}}
    raw = _recording(response={"body": [chunk, chunk], "is_streaming": True})
    raw["response"]["body"].append({"__type__": "os.system", "__data__": {"cmd": "touch " + str(fired)}})
    recording = tmp_path / "recordings" / f"{'a' * 64}.json"
    recording.parent.mkdir()
    recording.write_text(json.dumps(raw))

    assert parse_envelope(chunk) == (name, chunk["__data__"])
    RecordingFile.model_validate(raw)
    for command in (["ls", "--json"], ["show"], ["show", "--assemble"], ["show", "--json"], ["check"]):
        runner.invoke(app, [*command, str(recording)], catch_exceptions=False)
    assert TRIPWIRE not in sys.modules
    assert not fired.exists()


@pytest.mark.parametrize(
    "raw",
    [
        _recording(response={"body": None, "is_streaming": "yes"}),
        _recording(response={"body": None, "is_streaming": False, "status": "200"}),
        _recording(response={"body": None, "is_streaming": False, "status": True}),
        _recording(test_id=5),
        _recording(request={"test_id": None, "url": 5, "method": "POST", "payload": {}}),
        _recording(request={"provider": "tavily", "tool_name": 5, "kwargs": {}}),
        _recording(request="POST /v1"),
        {"request": {}},
        [],
    ],
)
def test_fast_shape_check_never_accepts_what_the_models_would_change_or_reject(raw: Any) -> None:
    assert not is_plainly_valid(raw)


@pytest.mark.usefixtures("corpus")
def test_fast_shape_check_accepts_every_corpus_file_the_models_accept() -> None:
    for path in corpus_files():
        raw = json.loads(path.read_bytes())
        RecordingFile.model_validate(raw)
        assert is_plainly_valid(raw), path
