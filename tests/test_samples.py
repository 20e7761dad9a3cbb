"""The sample set in recordings/: every file loads, says what it was written to say, and is named as intended."""

from __future__ import annotations

import ast
import base64
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from llm_fixtures import decoding, hashing, store
from llm_fixtures.assembling import Assembly, assemble, assemble_sse
from llm_fixtures.envelopes import parse_envelope
from llm_fixtures.facts import split_test_id

SAMPLES = Path(__file__).resolve().parents[1] / "recordings"
INTEGRATION = "tests/integration"


@dataclass(frozen=True)
class Sample:
    """What one sample file was written to be; the defaults are those of a current-era chat completion."""

    covers: str
    path: str  # relative to recordings/
    test_id: str | None
    model: str | None
    provider: str | None
    body_type: str | None  # last part of the first __type__
    endpoint: str = "/v1/chat/completions"
    kind: str = "inference"
    chunks: int = 0  # every sample stream has chunks, so a sample streams when this is not 0
    verdict: str = "ok"  # hashing.verify_name status
    rule: str | None = "current"  # the rule that reproduces the name
    case: str | None = None  # the test's own parametrization id, which the test file must name
    orphan: bool = False
    error: bool = False

    @property
    def streaming(self) -> bool:
        return self.chunks > 0


def _tid(test_file: str, function: str, params: str) -> str:
    return f"{INTEGRATION}/{test_file}::{function}[{params}]"


CHAT = "inference/test_openai_chat_completion.py"
NON_STREAMING = "test_openai_chat_completion_non_streaming"
STREAM_CASE = "inference:chat_completion:streaming_01"
STREAM_ID = _tid(CHAT, "test_openai_chat_completion_streaming", f"txt=openai/gpt-4o-{STREAM_CASE}")
OLLAMA_3B = "llama3.2:3b-instruct-fp16"
INF = f"{INTEGRATION}/inference/recordings"
RESP = f"{INTEGRATION}/responses/recordings"
MSG = f"{INTEGRATION}/messages/recordings"
GEMINI = f"{INTEGRATION}/interactions/recordings"
HAIKU = "txt=anthropic/claude-haiku-4-5"
VERTEX = "publishers/google/models/gemini-2.0-flash"
# Raw event-stream captures: no request, no name to verify; `fixtures show --assemble PATH` reads them.
SSE_CAPTURE = "captures/openai-chat-boiling-point.sse"

