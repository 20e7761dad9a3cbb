"""Terminal output as people see it: the commands run on a real pseudo-terminal at 60, 80, 100 and 200 columns
(rows that fit, identifying columns whole), piped (one line per item, every value whole), and with NO_COLOR and
TERM=dumb (no styles at all)."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import builders
from conftest import CORPUS, SAMPLES
from llm_fixtures.app import app
from llm_fixtures.humanizing import human_bytes
from llm_fixtures.render.columns import Column, Layout, cell_width, cut_middle, render_rows
from llm_fixtures.render.ls import cut_test_id

WIDTHS = (60, 80, 100, 200)
ESCAPE = re.compile(r"\x1b\[[0-9;]*m")


def on_terminal(args: list[str], width: int, cwd: Path, **env: str) -> tuple[str, str, int]:
    """(stdout as the terminal got it, stderr, exit code) of `fixtures ARGS` on a pseudo-terminal `width`
    columns wide (COLUMNS unset: the width comes from the terminal itself)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, width, 0, 0))
    environment = {key: value for key, value in os.environ.items() if key not in ("COLUMNS", "NO_COLOR", "TERM")}
    environment.update({"TERM": "xterm-256color", **env})
    process = subprocess.Popen(
        [sys.executable, "-m", "llm_fixtures", *args],
        stdout=slave,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        cwd=cwd,
        env=environment,
    )
    os.close(slave)
    chunks: list[bytes] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 1)
        if not ready:
            if process.poll() is not None:
                break
            continue
        try:
            data = os.read(master, 65536)
        except OSError:  # the terminal closed: everything was read
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    assert process.stderr is not None
    err = process.stderr.read().decode()
    code = process.wait(timeout=10)
    return b"".join(chunks).decode().replace("\r\n", "\n"), err, code


@pytest.fixture(scope="module")
def tree() -> Path:
    """The recordings to list: the corpus's 2026 tree when present (test ids up to 230 characters), else the
    samples."""
    return CORPUS / "llama-stack" if CORPUS.is_dir() else SAMPLES


def listing(runner: CliRunner, tree: Path, *args: str) -> list[dict[str, Any]]:
    result = runner.invoke(app, ["ls", "--json", str(tree), *args], catch_exceptions=False)
    return [json.loads(line) for line in result.stdout.splitlines()]


@pytest.mark.parametrize("width", WIDTHS)
def test_ls_fits_the_terminal_and_keeps_identifying_columns_whole(
    runner: CliRunner, tree: Path, width: int, tmp_path: Path
) -> None:
    rows = listing(runner, tree, "--sort", "size")
    out, err, code = on_terminal(["ls", str(tree), "--sort", "size"], width, tmp_path)
    assert code == 0, err
    lines = ESCAPE.sub("", out).splitlines()
    assert len(lines) == len(rows) + 1  # one line per recording: nothing wrapped
    assert all(cell_width(line) <= width for line in lines), max(lines, key=cell_width)
    header = lines[0].split()
    assert header[0] == "hash" and header[1] == "test" and header[-2:] == ["stream", "size"]
    for line, row in zip(lines[1:], rows, strict=True):
        assert line.startswith(row["hash"][:12] + " "), line
        stream = f"yes {row['chunks']}" if row["streaming"] else "no"
        assert line.endswith(" " + human_bytes(row["bytes"])), line  # the size whole, right-aligned
        assert f" {stream} " in line, line
        test_id = row["test_id"]
        if test_id and " " not in test_id:
            cells = line[12:].split()
            cell = cells[1] if cells[0] == "!" else cells[0]  # the test id: at most function and parameters cut
            assert cell.count("…") <= 2 and cell[-2:] == test_id[-2:], (cell, test_id)
            assert ("[" in cell) == ("[" in test_id), (cell, test_id)
    left_out = {"endpoint", "model"} - set(header)
    if left_out:
        assert all(name in err for name in left_out) and f"fit {width} columns" in err
    if width >= 100:
        assert not left_out
    if "…" in out:  # something was shortened: only because the table takes the whole width
        assert max(cell_width(line) for line in lines) >= width - 2, (width, max(lines, key=cell_width))


@pytest.mark.parametrize("width", WIDTHS)
def test_groups_fit_the_terminal_with_their_counts_whole(
    runner: CliRunner, tree: Path, width: int, tmp_path: Path
) -> None:
    groups = [json.loads(line) for line in _invoke(runner, "ls", "--json", "--group-by", "test", str(tree))]
    out, err, code = on_terminal(["ls", "--group-by", "test", str(tree)], width, tmp_path)
    assert code == 0, err
    lines = ESCAPE.sub("", out).splitlines()
    assert len(lines) == len(groups) + 1
    assert all(cell_width(line) <= width for line in lines)
    for line, group in zip(lines[1:], groups, strict=True):
        assert line.endswith(f"{group['count']}  {human_bytes(group['bytes']):>8}".lstrip()) or line.split()[-3] == str(
            group["count"]
        )


def _invoke(runner: CliRunner, *args: str) -> list[str]:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code in (0, 1), result.stderr
    return result.stdout.splitlines()


def test_piped_ls_is_one_line_per_recording_with_every_value_whole(runner: CliRunner, tree: Path) -> None:
    rows = listing(runner, tree)
    lines = _invoke(runner, "ls", str(tree))
    assert len(lines) == len(rows) + 1
    assert "…" not in "\n".join(lines)  # no value cut, no double ellipsis
    for line, row in zip(lines[1:], rows, strict=True):
        assert (row["test_id"] or "(no test id)") in line
        assert row["endpoint"] in line and (row["model"] or "") in line
        assert line == line.rstrip()
    groups = _invoke(runner, "ls", "--group-by", "test", str(tree))
    test_ids = {row["test_id"] for row in rows}
    assert len(groups) == len(test_ids) + 1  # one line per group, never wrapped
    for test_id in test_ids - {None}:
        assert any(line.startswith(test_id + " ") for line in groups), test_id


