"""What reaches stdout and stderr is safe: secrets masked as `check` masks them, control characters shown and never
executed, in every output but `show --raw`; the one JSON Lines writer survives what orjson refuses."""

from __future__ import annotations

import io
import json
import os
import re
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from rich.text import Text
from test_check import SECRETS
from test_hostile import vcr_cassette
from typer.testing import CliRunner

import builders
from llm_fixtures.app import app
from llm_fixtures.checking.secrets import check_secrets
from llm_fixtures.commands.common import echo_json_lines
from llm_fixtures.escaping import one_line
from llm_fixtures.humanizing import human_bytes, plural
from llm_fixtures.render.console import safe_text, stderr_console, stdout_console, write_line, write_text
from llm_fixtures.sanitizing import clean, clean_cells, clean_json
from llm_fixtures.scanning import Allowlist, mask

KEY = "sk-proj-" + "a1B2c3D4" * 5
KEY2 = "sk-proj-" + "Z9y8X7w6" * 5
GITHUB = "ghp_" + "Q" * 36
# What a hostile file puts in a test id or a message: clear screen, an OSC 52 clipboard write ended by BEL, a
# C1 CSI, a right-to-left override.
CONTROLS = "\x1b[2J\x1b]52;c;ZXZpbA==\x07\x9b31m\u202eevil"
RAW_CONTROLS = ("\x1b", "\x07", "\x9b", "\u202e", "\x00")


def assert_safe(text: str, *secrets: str) -> None:
    """No secret whole, no control character raw (newlines and tabs apart)."""
    for secret in secrets:
        assert secret not in text
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]", text), repr(text[:400])


# --- the sanitizer -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "secret"), SECRETS)
def test_every_kind_check_knows_is_masked_with_checks_mask(kind: str, secret: str) -> None:
    finding = check_secrets("f", json.dumps({"t": f"x {secret} y"}).encode())[0]
    assert finding.status == kind
    shown = clean(f"the key is {secret} ok")
    assert finding.details["masked"] in shown
    if kind != "private-key":  # a private key's header line is no secret: its body is (below)
        assert secret not in shown


def test_a_private_keys_body_is_masked_in_text_and_in_json() -> None:
    body = "MIIEowIBAAKCAQEA7" + "q" * 60 + "\nAbCd" * 5
    key = f"-----BEGIN RSA PRIVATE KEY-----\n{body}\n-----END RSA PRIVATE KEY-----"
    shown = clean(f"key: {key} done")
    assert "MIIEow" not in shown and shown.startswith("key: -----BEGIN RSA PRIVATE KEY-----…")
    assert shown.endswith(f"({len(key)} chars) done")
    data = json.dumps({"k": key, "n": 1}).encode()
    cleaned = clean_json(data)
    assert b"MIIEow" not in cleaned
    assert json.loads(cleaned)["n"] == 1
    unterminated = clean(f"-----BEGIN PRIVATE KEY-----\n{body}")
    assert "MIIEow" not in unterminated


def test_credential_headers_are_masked_in_json() -> None:
    value = {"Authorization": "Basic dXNlcjpwYXNzd29yZA==", "X-Api-Key": "plain-value-1234", "api-key": ""}
    cleaned = clean_json(json.dumps({"request": {"headers": value}}).encode())
    headers = json.loads(cleaned)["request"]["headers"]
    assert headers == {
        "Authorization": mask("Basic dXNlcjpwYXNzd29yZA=="),
        "X-Api-Key": mask("plain-value-1234"),
        "api-key": "",
    }
    assert (
        clean_json(b'{"Authorization": "not in a headers object"}') == b'{"Authorization": "not in a headers object"}'
    )


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("a\x1b[2Jb", "a\\x1b[2Jb"),
        ("\x1b]52;c;ZXZpbA==\x07", "\\x1b]52;c;ZXZpbA==\\x07"),
        ("csi\x9b31m", "csi\\x9b31m"),
        ("\u202eevil", "\\u202eevil"),
        ("lone \ud800 half", "lone \\ud800 half"),
        ("del\x7f", "del\\x7f"),
        ("cr\rlf", "cr\\rlf"),
        ("lines\nand\ttabs stay", "lines\nand\ttabs stay"),
        ("plain, ünïcode and 日本", "plain, ünïcode and 日本"),
    ],
)
def test_control_characters_are_shown_never_executed(text: str, shown: str) -> None:
    assert clean(text) == shown
    assert clean(text, one_line=True) == shown.replace("\n", "\\n").replace("\t", "\\t")