# fmt: off
SAMPLE_SET: tuple[Sample, ...] = (
    Sample("chat stream with text", f"{INF}/fe3696d6eb3f69cd05943d4b34d007b38dd63b1dbd2fcadcb89a5af4e74b1b2a.json",
           STREAM_ID, "gpt-4o", "openai", "ChatCompletionChunk", chunks=15, case=STREAM_CASE),
    Sample("model list",
           f"{INF}/models-8501fdbcae57d15383814ce3d852c1295260020b6c2fc0f1da77fd106f767193-091aad9a.json",
           STREAM_ID, "", "openai", "Model", endpoint="/v1/models", rule="model-list"),
    Sample("chat stream with parallel tool calls",
           f"{INF}/7710372bff77e3f1934bfaa9eee862b29504d010f7cb7b092b856c66d5fe3191.json",
           _tid(CHAT, "test_openai_chat_completion_streaming_parallel_tools", "txt=openai/gpt-4o"),
           "gpt-4o", "openai", "ChatCompletionChunk", chunks=13),
    Sample("non-streaming chat completion (Azure)",
           f"{INF}/98ccf69d79afc51710a9737a435942bea72a30bc48c15da1bd5db9a8b8074711.json",
           _tid(CHAT, NON_STREAMING, "txt=azure/gpt-4o-inference:chat_completion:non_streaming_01"),
           "gpt-4o", "azure", "ChatCompletion", case="inference:chat_completion:non_streaming_01"),
    Sample("chat stream with reasoning_content (vLLM)",
           f"{INF}/d8ce7d5f6d6bee63c404c772966fb724240e7a986a6ae9c4cef9ae337189e70e.json",
           _tid(CHAT, "test_openai_chat_completion_streaming_reasoning", "txt=vllm/Qwen/Qwen3-0.6B"),
           "Qwen/Qwen3-0.6B", "vllm", "ChatCompletionChunk", chunks=25),
    Sample("edited after recording", f"{INF}/0c7e89c3292fa313cc8bcb077f1158cd81383e5e4b4ea5fd35ac4d46b648b503.json",
           _tid(CHAT, NON_STREAMING, f"txt=ollama/{OLLAMA_3B}-inference:chat_completion:non_streaming_02"),
           OLLAMA_3B, "ollama", "ChatCompletion", verdict="mismatch", rule=None,
           case="inference:chat_completion:non_streaming_02"),
    Sample("named before body normalization",
           f"{INF}/554f2a5d4d846060293809c398c1a0392fa44b1335b562eea144ba42d71f5f8e.json",
           _tid(CHAT, NON_STREAMING, f"txt=ollama/{OLLAMA_3B}-inference:chat_completion:non_streaming_03"),
           OLLAMA_3B, "ollama", "ChatCompletion", verdict="stale", rule="no-normalization",
           case="inference:chat_completion:non_streaming_03"),
    Sample("image input", f"{INF}/59aefc2ccf4418caa63438cfddea394f277d8960a835512e39ff8b9415534244.json",
           _tid("inference/test_vision_inference.py", "test_openai_chat_completion_image_data_url",
                "vis=ollama/llama3.2-vision:11b"),
           "llama3.2-vision:11b", "ollama", "ChatCompletion"),
    Sample("legacy completions stream", f"{INF}/b4abc2ada7fbcb5e90675da32f15433b013cda77d8936c4045e9f4de0bea9d1f.json",
           _tid("inference/test_openai_completion.py", "test_openai_completion_streaming",
                f"txt=ollama/{OLLAMA_3B}-inference:completion:geography"),
           OLLAMA_3B, "ollama", "Completion", endpoint="/v1/completions", chunks=15,
           case="inference:completion:geography"),
    Sample("embeddings", f"{INF}/ccd783fae44f4333a5d2468e82ffd68d841e74132f3b381d53108894be503d63.json",
           _tid("inference/test_openai_embeddings.py", "test_openai_embeddings_with_dimensions",
                "emb=openai/text-embedding-3-small"),
           "text-embedding-3-small", "openai", "CreateEmbeddingResponse", endpoint="/v1/embeddings"),
    Sample("Ollama native generate stream",
           f"{INF}/6812c229a0b01eeae82a6612588e8fd3ba8055aec5ac5899258d31c7d4d1e88d.json",
           _tid("inference/test_ollama_native.py", "test_ollama_generate_streaming", f"txt=ollama/{OLLAMA_3B}"),
           OLLAMA_3B, "ollama", "GenerateResponse", endpoint="/api/generate", chunks=19),
    Sample("Ollama native chat stream with thinking and a tool call",
           f"{INF}/5d06431cc92ebd8c12c4b8cec6d84c2efdd051b20d57553cdf67a82fb65f5a6c.json",
           _tid("inference/test_ollama_native.py", "test_ollama_chat_streaming_thinking_tool_call",
                "txt=ollama/qwen3:4b"),
           "qwen3:4b", "ollama", "ChatResponse", endpoint="/api/chat", chunks=20),
    Sample("recorded exception", f"{INF}/c2b03487085267ed84816a4ad368d7424dfe4f6beef275ad1dfe57570debe955.json",
           _tid("inference/test_provider_error_recording.py",
                "TestProviderErrorRecording::test_provider_rejects_excessive_max_tokens", "txt=openai/gpt-4o"),
           "gpt-4o", "openai", None, error=True),
    Sample("orphan: its test file is gone",
           f"{INF}/0687abc099edebcfda989ed5b3b4bd87eeebb18205159358d33a3f479b262de5.json",
           _tid("inference/test_batch_inference.py", "test_batch_chat_completion", f"txt=ollama/{OLLAMA_3B}"),
           OLLAMA_3B, "ollama", "ChatCompletion", orphan=True),
    Sample("Responses API event stream",
           f"{RESP}/66327cb844a989b4eb733c631ae7df9bb596d430987140fbcb0f2ebfb41d94b3.json",
           _tid("responses/test_basic_responses.py", "test_response_streaming_text",
                "openai_client-txt=openai/gpt-4o-moon_landing"),
           "gpt-4o", "openai", "ResponseCreatedEvent", endpoint="/v1/responses", chunks=29, case="moon_landing"),
    Sample("Vertex AI generate_content_stream",
           f"{RESP}/c1084ad21801828c6487cb7da47ac4f02c5b6b029ad97c88243e3b4600fe3b93.json",
           _tid("responses/test_basic_responses.py", "test_response_streaming_text",
                f"openai_client-txt=vertexai/{VERTEX}-moon_landing"),
           VERTEX, "vertexai", None, endpoint="/generate_content_stream", chunks=3, case="moon_landing"),
    Sample("Tavily web_search tool", f"{RESP}/18c7c3518d9307b818a6b5106de1e72d28cb20973f9926bf748ece1904f640b0.json",
           _tid("responses/test_tool_responses.py", "test_response_non_streaming_web_search",
                "openai_client-txt=openai/gpt-4o-python_release"),
           None, "tavily", "ToolInvocationResult", endpoint="tavily.web_search", kind="tool", rule="tool",
           case="python_release"),
    Sample("named before the file_search scrubbing",
           f"{RESP}/c5d9132401e230f7af7e1476821151f31d4b6f31ce4a025b44d5851ac5790ac7.json",
           _tid("responses/test_file_search.py", "test_response_file_search_non_streaming",
                "openai_client-txt=openai/gpt-4o-employee_handbook"),
           "gpt-4o", "openai", "ChatCompletion", verdict="stale", rule="pre-file_search-scrub",
           case="employee_handbook"),
    Sample("Anthropic Messages SSE stream",
           f"{MSG}/04ac11e0d47c538c27cd181d94cc4e18dbb09ce59d55bb41779209b02c32b630.json",
           _tid("messages/test_messages.py", "test_messages_streaming_text", HAIKU),
           "claude-haiku-4-5", "anthropic", None, endpoint="/v1/messages", kind="http", chunks=27, rule="http"),
    Sample("Anthropic Messages HTTP 400",
           f"{MSG}/6e0736dcf98b1ac5816cd48885a07f47712b0cba4eebc30d27f974b97eca8f24.json",
           _tid("messages/test_messages.py", "test_messages_rejects_empty_messages", HAIKU),
           "claude-haiku-4-5", "anthropic", None, endpoint="/v1/messages", kind="http", rule="http", error=True),
    Sample("Gemini Interactions SSE stream",
           f"{GEMINI}/6fe671d7e743e2405f7ab70b243fc654f25329bf84afd4c8d972a1bcfc3c4b20.json",
           _tid("interactions/test_interactions.py", "test_interactions_streaming_text",
                "txt=gemini/gemini-2.5-flash-lite"),
           "gemini-2.5-flash-lite", "gemini", None, endpoint="/v1beta/interactions", kind="http", chunks=33,
           rule="http"),
    Sample("old era, 12-hex name", f"{INTEGRATION}/recordings/responses/e039de706f76.json",
           None, OLLAMA_3B, "ollama", "ChatCompletionChunk", chunks=11, rule="legacy-12hex"),
)
# fmt: on

