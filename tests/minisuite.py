"""A miniature upstream integration suite, written into a folder, that reproduces each era's mechanism: setups in
`tests/integration/suites.py` whose default models become parametrization ids (`txt=...`, `emb=...:dim=768`) the
way the upstream conftest builds them; a conftest that writes the recorder's mode variable from `--inference-mode`
(default replay) — `OGX_TEST_INFERENCE_MODE` (OGX, May 2026) or `LLAMA_STACK_TEST_INFERENCE_MODE` (llama-stack,
October 2025); the CI matrix and the CI script's fixed options (OGX); and a recorder that stores one hash-named
file per call beside each test file, plus a model list in `common/recordings` at session start (no test id), as
the real stack does at start-up. Calls go to the fake server of tests/fakeserver.py (`MINI_FAKE_URL`).

Injected trouble, by environment: `MINI_FAIL=<part of a node id>` fails that test after it recorded (in record
mode); with `MINI_SYNC=<folder>` it first touches `<folder>/started` and waits for `<folder>/go`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ERAS = ("ogx", "llama-stack")
MODE_VARIABLE = {"ogx": "OGX_TEST_INFERENCE_MODE", "llama-stack": "LLAMA_STACK_TEST_INFERENCE_MODE"}
EMBEDDING_FOR_CI = "sentence-transformers/nomic-ai/nomic-embed-text-v1.5"
# The setups of the suite, and the runs that made the first recordings (as CI makes them).
SETUPS = ("ollama", "gpt", "vllm")
FIRST_RECORDING = {
    "ollama": ["tests/integration/inference"],
    "gpt": ["tests/integration/responses", "tests/integration/inference/test_chat.py::test_chat"],
    "vllm": ["tests/integration/inference/test_chat.py"],
}
CHAT = "tests/integration/inference/test_chat.py"
ANSWERS = "tests/integration/responses/test_answers.py"

SUITES = '''"""Setups and suites, as upstream defines them (read by fixtures as data, never imported by it)."""

from pathlib import Path

from pydantic import BaseModel, Field

this_dir = Path(__file__).parent


class Suite(BaseModel):
    name: str
    roots: list[str]
    default_setup: str | None = None


class Setup(BaseModel):
    name: str
    description: str
    defaults: dict[str, str | int] = Field(default_factory=dict)
    env: dict[str, str] = Field(default_factory=dict)


SETUP_DEFINITIONS: dict[str, Setup] = {
    "ollama": Setup(
        name="ollama",
        description="local Ollama",
        env={"OLLAMA_URL": "http://0.0.0.0:11434"},
        defaults={"text_model": "ollama/llama3.2:3b-instruct-fp16", "embedding_model": "ollama/nomic-embed-text:v1.5"},
    ),
    "gpt": Setup(
        name="gpt",
        description="OpenAI",
        defaults={
            "text_model": "openai/gpt-4o",
            "embedding_model": "openai/text-embedding-3-small",
            "embedding_dimension": 1536,
        },
    ),
    "vllm": Setup(
        name="vllm",
        description="vLLM",
        env={"VLLM_URL": "http://localhost:8000/v1"},
        defaults={"text_model": "vllm/Qwen/Qwen3-0.6B"},
    ),
}

base_roots = [
    str(p)
    for p in this_dir.glob("*")
    if p.is_dir() and p.name not in ("__pycache__", "recordings", "common", "responses")
]

SUITE_DEFINITIONS: dict[str, Suite] = {
    "base": Suite(name="base", roots=base_roots, default_setup="ollama"),
    "responses": Suite(name="responses", roots=["tests/integration/responses"], default_setup="gpt"),
    "base-vllm-subset": Suite(name="base-vllm-subset", roots=["tests/integration/inference"], default_setup="vllm"),
}
'''

MATRIX = {
    "default": [
        {"suite": "base", "setup": "ollama"},
        {"suite": "responses", "setup": "gpt"},
        {"suite": "base-vllm-subset", "setup": "vllm"},
    ]
}

SCRIPT = f"""#!/bin/bash
# What CI runs: the suite with its setup, and fixed model options.
pytest -s -v tests/integration/ --setup="$SETUP" --inference-mode="$MODE" \\
    --embedding-model={EMBEDDING_FOR_CI} \\
    --capture=tee-sys
