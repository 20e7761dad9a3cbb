"""`main` builds only the command asked for; that command behaves exactly as in the whole application."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import typer.main
from typer._click import Context
from typer.testing import CliRunner

from llm_fixtures.app import COMMANDS, app, build_app


@pytest.mark.parametrize("name", COMMANDS)
def test_a_command_alone_has_the_same_help_and_errors(name: str) -> None:
    runner = CliRunner()
    alone = build_app([name])
    for args in ([name, "--help"], [name, "--no-such-option"]):
        whole, single = runner.invoke(app, args), runner.invoke(alone, args)
        assert (single.exit_code, single.output) == (whole.exit_code, whole.output)
    assert runner.invoke(alone, [name, "--help"]).exit_code == 0


def test_the_whole_application_has_every_command_in_order() -> None:
    group = typer.main.get_command(app)
    assert group.list_commands(Context(group)) == list(COMMANDS)  # type: ignore[attr-defined]  # a Typer group


def run_main(*args: str) -> subprocess.CompletedProcess[str]:
    code = (
        "import sys\n"
        f"sys.argv = ['fixtures', *{list(args)!r}]\n"
        "from llm_fixtures.app import main\n"
        "try:\n"
        "    main()\n"
        "finally:\n"
        "    loaded = sorted(m for m in sys.modules if m.startswith('llm_fixtures.commands.'))\n"
        "    print('loaded:', ','.join(loaded), file=sys.stderr)\n"
    )
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)


def test_main_imports_only_the_command_asked_for(tmp_path: Path) -> None:
    done = run_main("ls", "--json", str(tmp_path))
    assert done.returncode == 0, done.stderr
    loaded = done.stderr.strip().splitlines()[-1]
    assert "llm_fixtures.commands.ls" in loaded
    assert not any(f"llm_fixtures.commands.{name}" in loaded.split(",") for name in COMMANDS if name != "ls")


def test_main_without_a_command_name_is_the_whole_application() -> None:
    done = run_main("lss")
    assert done.returncode == 2
    assert "No such command 'lss'" in done.stderr
    assert "Did you mean 'ls'" in done.stderr
    version = run_main("--version")
    assert version.returncode == 0 and version.stdout.startswith("fixtures ")