BY_COVERS = {sample.covers: sample for sample in SAMPLE_SET}
IDS = [sample.covers for sample in SAMPLE_SET]


def _load(sample: Sample) -> decoding.Loaded:
    return store.load_recording(SAMPLES / sample.path, sample.path)


def _data(sample: Sample) -> dict[str, Any]:
    raw = _load(sample).raw
    assert isinstance(raw, dict)
    return raw


def _chunks(sample: Sample) -> list[dict[str, Any]]:
    body = _data(sample)["response"]["body"]
    assert isinstance(body, list)
    return [parse_envelope(item)[1] for item in body]


def _defined(tree: ast.Module, function: str) -> bool:
    """Whether `function` (or `Class::method`) is defined at the top of a parsed test file."""
    scope: list[ast.stmt] = tree.body
    *classes, name = function.split("::")
    for class_name in classes:
        found = [node for node in scope if isinstance(node, ast.ClassDef) and node.name == class_name]
        if not found:
            return False
        scope = found[0].body
    return any(isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == name for node in scope)


# --- the set as a whole ---------------------------------------------------------------------------------------


def test_the_table_lists_every_sample_file() -> None:
    on_disk = {str(path.relative_to(SAMPLES)) for path in SAMPLES.rglob("*.json")}
    assert on_disk == {sample.path for sample in SAMPLE_SET}
    assert [str(path.relative_to(SAMPLES)) for path in SAMPLES.rglob("*.sse")] == [SSE_CAPTURE]


