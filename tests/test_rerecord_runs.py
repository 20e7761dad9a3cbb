"""The pytest runner's plan on the two upstream eras' own files (../shared/upstream/suite: suites.py, ci_matrix.json,
conftest.py, the CI script, read as data): what is read, the preset and why, which setup produces each id, the
runs and their exact command lines; and the gate every test id passes before it reaches one."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path

import pytest

from conftest import REPO
from llm_fixtures.rerecording.nodeids import node_id_problem
from llm_fixtures.rerecording.recordmode import choose_preset
from llm_fixtures.rerecording.runs import Config, place_test, setup_runs
from llm_fixtures.rerecording.suitedefs import Conftest, ModelOption, Setup, SuiteDefinitions, read_suite_definitions
from llm_fixtures.settings import RerecordSettings

UPSTREAM = REPO.parent / "shared" / "upstream" / "suite"
ERA_FOLDERS = {"ogx": "ogx-2026-05", "llama-stack": "llama-stack-2025-10"}
INTEGRATION = "tests/integration"
CI_EMBEDDING = "--embedding-model=sentence-transformers/nomic-ai/nomic-embed-text-v1.5"
CI_RERANK = "--rerank-model=transformers/Qwen/Qwen3-Reranker-0.6B"


def checkout(era: str, tmp_path: Path, tests: Sequence[str] = ()) -> Path:
    """The era's files in a folder laid out as the repository is, with the test folders `base` collects and
    a file for each test id (the test modules themselves are not part of the shared data)."""
    source = UPSTREAM / ERA_FOLDERS[era]
    if not source.is_dir():
        pytest.skip("../shared/upstream/suite is not present")
    root = tmp_path / era
    shutil.copytree(source, root)
    for folder in ("inference", "responses", "messages", "interactions", "agents", "vector_io", "safety"):
        (root / INTEGRATION / folder).mkdir(exist_ok=True)
    for test in tests:
        (root / test.split("::")[0]).touch()
    return root


@pytest.mark.parametrize(
    ("era", "setups", "suites", "jobs", "script", "variable", "prefixes"),
    [
        ("ogx", 22, 12, 19, {"--embedding-model", "--rerank-model"}, "OGX_TEST_INFERENCE_MODE", 7),
        ("llama-stack", 12, 3, 0, {"--embedding-model"}, "LLAMA_STACK_TEST_INFERENCE_MODE", 6),
    ],
)
def test_each_era_is_read_as_data(
    tmp_path: Path,
    era: str,
    setups: int,
    suites: int,
    jobs: int,
    script: set[str],
    variable: str,
    prefixes: int,
) -> None:
    found = read_suite_definitions(checkout(era, tmp_path))
    assert (len(found.setups), len(found.suites), len(found.matrix)) == (setups, suites, jobs)
    assert set(found.script_options) == script and not found.notes
    assert found.setups["ollama"].defaults["text_model"] == "ollama/llama3.2:3b-instruct-fp16"
    assert found.setups["ollama"].env["OLLAMA_URL"].startswith("http://0.0.0.0:11434")
    # `base_roots` is every folder beside suites.py but the ones it leaves out, as the comprehension says.
    assert f"{INTEGRATION}/inference" in (found.suites["base"].roots or ())
    assert f"{INTEGRATION}/responses" not in (found.suites["base"].roots or ())
    assert found.suites["vision"].default_setup == "ollama-vision"
    conftest = found.conftest
    assert conftest is not None and conftest.mode_variable == variable and conftest.writes_mode_from_option
    assert conftest.has_setup_option and conftest.option_default("embedding_dimension") == 768
    assert (
        len(conftest.model_options) == prefixes and conftest.short_ids["nomic-ai/nomic-embed-text-v1.5"] == "Nomic-v1.5"
    )
    preset = choose_preset(RerecordSettings(), conftest, tmp_path)
    assert preset is not None and preset.name == era and preset.args == ("--inference-mode=record",)
    assert preset.env == {variable: "record"}
    assert f"sets {variable} from --inference-mode (default 'replay')" in preset.why[0]


# (era, node id, the setup that produces it, whether with the options CI's script passes)
OLLAMA_TXT = "txt=ollama/llama3.2:3b-instruct-fp16"
CI_EMB = "emb=sentence-transformers/nomic-ai/nomic-embed-text-v1.5"
AUTO_IDS = (
    "openai_client-watsonx/meta-llama/llama-3-3-70b-instruct-None-"
    "sentence-transformers/nomic-ai/nomic-embed-text-v1.5-None-transformers/Qwen/Qwen3-Reranker-0.6B"
)
PLACES = [
    (
        "ogx",
        "inference/test_openai_completion.py::test_inference_store",
        f"client_with_models-{OLLAMA_TXT}-False",
        "ollama",
        True,
    ),
    (
        "ogx",
        "inference/test_openai_completion.py::test_inference_store",
        "client_with_models-txt=vllm/Qwen/Qwen3-0.6B-False",
        "vllm",
        True,
    ),
    (
        "ogx",
        "inference/test_openai_completion.py::test_streaming",
        "client_with_models-txt=bedrock/openai.gpt-oss-20b-1:0",
        "bedrock",
        True,
    ),
    (
        "ogx",
        "inference/test_vision_inference.py::test_image_chat_completion",
        "vis=ollama/llama3.2-vision:11b",
        "ollama-vision",
        True,
    ),
    ("ogx", "responses/test_basic_responses.py::test_basic", "openai_client-txt=azure/gpt-4o-earth", "azure", True),
    ("ogx", "responses/test_reasoning.py::test_reasoning_basic", "txt=openai/o4-mini-low", "gpt-reasoning", True),
    (
        "ogx",
        "messages/test_messages.py::test_messages_non_streaming",
        "txt=ollama/gpt-oss:20b",
        "ollama-reasoning",
        True,
    ),
    (
        "ogx",
        "vector_io/test_stores.py::test_store",
        f"client_with_models-vector_io=faiss-{OLLAMA_TXT}:{CI_EMB}:dim=768",
        "ollama",
        True,
    ),
    # A local record with the setup alone: its embedding model is the setup's, so no CI options.
    (
        "ogx",
        "vector_io/test_stores.py::test_store",
        f"client_with_models-{OLLAMA_TXT}:emb=ollama/nomic-embed-text:v1.5:dim=768",
        "ollama",
        False,
    ),
    # pytest's own ids of the values (the test takes the model fixtures through others).
    ("ogx", "responses/test_x.py::test_y", AUTO_IDS, "watsonx", True),
    ("ogx", "safety/test_safety.py::test_unsafe_examples", "shield=llama-guard", "ollama", True),
    (
        "llama-stack",
        "inference/test_completion.py::test_sanity",
        f"{OLLAMA_TXT}-inference:completion:sanity",
        "ollama",
        True,
    ),
    (
        "llama-stack",
        "inference/test_completion.py::test_sanity",
        "txt=vllm/meta-llama/Llama-3.2-1B-Instruct",
        "vllm",
        True,
    ),
    (
        "llama-stack",
        "responses/test_basic_responses.py::test_basic",
        "openai_client-txt=openai/gpt-4o-earth",
        "gpt",
        True,
    ),
    (
        "llama-stack",
        "inference/test_vision_inference.py::test_image",
        "vis=ollama/llama3.2-vision:11b",
        "ollama-vision",
        True,
    ),
]


@pytest.mark.parametrize(("era", "test", "params", "setup", "with_ci"), PLACES)
def test_each_id_goes_to_the_setup_that_produces_it(
    tmp_path: Path, era: str, test: str, params: str, setup: str, with_ci: bool
) -> None:
    node_id = f"{INTEGRATION}/{test}[{params}]"
    found = read_suite_definitions(checkout(era, tmp_path, [node_id]))
    placed = place_test(found, node_id)
    assert isinstance(placed, Config), placed
    assert placed.setup == setup
    assert bool(placed.options) == with_ci


def test_an_id_no_setup_produces_says_why(tmp_path: Path) -> None:
    node_id = f"{INTEGRATION}/inference/test_a.py::test_b[txt=ollama/llama3.2:1b]"
    found = read_suite_definitions(checkout("ogx", tmp_path, [node_id]))
    reason = place_test(found, node_id)
    assert reason == (
        "no setup of tests/integration/suites.py gives its parameters [txt=ollama/llama3.2:1b] "
        "(nor with what scripts/integration-tests.sh passes)"
    )


@pytest.mark.parametrize("era", ["ogx", "llama-stack"])
def test_an_id_without_parameters_goes_to_the_first_setup_that_runs_its_suite(tmp_path: Path, era: str) -> None:
    """A test named without parameters (a new test, given by hand) is every parametrization of it: the setup CI
    runs its suite with, whatever the function's parameters."""
    node_id = f"{INTEGRATION}/inference/test_openai_completion.py::test_inference_store"
    found = read_suite_definitions(checkout(era, tmp_path, [node_id]))
    for signature in (None, frozenset({"text_model_id"}), frozenset()):
        placed = place_test(found, node_id, signature)
        assert isinstance(placed, Config), placed
        assert (placed.setup, placed.suite) == ("ollama", "base")
        assert placed.why.startswith("CI runs suite base" if era == "ogx" else "setup ollama is the default of suite")