def test_secrets_next_to_non_ascii_and_controls_keep_their_places() -> None:
    text = f"é{CONTROLS} {KEY}\n日本 {GITHUB}"
    shown = clean(text)
    assert shown == f"é{clean(CONTROLS)} {mask(KEY)}\n日本 {mask(GITHUB)}"


def test_a_key_after_a_word_diff_marker_or_a_json_escape_is_masked() -> None:
    assert clean(f"[-{KEY}-]{{+{KEY2}+}}") == f"[-{mask(KEY)}-]{{+{mask(KEY2)}+}}"
    assert KEY.encode() not in clean_json(json.dumps({"t": f"line\n{KEY}"}).encode())


def test_the_allowlist_keeps_what_it_allows() -> None:
    assert clean(f"{KEY} {KEY2}", Allowlist((KEY,))) == f"{KEY} {mask(KEY2)}"
    assert clean(f"{KEY} {KEY2}", Allowlist((r"^sk-proj-Z9",))) == f"{mask(KEY)} {KEY2}"


def test_clean_json_keeps_the_json_and_its_meaning() -> None:
    value = {"id": f"x{CONTROLS}", "nested": [{"k": KEY}], "n": 1.5, "u": "日本\u0085"}
    data = json.dumps(value, ensure_ascii=False).encode()
    cleaned = clean_json(data)
    assert not re.search(rb"\xc2[\x80-\x9f]|\xe2\x80[\xaa-\xae]", cleaned)
    back = json.loads(cleaned)
    assert back["id"] == value["id"] and back["u"] == value["u"] and back["n"] == 1.5
    assert back["nested"] == [{"k": mask(KEY)}]


def test_keys_among_letters_of_several_bytes_are_masked_where_they_are() -> None:
    # Bytes and characters part ways at each letter of several bytes: every mask still lands on its key.
    keys = [f"sk-{number:024d}" for number in range(50)]
    text = " ".join(f"é{key}·😀 \ud800 {number}" for number, key in enumerate(keys))
    cleaned = clean(text)
    assert not any(key in cleaned for key in keys)
    assert cleaned == " ".join(f"é{mask(key)}·😀 \\ud800 {number}" for number, key in enumerate(keys))


def test_clean_cells_escapes_newlines_and_masks_across_the_cells() -> None:
    cells = ["ok", f"a\nb{CONTROLS}", KEY, "日本"]
    assert clean_cells(cells) == ["ok", "a\\nb" + clean(CONTROLS), mask(KEY), "日本"]
    plain = ["a", "b"]
    assert clean_cells(plain) is not None and clean_cells(plain) == plain


# --- the sinks -----------------------------------------------------------------------------------------------


def test_rich_texts_are_made_safe_before_layout_with_their_styles(capsys: pytest.CaptureFixture[str]) -> None:
    text = Text("failed x.json: ", style="red")
    text.append(f"server said {KEY} {CONTROLS}", style="bold")
    safe = safe_text(text)
    # (rich itself drops BEL, backspace, VT, FF and CR when a Text is built)
    assert safe.plain == f"failed x.json: server said {mask(KEY)} {clean(CONTROLS.replace(chr(7), ''))}"
    assert "bold" in {span.style for span in safe.spans} and safe.style == "red"
    plain = Text("nothing to change")
    assert safe_text(plain) is plain
    stdout_console().print(text)
    stderr_console().print(f"a rerecord failure line: {KEY} {CONTROLS}")
    out, err = capsys.readouterr()
    assert_safe(out + err, KEY)
    assert mask(KEY) in out and mask(KEY) in err


def test_plain_writers_mask_and_escape(capsys: pytest.CaptureFixture[str]) -> None:
    write_line(f"path: bad {KEY}\nsecond line {CONTROLS}")
    write_text(f"# Markdown\n\n`{KEY}` {CONTROLS}\n")
    out, err = capsys.readouterr()
    assert err.count("\n") == 1  # kept on its line
    assert_safe(out + err, KEY)