def test_the_readme_names_every_sample_file() -> None:
    readme = (SAMPLES / "README.md").read_text()
    for sample in SAMPLE_SET:
        name = Path(sample.path).name.removeprefix("models-")
        assert f"{name[:8]}…" in readme, sample.path
    assert SSE_CAPTURE in readme


def test_the_set_is_small() -> None:
    total = sum(path.stat().st_size for path in SAMPLES.rglob("*") if path.is_file())
    assert total < 200_000


def test_exactly_one_orphan_one_mismatch_and_two_stale_files() -> None:
    assert [s.covers for s in SAMPLE_SET if s.orphan] == ["orphan: its test file is gone"]
    assert sorted(s.verdict for s in SAMPLE_SET if s.verdict != "ok") == ["mismatch", "stale", "stale"]


def test_no_sample_carries_anything_shaped_like_a_secret() -> None:
    for path in [*SAMPLES.rglob("*.json"), *SAMPLES.rglob("*.sse")]:
        text = path.read_text()
        for marker in ("sk-", "sk-ant-", "AKIA", "AIza", "ghp_", "xoxb-", "Bearer ", "PRIVATE KEY"):
            assert marker not in text, (path, marker)


# --- each file --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("sample", SAMPLE_SET, ids=IDS)
def test_facts_are_what_the_sample_was_written_to_say(sample: Sample) -> None:
    facts = _load(sample).facts
    assert facts.kind == sample.kind
    assert facts.endpoint == sample.endpoint
    assert facts.model == sample.model
    assert facts.provider == sample.provider
    assert facts.streaming is sample.streaming
    assert facts.chunks == sample.chunks
    assert facts.test_id == sample.test_id
    assert facts.error is sample.error
    assert facts.model_list is (sample.endpoint == "/v1/models")
    assert (facts.body_type or "").rsplit(".", 1)[-1] == (sample.body_type or "")


@pytest.mark.parametrize("sample", SAMPLE_SET, ids=IDS)
def test_names_verify_as_intended(sample: Sample) -> None:
    verdict = hashing.verify_name(Path(sample.path).name, _data(sample))
    assert (verdict.status, verdict.rule) == (sample.verdict, sample.rule)


@pytest.mark.parametrize("sample", SAMPLE_SET, ids=IDS)
def test_written_back_in_the_upstream_style_byte_for_byte(sample: Sample) -> None:
    loaded = _load(sample)
    on_disk = (SAMPLES / sample.path).read_bytes()
    assert decoding.dump_recording(loaded.file) == on_disk
    assert decoding.dump_upstream(loaded.raw) == on_disk


@pytest.mark.parametrize(
    "sample", [s for s in SAMPLE_SET if s.test_id], ids=[s.covers for s in SAMPLE_SET if s.test_id]
)
def test_test_ids_name_tests_that_exist_except_the_orphan(sample: Sample) -> None:
    test_file, function = split_test_id(sample.test_id)
    assert test_file is not None and function is not None
    path = SAMPLES / test_file
    # The recorder files a recording under <test file's folder>/recordings.
    assert (SAMPLES / sample.path).parent == path.parent / "recordings"
    if sample.orphan:
        assert not path.exists()
        return
    source = path.read_text()
    assert _defined(ast.parse(source), function), f"{function} is not defined in {test_file}"
    if sample.case is not None:
        assert sample.test_id is not None and sample.test_id.endswith(f"-{sample.case}]")
        assert f'"{sample.case}"' in source