def test_three_setups_are_three_runs_with_the_commands_ci_would_run(tmp_path: Path) -> None:
    completion = f"{INTEGRATION}/inference/test_openai_completion.py"
    tests = [
        f"{completion}::test_inference_store[client_with_models-{OLLAMA_TXT}-False]",
        f"{completion}::test_inference_store[client_with_models-txt=vllm/Qwen/Qwen3-0.6B-False]",
        f"{INTEGRATION}/responses/test_basic_responses.py::test_basic[openai_client-txt=openai/gpt-4o-earth]",
        f"{completion}::test_openai_completion_non_streaming[{OLLAMA_TXT}-inference:completion:sanity]",
    ]
    root = checkout("ogx", tmp_path, tests)
    (root / "src" / "ogx" / "distributions" / "ci-tests").mkdir(parents=True)
    found = read_suite_definitions(root)
    preset = choose_preset(RerecordSettings(), found.conftest, root)
    placement = setup_runs(found, preset, RerecordSettings(), tests, environ={})
    assert not placement.unplaced
    assert [(run.setup, len(run.tests)) for run in placement.runs] == [("ollama", 2), ("vllm", 1), ("gpt", 1)]
    ollama = placement.runs[0]
    assert ollama.argv == [
        "pytest",
        "--setup=ollama",
        CI_EMBEDDING,
        CI_RERANK,
        "--stack-config=ci-tests",
        "--inference-mode=record",
        "--",
        tests[0],
        tests[3],
    ]
    assert ollama.env == {"OGX_TEST_INFERENCE_MODE": "record"} and ollama.suites == ["base"]
    assert "CI runs suite base with setup ollama (tests/integration/ci_matrix.json)" in ollama.why
    assert placement.runs[1].suites == ["base-vllm-subset"] and placement.runs[2].suites == ["responses"]
    # A stack named in the environment is the user's choice: no --stack-config then.
    named = setup_runs(found, preset, RerecordSettings(), tests, environ={"OGX_CONFIG": "starter"})
    assert not any(arg.startswith("--stack-config") for run in named.runs for arg in run.argv)
    # [tool.fixtures.rerecord] env goes over the preset's in every run.
    mine = setup_runs(found, preset, RerecordSettings(env={"OGX_TEST_INFERENCE_MODE": "record-if-missing"}), tests, {})
    assert {run.env["OGX_TEST_INFERENCE_MODE"] for run in mine.runs} == {"record-if-missing"}


