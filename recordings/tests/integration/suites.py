"""The setups and suites of these integration tests, as the upstream suite defines them: a setup gives default
models (and environment) to the model options, so `pytest --setup=gpt` runs the tests with `txt=openai/gpt-4o`; a
suite names the tests it runs and the setup it runs them with by default."""

from __future__ import annotations

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
        description="Local Ollama with a small text model",
        env={"OLLAMA_URL": "http://0.0.0.0:11434"},
        defaults={"text_model": "ollama/llama3.2:3b-instruct-fp16"},
    ),
    "ollama-thinking": Setup(
        name="ollama-thinking",
        description="Local Ollama with a thinking model that calls tools",
        env={"OLLAMA_URL": "http://0.0.0.0:11434"},
        defaults={"text_model": "ollama/qwen3:4b"},
    ),
    "ollama-vision": Setup(
        name="ollama-vision",
        description="Local Ollama with a vision model",
        env={"OLLAMA_URL": "http://0.0.0.0:11434"},
        defaults={"vision_model": "ollama/llama3.2-vision:11b"},
    ),
    "vllm": Setup(
        name="vllm",
        description="vLLM with a reasoning model",
        env={"VLLM_URL": "http://localhost:8000/v1"},
        defaults={"text_model": "vllm/Qwen/Qwen3-0.6B"},
    ),
    "gpt": Setup(
        name="gpt",
        description="OpenAI models",
        defaults={"text_model": "openai/gpt-4o", "embedding_model": "openai/text-embedding-3-small"},
    ),
    "azure": Setup(name="azure", description="Azure OpenAI", defaults={"text_model": "azure/gpt-4o"}),
    "vertexai": Setup(
        name="vertexai",
        description="Gemini on Vertex AI",
        defaults={"text_model": "vertexai/publishers/google/models/gemini-2.0-flash"},
    ),
    "anthropic": Setup(name="anthropic", description="Anthropic", defaults={"text_model": "anthropic/claude-haiku-4-5"}),
    "gemini": Setup(name="gemini", description="Gemini API", defaults={"text_model": "gemini/gemini-2.5-flash-lite"}),
}

base_roots = [
    str(p)
    for p in this_dir.glob("*")
    if p.is_dir() and p.name not in ("__pycache__", "recordings", "responses", "messages", "interactions")
]

SUITE_DEFINITIONS: dict[str, Suite] = {
    "base": Suite(name="base", roots=base_roots, default_setup="ollama"),
    "vision": Suite(
        name="vision", roots=["tests/integration/inference/test_vision_inference.py"], default_setup="ollama-vision"
    ),
    "responses": Suite(name="responses", roots=["tests/integration/responses"], default_setup="gpt"),
    "messages": Suite(name="messages", roots=["tests/integration/messages"], default_setup="anthropic"),
    "interactions": Suite(name="interactions", roots=["tests/integration/interactions"], default_setup="gemini"),
}
