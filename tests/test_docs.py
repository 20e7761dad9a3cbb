"""The README and CI stay true: the set-up commands, the CI test command, and every command documented."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from conftest import REPO
from llm_fixtures.app import app

README = (REPO / "README.md").read_text()


def setup_commands() -> list[str]:
    block = re.search(r"```sh\n(.*?)```", README, re.DOTALL)
    assert block is not None and README.index(block.group(0)) < README.index("\n## "), "README opens with set-up"
    return block.group(1).strip().splitlines()


def test_readme_opens_with_exactly_two_setup_commands() -> None:
    install, test = setup_commands()
    assert install.endswith("fixtures ls")
    assert "'.[dev]'" in test and test.endswith("pytest")


def test_ci_runs_the_readme_test_command() -> None:
    assert setup_commands()[1] in (REPO / ".ci" / "run").read_text().splitlines()


COMMANDS = ["ls", "show", "diff", "check", "normalize", "prune", "rerecord", "explain"]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_is_documented_and_has_help(command: str, runner: CliRunner) -> None:
    assert f"`fixtures {command}`" in README
    result = runner.invoke(app, [command, "--help"])
    assert result.exit_code == 0