def test_the_test_function_decides_a_missing_part() -> None:
    """`test_embed[dim=768]`: the test takes an embedding model, so the setup must give it none."""
    definitions = SuiteDefinitions(
        setups={
            "ollama": Setup("ollama", {}, {"text_model": "ollama/m", "embedding_model": "ollama/e"}),
            "vllm": Setup("vllm", {}, {"text_model": "vllm/m"}),
        },
        conftest=Conftest(
            "conftest.py",
            options={"--setup": None, "--embedding-dimension": 768},
            model_options=(
                ModelOption("text_model_id", "--text-model", "txt"),
                ModelOption("embedding_model_id", "--embedding-model", "emb"),
                ModelOption("embedding_dimension", "--embedding-dimension", "dim"),
            ),
        ),
    )
    test = "tests/t.py::test_embed[dim=768]"
    takes = frozenset({"recorder", "embedding_model_id", "embedding_dimension"})
    placed = place_test(definitions, test, takes)
    assert isinstance(placed, Config) and placed.setup == "vllm"
    # Without the function's parameters, the parts there are all that is checked: the first setup.
    guessed = place_test(definitions, test)
    assert isinstance(guessed, Config) and guessed.setup == "ollama"


@pytest.mark.parametrize(
    ("test_id", "problem"),
    [
        ("--basetemp=/tmp/elsewhere/a::b/..", "starts with '-'"),
        ("--junitxml=/tmp/elsewhere/j.xml::x", "starts with '-'"),
        ("-p::x", "starts with '-'"),
        ("@/tmp/elsewhere/args::x", "starts with '@'"),
        ("tests/x.py::t\nrm -rf /", "control character"),
        ("tests/x.py::t\x1b[2J", "control character"),
        ("tests/x.py::t\ud800", "lone surrogate"),
        ("tests/x.py", "no '::'"),
        ("::t", "names no test file"),
        ("/etc/x.py::t", "absolute path"),
        ("tests/../../x.py::t", "has a '..'"),
        ("tests/link/x.py::t", "leads outside the project"),
        ("x" * 2001 + "::t", "longer than"),
        (None, "no test id"),
        (5, "no test id"),
    ],
)
def test_only_node_ids_may_reach_a_command_line(tmp_path: Path, test_id: object, problem: str) -> None:
    root = tmp_path / "project"
    (root / "tests").mkdir(parents=True)
    (tmp_path / "outside").mkdir()
    (root / "tests" / "link").symlink_to(tmp_path / "outside")
    found = node_id_problem(test_id, root)
    assert found is not None and problem in found


@pytest.mark.parametrize(
    "test_id",
    [
        "tests/integration/inference/test_x.py::test_y[txt=ollama/llama3.2:3b-instruct-fp16-False]",
        "tests/x.py::TestClass::test_y[a::b]",
        "test_x.py::test_y",
    ],
)
def test_real_node_ids_pass(tmp_path: Path, test_id: str) -> None:
    assert node_id_problem(test_id, tmp_path) is None