@dataclass
class Row:
    name: str
    value: Any


def _lines(capsys: pytest.CaptureFixture[str]) -> list[Any]:
    out = capsys.readouterr().out
    return [json.loads(line) for line in out.splitlines()]


def test_the_json_lines_writer_survives_what_orjson_refuses(capsys: pytest.CaptureFixture[str]) -> None:
    deep: Any = "bottom"
    for _ in range(600):
        deep = [deep]
    huge = 10**5000 - 1
    echo_json_lines(
        [
            Row("surrogate", "a\ud800b"),
            {"test_id": "t[\ud800]", "key": KEY},
            Row("huge", huge),
            {"deep": deep},
            Row("plain", CONTROLS),
        ]
    )
    limit = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(0)
    try:
        rows = _lines(capsys)
    finally:
        sys.set_int_max_str_digits(limit)
    assert rows[0] == {"name": "surrogate", "value": "a\ud800b"}
    assert rows[1] == {"test_id": "t[\ud800]", "key": mask(KEY)}
    assert rows[2]["value"] == huge
    assert "nested too deep" in json.dumps(rows[3])
    assert rows[4]["value"] == CONTROLS


class Document:
    """An object that gives the plain values that stand for it (as a diff's PairReport may)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def json_document(self) -> dict[str, Any]:
        return {"text": self.text, "n": 10**30}


def test_the_json_lines_writer_takes_objects_that_give_their_document(capsys: pytest.CaptureFixture[str]) -> None:
    echo_json_lines([Document(KEY), Document("lone \udc00")])
    assert _lines(capsys) == [{"text": mask(KEY), "n": 10**30}, {"text": "lone \udc00", "n": 10**30}]


def test_the_json_lines_writer_writes_in_chunks_and_masks_each(capsys: pytest.CaptureFixture[str]) -> None:
    echo_json_lines({"i": index, "k": KEY, "pad": "x" * 500} for index in range(2000))
    rows = _lines(capsys)
    assert [row["i"] for row in rows] == list(range(2000))
    assert all(row["k"] == mask(KEY) for row in rows)


def test_the_json_lines_writer_writes_what_came_after_a_wait_at_once(capsys: pytest.CaptureFixture[str]) -> None:
    # Items from worker processes come in bursts: the first item of a burst that came after a wait is written
    # before the writer asks for more (a reader such as `| head -1` gets it as soon as it is known).
    seen: list[str] = []

    def bursts() -> Iterator[dict[str, int]]:
        time.sleep(0.1)
        yield {"i": 0}
        seen.append(capsys.readouterr().out)
        yield {"i": 1}

    echo_json_lines(bursts())
    assert seen == ['{"i":0}\n']
    assert capsys.readouterr().out == '{"i":1}\n'


def test_the_json_lines_writer_takes_pydantic_models_with_lone_surrogates(capsys: pytest.CaptureFixture[str]) -> None:
    from pydantic import BaseModel

    class Model(BaseModel):
        text: str

    echo_json_lines([Model(text="x\udfff"), Model(text=KEY)])
    assert _lines(capsys) == [{"text": "x\udfff"}, {"text": mask(KEY)}]


@pytest.mark.parametrize(
    ("size", "text"),
    [(0, "0 B"), (1023, "1023 B"), (1024, "1 KB"), (34 * 1024, "34 KB"), (33_997, "33.2 KB"), (1024**2 - 1, "1 MB")],
)
def test_one_human_size(size: int, text: str) -> None:
    assert human_bytes(size) == text
    assert human_bytes(3 * 1024**3 + 1024**3 // 2) == "3.5 GB"


def test_plurals() -> None:
    assert [plural(n, "file") for n in (0, 1, 2)] == ["0 files", "1 file", "2 files"]
    assert plural(2, "match", "matches") == "2 matches"


# --- every command, on a hostile project ---------------------------------------------------------------------


def _chunk(text: str, finish: str | None = None) -> dict[str, Any]:
    return builders.chat_chunk(
        id="x",
        object="chat.completion.chunk",
        created=0,
        model="gpt-4o",
        choices=[{"index": 0, "delta": {"content": text, "role": "assistant"}, "finish_reason": finish}],
    )


def hostile(test_id: str, pieces: list[str]) -> dict[str, Any]:
    request = builders.sdk_request(
        f"https://api.openai.com/v1/v1/chat/completions?key={KEY}",
        "/v1/chat/completions",
        {"model": "gpt-4o", "messages": [{"role": "user", "content": f"my key {KEY} {CONTROLS}"}]},
    )
    body = [_chunk(piece) for piece in pieces[:-1]] + [_chunk(pieces[-1], "stop")]
    return builders.recording(request, body, streaming=True, test_id=test_id, mapping=False)


NAME = "a" * 64 + ".json"
TEST_ID = f"tests/integration/test_gone.py::test_leak[{CONTROLS}]"


def old_and_new(root: Path, name: str, old: dict[str, Any], new: dict[str, Any]) -> Path:
    """A project whose recording `name` is `old` in old/recordings and `new` in new/recordings (`recordings` is
    the new side), its tests folder present but the tests gone (orphans for prune); the current folder."""
    (root / "pyproject.toml").write_text('[tool.fixtures]\nroots = ["recordings"]\n')
    for side, raw in (("old", old), ("new", new)):
        builders.write_recording(root / side / "recordings" / name, raw)
    (root / "recordings").symlink_to(root / "new" / "recordings")
    (root / "tests" / "integration").mkdir(parents=True)
    os.chdir(root)
    return root


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)  # restored after the test
    sides = [
        hostile(TEST_ID, ["split across chunks: sk-proj-", "a1B2c3D4a1B2c3D4", last])
        for last in (f"a1B2c3D4a1B2c3D4a1B2c3D4 done {CONTROLS}", f"changed {KEY2} {CONTROLS}")
    ]
    return old_and_new(tmp_path, NAME, *sides)


COMMANDS = [
    ["ls"],
    ["ls", "--group-by", "test"],
    ["ls", "--json"],
    ["ls", "--json", "--no-cache"],
    ["show", "aaaaaaaa"],
    ["show", "--json", "aaaaaaaa"],
    ["show", "--assemble", "aaaaaaaa"],
    ["show", "--assemble", "--json", "aaaaaaaa"],
    ["diff", "old/recordings", "new/recordings"],
    ["diff", "--json", "old/recordings", "new/recordings"],
    ["diff", "--format", "markdown", "old/recordings", "new/recordings"],
    ["check"],
    ["check", "--json"],
    ["prune"],
    ["prune", "--json"],
]


@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
@pytest.mark.usefixtures("project")
def test_no_output_shows_a_secret_or_a_raw_control_character(runner: CliRunner, args: list[str]) -> None:
    result = runner.invoke(app, args, catch_exceptions=False)
    assert result.exit_code in (0, 1), result.stderr
    assert result.stdout.strip()
    assert_safe(result.stdout + result.stderr, KEY, KEY2)
    if "--json" in args:
        strings = set(builders.strings_in([json.loads(line) for line in result.stdout.splitlines()]))
        if "--assemble" not in args and args[0] != "diff":
            assert TEST_ID in strings  # escaped by the encoder: the same text once parsed
        if args[:2] in (["ls", "--json"], ["show", "--json"]):
            assert f"https://api.openai.com/v1/v1/chat/completions?key={mask(KEY)}" in strings
    else:
        assert "\\x1b[2J" in result.stdout or args[0] == "check"


def test_show_raw_alone_prints_the_file_as_stored(runner: CliRunner, project: Path) -> None:
    result = runner.invoke(app, ["show", "--raw", "aaaaaaaa"], catch_exceptions=False)
    assert result.stdout_bytes == (project / "new" / "recordings" / NAME).read_bytes()


def test_check_finds_a_key_split_across_stream_chunks(runner: CliRunner, project: Path) -> None:
    folder = project / "split" / "recordings"
    folder.mkdir(parents=True)
    raw = hostile("tests/test_x.py::test_y", ["my key is sk", "-proj-", "a1B2c3D4" * 3, "a1B2c3D4" * 2 + " ok"])
    raw["request"]["url"] = "https://api.openai.com/v1/v1/chat/completions"
    raw["request"]["body"]["messages"] = []
    builders.write_recording(folder / NAME, raw)
    result = runner.invoke(app, ["check", "--json", "--select", "secrets", str(folder)], catch_exceptions=False)
    findings = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(f["status"], f["details"]["masked"], f["details"]["line"]) for f in findings] == [
        ("openai-key", mask(KEY), None)
    ]
    assert "once its chunks are joined" in findings[0]["message"]
    assert result.exit_code == 1


def test_allow_secrets_is_honoured_by_every_output(runner: CliRunner, project: Path) -> None:
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + f'\n[tool.fixtures.check]\nallow_secrets = ["{KEY}"]\n')
    result = runner.invoke(app, ["show", "aaaaaaaa"], catch_exceptions=False)
    assert KEY in result.stdout and KEY2 not in result.stdout
    listed = runner.invoke(app, ["ls", "--json"], catch_exceptions=False)
    assert KEY in listed.stdout


def test_a_lone_surrogate_in_a_test_id_crashes_nothing_of_ours(runner: CliRunner, project: Path) -> None:
    folder = project / "sur" / "recordings"
    folder.mkdir(parents=True)
    raw = hostile("tests/test_s.py::test_s[\ud800]", ["a", "b"])
    builders.write_recording(folder / NAME, raw)  # json writes the surrogate as its \ud800 escape
    for args in (["ls", "--no-cache"], ["ls", "--json", "--no-cache"], ["check", "--no-cache", "--json"]):
        result = runner.invoke(app, [*args, str(folder)], catch_exceptions=False)
        assert result.exit_code in (0, 1), result.stderr
        assert "\\ud800" in result.stdout, args
        assert_safe(result.stdout + result.stderr, KEY)


def test_a_broken_pipe_ends_quietly_with_exit_0(project: Path) -> None:
    import subprocess

    for args in (["show", "new/recordings", "aaaaaaaa"], ["ls", "--json"], ["check"]):
        folder = project / "many" / "recordings"
        if not folder.exists():
            folder.mkdir(parents=True)
            data = (project / "new" / "recordings" / NAME).read_bytes()
            for index in range(120):
                (folder / f"{index:064x}.json").write_bytes(data)
        command = [sys.executable, "-m", "llm_fixtures", *args[:1], "many/recordings"]
        reader = subprocess.Popen(["head", "-c", "10"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
        writer = subprocess.run(command, stdout=reader.stdin, stderr=subprocess.PIPE, timeout=60, check=False)
        assert reader.stdin is not None
        reader.stdin.close()
        reader.wait(timeout=10)
        assert writer.returncode == 0, (args, writer.stderr)
        assert b"Traceback" not in writer.stderr and b"BrokenPipe" not in writer.stderr


def test_no_stray_writes_around_the_sinks() -> None:
    """Commands and renderers print only through the sinks (render/console.py, the JSON Lines writer)."""
    package = Path(__file__).resolve().parents[1] / "cli" / "llm_fixtures"
    offenders = []
    for path in [*package.glob("commands/*.py"), *package.glob("render/*.py")]:
        if path.name == "console.py":
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            code = line.split("#", 1)[0]
            if re.search(r"typer\.echo\(|sys\.std(out|err)(\.buffer)?\.write|(?<![\w.])print\(", code):
                offenders.append(f"{path.name}:{number}: {line.strip()}")
    allowed = {"common.py"}  # the JSON Lines writer itself
    assert [o for o in offenders if o.split(":")[0] not in allowed] == []


def test_capture_without_a_buffer_still_gets_json(monkeypatch: pytest.MonkeyPatch) -> None:
    out = io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    echo_json_lines([{"k": KEY}])
    assert json.loads(out.getvalue()) == {"k": mask(KEY)}


# --- a key in every place a recording or a cassette can hold one, through every command -------------------------

PLACES = ("header", "api-key", "url", "prompt", "stream", "cassette-header", "cassette-url", "cassette-body", "log")
# An OpenAI project key for each place (40 characters after the prefix), to tell which one leaked.
PLANTED = {place: ("sk-proj-" + (place.replace("-", "") + "Q7") * 20)[:48] for place in PLACES}
LEAK_TEST = "tests/integration/test_leak.py::test_leak"


def _leaky(keys: dict[str, str], answer: str) -> dict[str, Any]:
    """A streamed recording holding a key in each place: credential headers, the URL, the prompt, and one split
    across two chunks of the answer."""
    split = keys["stream"]
    raw = hostile(LEAK_TEST, [f"split: {split[:12]}", split[12:], f" {answer}"])
    request = raw["request"]
    request["url"] = f"https://api.openai.com/v1/v1/chat/completions?key={keys['url']}"
    request["headers"] = {"Authorization": f"Bearer {keys['header']}", "x-api-key": keys["api-key"]}
    request["body"]["messages"][0]["content"] = f"my key {keys['prompt']} {CONTROLS}"
    return raw


@pytest.fixture
def leaky(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """A project with a recording and a cassette holding keys everywhere, an older copy of both holding other
    keys (so that `diff` shows every place changed), and the log of a replay that missed with a key in its URL.
    Returns every key planted."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "demo"\n\n[tool.fixtures.rerecord]\nenv = {MODE = "record"}\n'
    )
    tests = tmp_path / "tests" / "integration"
    tests.mkdir(parents=True)
    (tests / "test_leak.py").write_text("def test_leak():\n    pass\n\n\ndef test_other():\n    pass\n")
    older = {place: key[:-6] + "OLDold" for place, key in PLANTED.items()}
    for folder, keys, answer in ((tests, PLANTED, "after"), (tmp_path / "old" / "integration", older, "before")):
        builders.write_recording(folder / "recordings" / NAME, _leaky(keys, answer))
        cassette = folder / "cassettes" / "test_leak" / "test_leak.yaml"
        cassette.parent.mkdir(parents=True)
        cassette.write_text(
            vcr_cassette(
                f"my key {keys['cassette-body']}",
                answer,
                uri=f"https://api.openai.com/v1/chat/completions?key={keys['cassette-url']}",
                headers={"authorization": [f"Bearer {keys['cassette-header']}"]},
            )
        )
    missed = "b" * 64
    (tmp_path / "replay.log").write_text(
        f"FAILED tests/integration/test_leak.py::test_other - RuntimeError: Recording not found for request hash: "
        f"{missed}\nE   Model: gpt-4o | Request: POST https://api.openai.com/v1/chat/completions?key={PLANTED['log']}\n"
    )
    return {**{f"{place} (old)": key for place, key in older.items()}, **PLANTED}