def test_piped_show_never_wraps_a_value(runner: CliRunner, tree: Path) -> None:
    rows = sorted(listing(runner, tree), key=lambda row: -len(row["test_id"] or ""))[:3]
    for row in rows:
        lines = _invoke(runner, "show", row["path"])
        assert lines[0] == row["path"]  # a rule is only its title in a pipe
        assert f"test      {row['test_id']}" in lines
        if row["url"]:
            assert any(line.startswith("url       ") and line.endswith(row["url"]) for line in lines)


@pytest.mark.parametrize("width", (60, 100))
def test_show_in_a_terminal_wraps_to_its_width(runner: CliRunner, tree: Path, width: int, tmp_path: Path) -> None:
    row = max(listing(runner, tree), key=lambda row: len(row["test_id"] or ""))
    out, err, code = on_terminal(["show", str(Path(row["path"]).resolve())], width, tmp_path)
    assert code == 0, err
    lines = ESCAPE.sub("", out).splitlines()
    assert all(cell_width(line) <= width for line in lines)
    assert "─" in lines[0]  # the rule under the path, as wide as the terminal


@pytest.mark.parametrize("env", [{"NO_COLOR": "1"}, {"TERM": "dumb"}, {}], ids=["NO_COLOR", "TERM=dumb", "styles"])
def test_no_color_and_dumb_terminals_get_no_style_at_all(tree: Path, env: dict[str, str], tmp_path: Path) -> None:
    outputs = [
        on_terminal(["ls", str(tree), "--limit", "3"], 100, tmp_path, **env)[0],
        on_terminal(["show", next(iter(sorted(tree.rglob("*.json")))).as_posix()], 100, tmp_path, **env)[0],
        on_terminal(["check", str(SAMPLES)], 100, tmp_path, **env)[0],
    ]
    styled = ["\x1b[" in output for output in outputs]
    assert styled == ([True, True, True] if not env else [False, False, False])


def test_piped_prune_keeps_the_whole_reason_and_test(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "tests" / "integration" / "recordings"
    folder.mkdir(parents=True)
    test_id = "tests/integration/test_gone.py::test_" + "long_name_" * 12 + "[param-" + "x" * 60 + "]"
    raw = {
        "test_id": test_id,
        "request": {"method": "POST", "url": "http://h/v1/models", "body": {}, "endpoint": "/v1/models"},
        "response": {"body": []},
    }
    builders.write_recording(folder / ("c" * 64 + ".json"), raw)
    (tmp_path / "pyproject.toml").write_text("")
    monkeypatch.chdir(tmp_path)
    lines = _invoke(CliRunner(), "prune")
    assert any(line.endswith(test_id.split("::", 1)[1]) for line in lines), lines


# --- the layout itself ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("test_id", "width", "expected"),
    [
        ("inference/test_a.py::test_b[x]", 40, "inference/test_a.py::test_b[x]"),
        ("inference/test_a.py::test_b[x]", 20, "test_a.py::test_b[x]"),
        ("inference/test_a.py::test_b[x]", 12, "test_b[x]"),
        ("inference/test_a.py::test_b[openai/gpt-4o-mini-long]", 24, "test_b[openai/g…ni-long]"),
        # a long function name leaves the parameters half the width at least
        ("inference/test_a.py::test_function_name_long[openai/gpt-4o]", 24, "test_funct…[opena…pt-4o]"),
        ("inference/test_a.py::test_function_name_long[openai/gpt-4o]", 30, "test_function_…[openai/gpt-4o]"),
        ("inference/test_a.py::test_very_long_function_name_without_params", 20, "test_very_…ut_params"),
    ],
)
def test_a_test_id_keeps_its_parameters_readable(test_id: str, width: int, expected: str) -> None:
    cut = cut_test_id(test_id, width)
    assert cut == expected
    assert cell_width(cut) <= width and cut.count("…") <= 2


def test_cut_middle_counts_wide_characters() -> None:
    assert cut_middle("日本語のテキスト", 9) == "日本…スト"  # two columns each, and the ellipsis
    assert cell_width("日本") == 4 and cell_width("é") == 1 and cell_width("e\u0301") == 1


def test_columns_give_way_in_order_then_are_left_out() -> None:
    layout = Layout(
        columns=(Column("id"), Column("name"), Column("extra", drop=1), Column("n", right=True)),
        steps=((1, 6), (2, 5)),
    )
    rows = [["a1", "a-rather-long-name", "something", "12"], ["b2", "short", "x", "3"]]
    assert render_rows(layout, rows, None) == [
        "id  name                extra       n",
        "a1  a-rather-long-name  something  12",
        "b2  short               x           3",
    ]
    narrow = render_rows(layout, rows, 30)
    assert narrow[1] == "a1  a-rat…-name  something  12" and all(len(line) <= 30 for line in narrow)
    assert layout.left_out == []
    tight = render_rows(layout, rows, 16)
    assert layout.left_out == ["extra"] and tight[1] == "a1  a-ra…ame  12"
    assert render_rows(layout, rows, 12)[1] == "a1 a-r…me 12"  # the step's width, then the narrow gap
    assert render_rows(layout, rows, 4)[1] == "a1 a-r…me 12"  # nothing left to give: wider than asked