"""

CONFTEST = '''"""The suite's conftest: options and setups become parametrization ids; the mode variable comes from
--inference-mode (default replay), as upstream writes it."""

import hashlib
import itertools
import inspect
import json
import os
import time
from pathlib import Path

import httpx
import pytest

from .suites import SETUP_DEFINITIONS

MODE = "@MODE@"


def pytest_addoption(parser):
    parser.addoption("--inference-mode", default="replay", choices=["record", "replay", "live", "record-if-missing"])
    parser.addoption("--setup", help="a setup of suites.py")
    parser.addoption("--suite", help="a suite of suites.py")
    parser.addoption("--text-model", help="comma-separated text models")
    parser.addoption("--embedding-model", help="comma-separated embedding models")
    parser.addoption("--embedding-dimension", type=int, default=768)


def pytest_configure(config):
    inference_mode = config.getoption("--inference-mode")
    os.environ[MODE] = inference_mode
    setup = config.getoption("--setup")
    if setup:
        if setup not in SETUP_DEFINITIONS:
            raise pytest.UsageError(f"Unknown setup {setup!r}")
        for key, value in SETUP_DEFINITIONS[setup].env.items():
            if key not in os.environ:
                os.environ[key] = str(value)
        for dest, value in SETUP_DEFINITIONS[setup].defaults.items():
            if getattr(config.option, dest, None) is None:
                setattr(config.option, dest, value)


def pytest_generate_tests(metafunc):
    fixture_configs = {
        "text_model_id": ("--text-model", "txt"),
        "embedding_model_id": ("--embedding-model", "emb"),
        "embedding_dimension": ("--embedding-dimension", "dim"),
    }
    params, values, parts = [], {}, []
    for fixture, (option, prefix) in fixture_configs.items():
        if fixture not in metafunc.fixturenames:
            continue
        params.append(fixture)
        value = getattr(metafunc.config.option, option.lstrip("-").replace("-", "_"), None)
        values[fixture] = [v.strip() for v in str(value).split(",")] if value else [None]
    if not params:
        return
    combos = list(itertools.product(*[values[p] for p in params]))
    names = set(inspect.signature(metafunc.function).parameters)
    ids = []
    for combo in combos:
        shown = [f"{fixture_configs[p][1]}={v}" for p, v in zip(params, combo) if p in names and v]
        if shown:
            ids.append(":".join(shown))
    metafunc.parametrize(params, combos, scope="session", ids=ids or None)


def _store(test_id, endpoint, body, type_name, answer):
    key = {"method": "POST", "endpoint": endpoint, "body": body, "test_id": test_id}
    name = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()
    folder = Path(test_id.split("::")[0]).parent / "recordings"
    path = folder / f"{name}.json"
    recording = {
        "test_id": test_id,
        "request": {"method": "POST", "url": os.environ["MINI_FAKE_URL"] + "/v1" + endpoint, "headers": {},
                    "body": body, "endpoint": endpoint, "model": body.get("model", "")},
        "response": {"body": {"__type__": type_name, "__data__": answer}, "is_streaming": False},
        "id_normalization_mapping": {},
    }
    return path, recording


def pytest_sessionstart(session):
    # The stack lists its models at start-up, outside any test: the file has no test id.
    if os.environ.get(MODE) != "record":
        return
    models = httpx.get(os.environ["MINI_FAKE_URL"] + "/v1/models").json()["data"]
    digest = hashlib.sha256(",".join(sorted(m["id"] for m in models)).encode()).hexdigest()[:8]
    folder = Path("tests/integration/common/recordings")
    folder.mkdir(parents=True, exist_ok=True)
    recording = {
        "test_id": None,
        "request": {"method": "GET", "url": os.environ["MINI_FAKE_URL"] + "/v1/models", "headers": {}, "body": {},
                    "endpoint": "/v1/models", "model": ""},
        "response": {"body": [{"__type__": "openai.types.model.Model", "__data__": m} for m in models],
                     "is_streaming": False},
    }
    name = "models-" + "0" * 64 + "-" + digest + ".json"
    for old in folder.glob("models-*.json"):
        old.unlink()
    (folder / name).write_text(json.dumps(recording, indent=2) + "\\n")


class Recorder:
    def __init__(self, test_id):
        self.test_id = test_id

    def call(self, endpoint, body, type_name):
        path, recording = _store(self.test_id, endpoint, body, type_name, None)
        if os.environ[MODE] == "replay":
            if not path.exists():
                url = os.environ["MINI_FAKE_URL"] + "/v1" + endpoint
                raise RuntimeError(  # as upstream's recorder says it
                    f"Recording not found for request hash: {path.stem}\\n"
                    f"Model: {body.get('model', 'unknown')} | Request: POST {url}"
                )
            return json.loads(path.read_text())["response"]["body"]["__data__"]
        answer = httpx.post(os.environ["MINI_FAKE_URL"] + "/v1" + endpoint, json=body).json()
        recording["response"]["body"]["__data__"] = answer
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(recording, indent=2) + "\\n")
        return answer

    def chat(self, model, text):
        body = {"model": model, "messages": [{"role": "user", "content": text}]}
        return self.call("/chat/completions", body, "openai.types.chat.chat_completion.ChatCompletion")

    def embed(self, model, text, dimensions):
        body = {"model": model, "input": text, "dimensions": dimensions}
        return self.call("/embeddings", body, "openai.types.create_embedding_response.CreateEmbeddingResponse")


@pytest.fixture
def recorder(request):
    yield Recorder(request.node.nodeid)
    failing = os.environ.get("MINI_FAIL")
    if failing and failing in request.node.nodeid and os.environ[MODE] == "record":
        sync = os.environ.get("MINI_SYNC")
        if sync:
            (Path(sync) / "started").touch()
            deadline = time.monotonic() + 20
            while not (Path(sync) / "go").exists() and time.monotonic() < deadline:
                time.sleep(0.02)
        pytest.fail("injected failure after recording")
'''

CHAT_TESTS = """import pytest