CASSETTES = "tests/integration/cassettes"
EVERY_COMMAND = [
    ["ls"],
    ["ls", "--json"],
    ["ls", "--interactions"],
    ["ls", "--interactions", "--json"],
    ["ls", "--group-by", "test"],
    ["show", "aaaaaaaa"],
    ["show", "--json", "aaaaaaaa"],
    ["show", "--assemble", "aaaaaaaa"],
    ["show", "--assemble", "--json", "aaaaaaaa"],
    ["show", CASSETTES],
    ["show", "--json", CASSETTES],
    ["show", "--assemble", CASSETTES],
    ["show", "--assemble", "--json", CASSETTES],
    ["diff", "old", "tests"],
    ["diff", "--show-all", "old", "tests"],
    ["diff", "--json", "old", "tests"],
    ["diff", "--format", "markdown", "old", "tests"],
    ["diff", "--format", "markdown", "--show-all", "old", "tests"],
    ["check"],
    ["check", "--json"],
    ["normalize"],
    ["normalize", "--json"],
    ["prune"],
    ["prune", "--json"],
    ["rerecord", "--dry-run", LEAK_TEST],
    ["rerecord", "--dry-run", "--json", LEAK_TEST],
    ["rerecord", "--dry-run", CASSETTES],
    ["rerecord", "--dry-run", "--json", CASSETTES],
    ["rerecord", "--dry-run", "--from-log", "replay.log"],
    ["explain", "replay.log"],
    ["explain", "--json", "replay.log"],
]