def test_every_python_file_of_the_mini_project_parses() -> None:
    sources = sorted(SAMPLES.rglob("*.py"))
    assert len(sources) >= 10
    for source in sources:
        ast.parse(source.read_text(), filename=str(source))


def test_eras_are_told_apart_by_their_keys() -> None:
    eras = {s.covers: _load(s).facts.era for s in SAMPLE_SET}
    assert eras["old era, 12-hex name"] == "legacy"
    assert eras["named before body normalization"] == "isolated"
    assert eras["Tavily web_search tool"] == "isolated"
    assert {
        era
        for covers, era in eras.items()
        if covers not in {"old era, 12-hex name", "named before body normalization", "Tavily web_search tool"}
    } == {"current"}


@pytest.mark.parametrize(
    "sample", [s for s in SAMPLE_SET if s.kind == "inference" and s.body_type], ids=lambda sample: sample.covers
)
def test_response_ids_are_normalized_except_in_the_old_era(sample: Sample) -> None:
    name = Path(sample.path).name.removeprefix("models-")
    for data in (
        _chunks(sample)
        if sample.streaming or sample.endpoint == "/v1/models"
        else [parse_envelope(_data(sample)["response"]["body"])[1]]
    ):
        if data.get("object") == "model":
            assert not data["id"].startswith("rec-")
        elif sample.rule == "legacy-12hex":
            assert data["id"].startswith("chatcmpl-") and data["created"] > 0
        elif "id" in data:
            assert (data["id"], data["created"]) == (f"rec-{name[:12]}", 0)
        elif "created_at" in data:
            assert data["created_at"] == "1970-01-01T00:00:00.000000Z"


# --- the content each sample was written to cover ----------------------------------------------------------------


def test_text_stream_has_obfuscation_and_ends_with_a_usage_only_chunk() -> None:
    sample = BY_COVERS["chat stream with text"]
    assert _data(sample)["request"]["body"]["stream_options"] == {"include_usage": True}
    chunks = _chunks(sample)
    assert all(chunk["obfuscation"] for chunk in chunks)
    *deltas, last = chunks
    assert last["choices"] == [] and last["usage"]["total_tokens"] == 36
    text = "".join(chunk["choices"][0]["delta"]["content"] or "" for chunk in deltas)
    assert text == "Saturn has the most known moons, with 274."
    assert deltas[-1]["choices"][0]["finish_reason"] == "stop"


def test_parallel_tool_call_arguments_are_split_and_only_the_first_fragment_has_an_id() -> None:
    fragments: dict[int, list[dict[str, Any]]] = {}
    for chunk in _chunks(BY_COVERS["chat stream with parallel tool calls"]):
        for choice in chunk["choices"]:
            for call in choice["delta"]["tool_calls"] or []:
                fragments.setdefault(call["index"], []).append(call)
    assert sorted(fragments) == [0, 1]
    cities = []
    for calls in fragments.values():
        first, *rest = calls
        assert first["id"].startswith("call_") and first["type"] == "function"
        assert first["function"] == {"arguments": "", "name": "get_weather"}
        assert len(rest) >= 3
        assert all(c["id"] is None and c["type"] is None and c["function"]["name"] is None for c in rest)
        cities.append(json.loads("".join(c["function"]["arguments"] for c in calls))["city"])
    assert cities == ["Lisbon", "Oslo"]


def test_reasoning_stream_thinks_before_it_answers() -> None:
    deltas = [chunk["choices"][0]["delta"] for chunk in _chunks(BY_COVERS["chat stream with reasoning_content (vLLM)"])]
    reasoning = "".join(d["reasoning_content"] or "" for d in deltas)
    content = "".join(d["content"] or "" for d in deltas)
    assert reasoning.startswith("91 is odd") and content == "No. 91 = 7 \u00d7 13."


def test_image_input_is_a_real_png_data_url() -> None:
    body = _data(BY_COVERS["image input"])["request"]["body"]
    part = body["messages"][0]["content"][1]
    prefix, encoded = part["image_url"]["url"].split(",", 1)
    assert prefix == "data:image/png;base64"
    assert base64.b64decode(encoded).startswith(b"\x89PNG\r\n\x1a\n")