def test_chat(recorder, text_model_id):
    assert "hello" in recorder.chat(text_model_id, "hello")["choices"][0]["message"]["content"]


@pytest.mark.parametrize("question", ["sky", "sea"])
def test_ask(recorder, text_model_id, question):
    recorder.chat(text_model_id, f"what colour is the {question}?")


def test_embed(recorder, embedding_model_id, embedding_dimension):
    recorder.embed(embedding_model_id, "hello", embedding_dimension)
"""

ANSWER_TESTS = """def test_answer(recorder, text_model_id):
    recorder.chat(text_model_id, "answer me")
"""


def write_suite(root: Path, era: str) -> None:
    """The miniature suite of `era` in `root` (no recordings yet)."""
    integration = root / "tests" / "integration"
    for folder in ("", "inference", "responses"):
        (integration / folder).mkdir(parents=True, exist_ok=True)
        (integration / folder / "__init__.py").write_text("")
    (root / "tests" / "__init__.py").write_text("")
    (root / "pyproject.toml").write_text(
        '[project]\nname = "mini-suite"\nversion = "0"\n\n[tool.pytest.ini_options]\naddopts = "-p no:cacheprovider"\n'
    )
    (integration / "suites.py").write_text(SUITES)
    (integration / "conftest.py").write_text(CONFTEST.replace("@MODE@", MODE_VARIABLE[era]))
    (root / CHAT).write_text(CHAT_TESTS)
    (root / ANSWERS).write_text(ANSWER_TESTS)
    if era == "ogx":
        (integration / "ci_matrix.json").write_text(json.dumps(MATRIX, indent=2) + "\n")
        (root / "scripts").mkdir(exist_ok=True)
        (root / "scripts" / "integration-tests.sh").write_text(SCRIPT)


def pytest_run(root: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", *args],
        cwd=root,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
    )


def record_first(root: Path, era: str, fake_url: str) -> None:
    """The first recordings, made as CI makes them: each setup's suite in record mode (with the CI script's
    options in the OGX era). Then a replay run of one setup must pass (replay works from them)."""
    env = {"MINI_FAKE_URL": fake_url, "PYTHONDONTWRITEBYTECODE": "1"}
    extra = [f"--embedding-model={EMBEDDING_FOR_CI}"] if era == "ogx" else []
    for setup in SETUPS:
        done = pytest_run(root, f"--setup={setup}", "--inference-mode=record", *extra, *FIRST_RECORDING[setup], env=env)
        assert done.returncode == 0, done.stdout + done.stderr
    replay = pytest_run(root, "--setup=ollama", *extra, *FIRST_RECORDING["ollama"], env=env)
    assert replay.returncode == 0, replay.stdout + replay.stderr


def git(root: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def recordings(root: Path) -> dict[str, dict[str, object]]:
    """Every recording of the project by path, parsed."""
    return {
        path.relative_to(root).as_posix(): json.loads(path.read_bytes())
        for path in sorted(root.glob("tests/**/recordings/*.json"))
    }