@pytest.mark.parametrize("args", EVERY_COMMAND, ids=" ".join)
def test_a_key_planted_anywhere_is_masked_by_every_command(
    runner: CliRunner, leaky: dict[str, str], args: list[str]
) -> None:
    result = runner.invoke(app, args, catch_exceptions=False)
    assert result.exit_code in (0, 1), result.output
    output = result.stdout + result.stderr
    assert output.strip()
    assert [place for place, key in leaky.items() if key in output] == []
    assert_safe(output)
    if "--json" in args:
        for line in result.stdout.splitlines():
            json.loads(line)


@pytest.mark.usefixtures("leaky")
def test_the_planted_project_is_read_whole(runner: CliRunner) -> None:
    """What the grid above runs on: every file valid, the answers of both kinds assembled, the log's miss read."""
    listed = runner.invoke(app, ["ls", "--json"], catch_exceptions=False)
    assert listed.exit_code == 0, listed.output
    assert len(listed.stdout.splitlines()) == 4  # a recording and a cassette on each side
    answers = runner.invoke(app, ["show", "--assemble", "--json", CASSETTES], catch_exceptions=False)
    assert [row["choices"][0]["message"]["content"] for row in map(json.loads, answers.stdout.splitlines())] == [
        "after"
    ]
    explained = runner.invoke(app, ["explain", "--json", "replay.log"], catch_exceptions=False)
    [miss] = [json.loads(line) for line in explained.stdout.splitlines()]
    assert (miss["test_id"], miss["cause"]) == ("tests/integration/test_leak.py::test_other", "never-recorded")
    assert miss["url"].endswith(f"?key={mask(PLANTED['log'])}")