def test_model_list_digest_is_computed_from_the_model_ids() -> None:
    sample = BY_COVERS["model list"]
    ids = sorted({chunk["id"] for chunk in _chunks(sample)})
    digest = hashlib.sha256("|".join(ids).encode()).hexdigest()[:8]
    assert sample.path.endswith(f"-{digest}.json")
    assert _data(sample)["request"]["url"] == "https://api.openai.com/v1/v1/models"


def test_ollama_generate_stream_ends_with_done_and_context() -> None:
    *parts, last = _chunks(BY_COVERS["Ollama native generate stream"])
    assert not any(part["done"] for part in parts)
    assert last["done"] is True and last["done_reason"] == "stop" and len(last["context"]) > 10
    assert last["total_duration"] == 0 and last["eval_count"] == 19
    assert "".join(part["response"] for part in parts).count("\n") == 2


def test_responses_stream_has_every_lifecycle_event_in_order() -> None:
    sample = BY_COVERS["Responses API event stream"]
    body = _data(sample)["response"]["body"]
    assert all(item["__type__"].startswith("openai.types.responses.") for item in body)
    events = [item["__data__"] for item in body]
    kinds = [event["type"] for event in events]
    assert kinds[:4] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
    ]
    assert kinds[-4:] == [
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    assert [event["sequence_number"] for event in events] == list(range(len(events)))
    text = "".join(event["delta"] for event in events if event["type"] == "response.output_text.delta")
    assert text == events[-1]["response"]["output"][0]["content"][0]["text"]


def test_anthropic_stream_is_raw_sse_lines() -> None:
    response = _data(BY_COVERS["Anthropic Messages SSE stream"])["response"]
    lines = response["body"]
    assert lines[0] == "event: message_start" and lines[-3:] == [
        "event: message_stop",
        'data: {"type":"message_stop"}',
        "",
    ]
    events = [json.loads(line[len("data: ") :]) for line in lines if line.startswith("data: ")]
    text = "".join(e["delta"]["text"] for e in events if e["type"] == "content_block_delta")
    assert text == "Red, green, blue"
    assert response["is_streaming"] is True
    assert _load(BY_COVERS["Anthropic Messages HTTP 400"]).facts.status == 400


def _assembled(sample: Sample) -> Assembly:
    response = _data(sample)["response"]
    assembly = assemble(response["body"], is_streaming=response["is_streaming"])
    assert assembly.warnings == []
    return assembly


def test_ollama_chat_stream_thinks_then_sends_its_tool_call_whole() -> None:
    sample = BY_COVERS["Ollama native chat stream with thinking and a tool call"]
    assert _data(sample)["request"]["body"]["think"] is True
    *parts, last = _chunks(sample)
    messages = [part["message"] for part in parts]
    assert not any(part["done"] for part in parts) and all(m["content"] == "" for m in messages)
    *thinking, call = messages
    assert all(m["thinking"] and m["tool_calls"] is None for m in thinking)
    assert call["thinking"] is None
    assert call["tool_calls"] == [{"function": {"name": "get_current_time", "arguments": {"timezone": "Asia/Tokyo"}}}]
    assert (last["done"], last["done_reason"], last["total_duration"], last["eval_count"]) == (True, "stop", 0, 43)
    result = _assembled(sample).result
    assert result["kind"] == "ollama.chat" and result["n_items"] == 20
    assert result["message"]["thinking"] == "User wants Tokyo's local time. I'll call get_current_time with Asia/Tokyo."
    assert result["message"]["content"] == ""
    assert result["message"]["tool_calls"] == call["tool_calls"]
    assert (result["done_reason"], result["prompt_eval_count"], result["eval_count"]) == ("stop", 173, 43)


def test_vertex_stream_is_plain_genai_dicts_ending_with_finish_reason_and_usage() -> None:
    sample = BY_COVERS["Vertex AI generate_content_stream"]
    data = _data(sample)
    request = data["request"]
    assert (request["url"], request["provider_metadata"]) == (
        "vertexai:///generate_content_stream",
        {"provider": "vertexai"},
    )
    assert request["body"]["contents"] == [
        {
            "role": "user",
            "parts": [{"text": "In one sentence, who was the first person to walk on the Moon, and when?"}],
        }
    ]
    chunks = data["response"]["body"]
    assert not any("__type__" in chunk for chunk in chunks)
    *parts, last = [chunk["candidates"][0] for chunk in chunks]
    assert all("finish_reason" not in part for part in parts) and last["finish_reason"] == "STOP"
    assert chunks[-1]["usage_metadata"]["total_token_count"] == 45
    result = _assembled(sample).result
    assert result["kind"] == "gemini" and result["model_version"] == "gemini-2.0-flash"
    (candidate,) = result["candidates"]
    assert candidate["finish_reason"] == "STOP"
    assert candidate["content"] == {
        "role": "model",
        "parts": [
            {
                "text": "Neil Armstrong was the first person to walk on the Moon, on July 20, 1969, "
                "during the Apollo 11 mission.\n"
            }
        ],
    }
    assert result["usage_metadata"]["prompt_token_count"] == 20


def test_interactions_stream_is_raw_sse_lines_from_start_to_done() -> None:
    sample = BY_COVERS["Gemini Interactions SSE stream"]
    data = _data(sample)
    assert data["request"]["url"] == "https://generativelanguage.googleapis.com/v1beta/interactions"
    assert data["request"]["test_id"] == data["test_id"]
    lines = data["response"]["body"]
    assert lines[:2] == ["event: interaction.start", lines[1]] and lines[-3:] == ["event: done", "data: [DONE]", ""]
    assert lines[2::3] == [""] * (len(lines) // 3)
    result = _assembled(sample).result
    assert (result["kind"], result["status"], result["model"]) == (
        "gemini.interactions",
        "completed",
        "gemini-2.5-flash-lite",
    )
    thought, text = result["outputs"]
    assert thought["type"] == "thought" and thought["signature"]
    assert text == {"type": "text", "text": "Mars has two moons: Phobos and Deimos."}
    assert result["usage"]["total_output_tokens"] == 11


def test_sse_capture_is_an_openai_chat_stream_ending_in_done() -> None:
    text = (SAMPLES / SSE_CAPTURE).read_text(encoding="utf-8")
    assert text.startswith("data: {") and text.endswith("data: [DONE]\n\n")
    events = text.removesuffix("\n\n").split("\n\n")
    assert all(event.startswith("data: ") and "\n" not in event for event in events)
    assembly = assemble_sse(text)
    assert assembly.warnings == []
    result = assembly.result
    assert (result["kind"], result["n_items"], result["model"]) == (
        "chat.completion.chunk",
        16,
        "gpt-4o-mini-2024-07-18",
    )
    (choice,) = result["choices"]
    assert choice["message"]["content"] == "Water boils at 100\u202f\u00b0C (212\u202f\u00b0F) at sea level."
    assert choice["finish_reason"] == "stop" and result["usage"]["total_tokens"] == 32


def test_exception_is_a_provider_sdk_bad_request() -> None:
    response = _data(BY_COVERS["recorded exception"])["response"]
    assert response["body"] is None and response["is_exception"] is True
    data = response["exception_data"]
    assert (data["category"], data["provider"], data["type"], data["status_code"]) == (
        "provider_sdk",
        "openai",
        "BadRequestError",
        400,
    )
    assert data["body"]["param"] == "max_tokens"


def test_tool_result_content_is_a_json_string_of_search_results() -> None:
    body = _data(BY_COVERS["Tavily web_search tool"])["response"]["body"]
    assert body["__type__"] == "ogx_api.tools.ToolInvocationResult"
    results = json.loads(body["__data__"]["content"])
    assert results["query"] == "Python 3.13 release date" and len(results["top_k"]) == 3


def test_stale_and_mismatch_files_know_their_current_names() -> None:
    for covers in (
        "edited after recording",
        "named before body normalization",
        "named before the file_search scrubbing",
    ):
        sample = BY_COVERS[covers]
        expected = hashing.request_key_name(_data(sample))
        assert expected is not None and expected != Path(sample.path).name
