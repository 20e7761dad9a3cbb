"""Integration test set-up: models chosen on the command line, or by a setup of suites.py (`--setup=gpt`), become
parametrization ids (`txt=`, `vis=`, `emb=`), and the clients talk to a running stack whose recorder replays the
files under `*/recordings/` (or records them: `--inference-mode record`)."""

from __future__ import annotations

import os

import httpx
import pytest
from openai import OpenAI

from .suites import SETUP_DEFINITIONS


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--stack-url", default=os.environ.get("STACK_URL", "http://localhost:8321"))
    parser.addoption("--inference-mode", default="replay", choices=["replay", "record", "record-if-missing", "live"])
    parser.addoption("--setup", default=None, help=f"models and environment: {', '.join(SETUP_DEFINITIONS)}")
    parser.addoption("--text-model", default=None, help="comma-separated provider/model ids")
    parser.addoption("--vision-model", default=None, help="comma-separated provider/model ids")
    parser.addoption("--embedding-model", default=None, help="comma-separated provider/model ids")


def pytest_configure(config: pytest.Config) -> None:
    # The recorder reads the variable; the option (default replay) always sets it.
    os.environ["OGX_TEST_INFERENCE_MODE"] = config.getoption("--inference-mode")
    setup = config.getoption("--setup")
    if setup:
        if setup not in SETUP_DEFINITIONS:
            raise pytest.UsageError(f"unknown setup {setup!r}; one of {', '.join(SETUP_DEFINITIONS)}")
        for name, value in SETUP_DEFINITIONS[setup].env.items():
            os.environ.setdefault(name, value)
        for dest, value in SETUP_DEFINITIONS[setup].defaults.items():
            if getattr(config.option, dest, None) is None:
                setattr(config.option, dest, value)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    # The client comes first in the id, then the model, then the test's own parameters.
    if "compat_client" in metafunc.fixturenames:
        metafunc.parametrize("compat_client", ["openai_client"], indirect=True)
    fixture_configs = {
        "text_model_id": ("--text-model", "txt"),
        "vision_model_id": ("--vision-model", "vis"),
        "embedding_model_id": ("--embedding-model", "emb"),
    }
    for fixture, (option, prefix) in fixture_configs.items():
        if fixture not in metafunc.fixturenames:
            continue
        value = getattr(metafunc.config.option, option.lstrip("-").replace("-", "_"), None)
        models = [model for model in (value or "").split(",") if model]
        metafunc.parametrize(fixture, models, ids=[f"{prefix}={model}" for model in models])


@pytest.fixture(scope="session")
def stack_url(request: pytest.FixtureRequest) -> str:
    return str(request.config.getoption("--stack-url")).rstrip("/")


@pytest.fixture(scope="session")
def openai_client(stack_url: str) -> OpenAI:
    return OpenAI(base_url=f"{stack_url}/v1", api_key="not-needed")


@pytest.fixture
def compat_client(request: pytest.FixtureRequest) -> OpenAI:
    client: OpenAI = request.getfixturevalue(request.param)
    return client


@pytest.fixture(scope="session")
def http_client(stack_url: str) -> httpx.Client:
    return httpx.Client(base_url=stack_url, timeout=60)