def test_show_raw_alone_prints_the_keys_as_stored(runner: CliRunner, leaky: dict[str, str]) -> None:
    recording = runner.invoke(app, ["show", "--raw", "aaaaaaaa", "tests/integration/recordings"])
    cassette = runner.invoke(app, ["show", "--raw", CASSETTES])
    for place in ("header", "api-key", "url", "prompt"):
        assert leaky[place] in recording.stdout
    for place in ("cassette-header", "cassette-url", "cassette-body"):
        assert leaky[place] in cassette.stdout


# A file name, test id and model that would each end a line of output: newline, tab, the Unicode line separator.
BROKEN = "evil\nname\tx\u2028y"


def _broken(answer: str) -> dict[str, Any]:
    request = builders.sdk_request(
        "https://api.openai.com/v1/v1/chat/completions",
        "/v1/chat/completions",
        {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]},
        model=f"model {BROKEN}",
    )
    body = [_chunk(answer), _chunk(".", "stop")]
    return builders.recording(request, body, streaming=True, test_id=f"tests/test_gone.py::test_x[{BROKEN}]")


@pytest.fixture
def line_breakers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)  # restored after the test
    return old_and_new(tmp_path, f"{BROKEN}.json", _broken("before"), _broken("after"))


LINE_COMMANDS = [
    ["ls"],
    ["ls", "--group-by", "test"],
    ["show", "recordings"],
    ["show", "--assemble", "recordings"],
    ["diff", "old/recordings", "new/recordings"],
    ["check"],
    ["normalize"],
    ["prune"],
]


