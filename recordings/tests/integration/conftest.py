"""Integration test set-up: models chosen on the command line become parametrization ids (`txt=`, `vis=`,
`emb=`), and the clients talk to a running stack whose recorder replays the files under `*/recordings/`."""

from __future__ import annotations

import os

import httpx
import pytest
from openai import OpenAI

MODEL_OPTIONS = (
    ("text_model_id", "--text-model", "txt"),
    ("vision_model_id", "--vision-model", "vis"),
    ("embedding_model_id", "--embedding-model", "emb"),
)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--stack-url", default=os.environ.get("STACK_URL", "http://localhost:8321"))
    parser.addoption("--inference-mode", default="replay", choices=["replay", "record", "record-if-missing", "live"])
    for _fixture, option, _prefix in MODEL_OPTIONS:
        parser.addoption(option, default=None, help="comma-separated provider/model ids")


def pytest_configure(config: pytest.Config) -> None:
    os.environ["STACK_TEST_INFERENCE_MODE"] = config.getoption("--inference-mode")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    # The client comes first in the id, then the model, then the test's own parameters.
    if "compat_client" in metafunc.fixturenames:
        metafunc.parametrize("compat_client", ["openai_client"], indirect=True)
    for fixture, option, prefix in MODEL_OPTIONS:
        if fixture not in metafunc.fixturenames:
            continue
        models = [model for model in (metafunc.config.getoption(option) or "").split(",") if model]
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
