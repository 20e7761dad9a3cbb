"""The upstream recorder's contract, as `src/ogx/testing/api_recorder.py` (llamastack/llama-stack at d1b66329)
implements it, for test suites in tmp_path to run against: the keys it hashes and how it normalizes a body, the
folder of a test's recordings, the file it writes, and the message of each kind of replay miss, word for word.
Written from upstream's code, not from llm_fixtures (whose hashing these suites check)."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

HINT = "Run './scripts/integration-tests.sh --inference-mode record-if-missing' with required API keys to generate."
SHARED_PATHS = ("/api/tags", "/v1/models", "/v1/openai/v1/models")
_FLOAT_IN_STRING = re.compile(r"(-?\d+\.\d{4,})")
_UUID = r"[a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12}"
_FILE_SEARCH = (
    (re.compile(r"score:\s*[-+]?\d*\.?\d+(?:[eE][-+]?\d+)?"), "score: __NORMALIZED__"),
    (re.compile(r",?\s*attributes:\s*\{[^}]*\}"), ""),
    (re.compile(rf"document_id:\s*{_UUID}"), "document_id: __NORMALIZED__"),
    (re.compile(rf"<\|{_UUID}\|>"), "<|__NORMALIZED__|>"),
)


def normalize_body(value: Any, *, is_root: bool = True) -> Any:
    """Upstream `_normalize_body_for_hash` (bedrock's stream_options aside)."""
    if isinstance(value, dict):
        normalized = {key: normalize_body(item, is_root=False) for key, item in value.items()}
        if is_root:
            for extra_key in ("extra_body", "extra_query"):
                extra = normalized.get(extra_key)
                if isinstance(extra, dict):
                    extra.pop("project_id", None)
        return normalized
    if isinstance(value, list):
        return [normalize_body(item) for item in value]
    if isinstance(value, float):
        return round(value, 5)
    if isinstance(value, str):
        for pattern, replacement in _FILE_SEARCH:
            value = pattern.sub(replacement, value)
        return _FLOAT_IN_STRING.sub(lambda match: f"{float(match.group(0)):.5f}", value)
    return value


def sha256_of(key: Any) -> str:
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()


def inference_hash(url: str, body: Any, test_id: str | None, *, normalize: bool = True) -> str:
    """`normalize_inference_request`; `normalize=False` is the recorder before #3403, which hashed the raw body."""
    path = urlparse(url).path
    key: dict[str, Any] = {"method": "POST", "endpoint": path, "body": normalize_body(body) if normalize else body}
    if path not in SHARED_PATHS:
        key["test_id"] = test_id
    return sha256_of(key)


def http_hash(url: str, payload: Any, test_id: str | None) -> str:
    """`normalize_http_request`."""
    return sha256_of({"test_id": test_id, "url": url, "method": "POST", "payload": normalize_body(payload)})


def tool_hash(provider: str, tool_name: str, kwargs: Any) -> str:
    """`normalize_tool_request`: no test id."""
    return sha256_of({"provider": provider, "tool_name": tool_name, "kwargs": kwargs})


def recordings_folder(root: Path, test_id: str) -> Path:
    """`ResponseStorage._get_test_dir`: the `recordings` folder beside the test file."""
    return root / Path(test_id.split("::")[0]).parent / "recordings"


def find(root: Path, test_id: str, request_hash: str) -> Any:
    path = recordings_folder(root, test_id) / f"{request_hash}.json"
    return json.loads(path.read_text()) if path.exists() else None


def store(root: Path, test_id: str, request_hash: str, request: Any, response: Any) -> None:
    """`ResponseStorage.store_recording` (model lists aside)."""
    folder = recordings_folder(root, test_id)
    folder.mkdir(parents=True, exist_ok=True)
    recording = {"test_id": test_id, "request": request, "response": response, "id_normalization_mapping": {}}
    with (folder / f"{request_hash}.json").open("w") as f:
        json.dump(recording, f, indent=2)
        f.write("\n")


def inference_miss(request_hash: str, model: str, url: str) -> RuntimeError:
    return RuntimeError(
        f"Recording not found for request hash: {request_hash}\nModel: {model} | Request: POST {url}\n\n{HINT}"
    )


def genai_miss(request_hash: str, model: str, endpoint: str) -> RuntimeError:
    return RuntimeError(
        f"Recording not found for genai request hash: {request_hash}\n"
        f"Model: {model} | Endpoint: {endpoint}\n"
        f"\n"
        f"Run './scripts/integration-tests.sh --inference-mode record-if-missing' with required API keys."
    )


def tool_miss(provider: str, tool_name: str, kwargs: Any) -> RuntimeError:
    return RuntimeError(f"Recording not found for {provider}.{tool_name} | Request: {kwargs}\n\n{HINT}")


def rerank_miss(url: str) -> RuntimeError:
    return RuntimeError(f"Recording not found for rerank request | URL: {url}\n\n{HINT}")


def httpx_miss(url: str, *, stream: bool) -> RuntimeError:
    return RuntimeError(f"Recording not found for httpx {'stream POST' if stream else 'POST'} {url}\n\n{HINT}")