@pytest.mark.parametrize("args", LINE_COMMANDS, ids=" ".join)
@pytest.mark.usefixtures("line_breakers")
def test_a_path_or_id_that_would_break_a_line_stays_on_its_line(runner: CliRunner, args: list[str]) -> None:
    """Each item of human output stays on its own line (what grep and awk read, and what a forged line would
    break): a newline, tab or line separator in a file name, test id or model is shown as its escape."""
    result = runner.invoke(app, args, catch_exceptions=False)
    assert result.exit_code in (0, 1), result.stderr
    output = result.stdout + result.stderr
    for piece in ("evil\n", "name\t", "x\u2028"):
        assert piece not in output
    assert "evil\\nname\\tx\\u2028y" in output


def test_one_line_escapes_every_line_break_and_nothing_else() -> None:
    assert one_line("a\nb\r\nc\td\x0be\x0cf\x1cg\x85h\u2028i\u2029j") == (
        "a\\nb\\r\\nc\\td\\x0be\\x0cf\\x1cg\\x85h\\u2028i\\u2029j"
    )
    plain = "tests/x.py::test[é-\u202e-\x1b]"  # the sinks escape the rest: one_line leaves it as it is
    assert one_line(plain) == plain
    assert all(len(one_line(text).splitlines()) == 1 for text in ("\n", "\r", "\u2028", "x\x1dy", "\x1e"))
