"""`fixtures rerecord` of cassettes: `--runner http` against a real server on 127.0.0.1 (cassettes written by vcrpy's
own serializers), the node-id gate and the backup of the pytest runner, and a selection holding cassettes and
recordings."""

from __future__ import annotations

import gzip
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner
from vcr.serializers import jsonserializer, yamlserializer

from fakeserver import FakeServer
from llm_fixtures.app import app
from llm_fixtures.decoding import dump_upstream
from llm_fixtures.hashing import request_key_name
from vcrkit import CASSETTES, SHARED_VCR, recorded_project

KEY = "sk-proj-" + "Z1x2C3v4B5n6M7q8W9e0" * 2
FOLDER = "tests/cassettes/test_chat"


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "MY_KEY"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "demo"\n')
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_chat.py").write_text("def test_hello():\n    pass\n\ndef test_two():\n    pass\n")
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def server() -> Iterator[FakeServer]:
    with FakeServer() as running:
        yield running


def chat(model: str = "gpt-4o", text: str = "hello", stream: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {"model": model, "messages": [{"role": "user", "content": text}]}
    if stream:
        body["stream"] = True
    return body


def interaction(
    uri: str,
    body: dict[str, Any],
    *,
    request_headers: dict[str, list[str]] | None = None,
    status: int = 200,
    answer: str | bytes = '{"old": true}',
    answer_headers: dict[str, list[str]] | None = None,
) -> dict[str, Any]:
    """An interaction as vcrpy stores one (its request's headers as lists, its answer's body under `string`)."""
    return {
        "request": {
            "body": json.dumps(body),
            "headers": request_headers or {"accept": ["application/json"], "content-type": ["application/json"]},
            "method": "POST",
            "uri": uri,
        },
        "response": {
            "body": {"string": answer},
            "headers": answer_headers or {"Content-Type": ["application/json"]},
            "status": {"code": status, "message": "OK" if status == 200 else "Error"},
        },
    }


def write_cassette(project: Path, name: str, interactions: list[dict[str, Any]], serializer: str = "yaml") -> Path:
    """A cassette written by vcrpy's own serializer."""
    path = project / FOLDER / name
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {"interactions": interactions, "version": 1}
    writer = yamlserializer if serializer == "yaml" else jsonserializer
    path.write_text(writer.serialize(document))
    return path


def rerecord(*args: str) -> Any:
    return CliRunner().invoke(app, ["rerecord", *args], catch_exceptions=False)


def responses(path: Path) -> list[dict[str, Any]]:
    return [item["response"] for item in yaml.safe_load(path.read_text())["interactions"]]


def requests_of(path: Path) -> list[dict[str, Any]]:
    return [item["request"] for item in yaml.safe_load(path.read_text())["interactions"]]


# --- --runner http ----------------------------------------------------------------------------------------------


def test_http_rewrites_only_the_answers_in_the_files_own_style(project: Path, server: FakeServer) -> None:
    url = server.url + "/v1/chat/completions"
    path = write_cassette(
        project, "test_two.yaml", [interaction(url, chat(text="first")), interaction(url, chat(text="second"))]
    )
    before = path.read_text()
    plan = rerecord("--runner", "http", "--dry-run", "--json", str(path.relative_to(project)))
    assert plan.exit_code == 0
    assert json.loads(plan.stdout)["interactions"] == 2
    assert not server.seen  # a dry run sends nothing
    result = rerecord("--runner", "http", "--json", str(path.relative_to(project)))
    assert result.exit_code == 0, result.stderr
    row = json.loads(result.stdout)
    assert (row["path"], row["status"], row["changed"]) == (f"{FOLDER}/test_two.yaml", "ok", True)
    assert "content" in row["changes"]
    after = path.read_text()
    assert requests_of(path) == [item["request"] for item in yaml.safe_load(before)["interactions"]]
    answers = [json.loads(response["body"]["string"]) for response in responses(path)]
    assert [a["choices"][0]["message"]["content"] for a in answers] == [
        "Hello from the fake server: first",
        "Hello from the fake server: second",
    ]
    # The file reads as vcrpy writes it: its own serializer gives the same bytes.
    assert yamlserializer.serialize(yaml.safe_load(after)) == after
    # Only the request headers the cassette stored were sent (none of httpx's own).
    sent = {name.lower() for name in server.seen[0].headers}
    assert "user-agent" not in sent
    assert {"accept", "content-type"} <= sent


def test_http_json_cassette_and_a_streamed_answer(project: Path, server: FakeServer) -> None:
    url = server.url + "/v1/chat/completions"
    path = write_cassette(project, "test_two.json", [interaction(url, chat(stream=True))], serializer="json")
    result = rerecord("--runner", "http", str(path.relative_to(project)))
    assert result.exit_code == 0, result.stderr
    text = path.read_text()
    assert text == jsonserializer.serialize(json.loads(text))
    body = json.loads(text)["interactions"][0]["response"]["body"]["string"]
    assert body.rstrip().endswith("data: [DONE]")


def test_http_sends_the_key_from_the_environment_and_never_stores_it(
    project: Path, server: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    stored = {"authorization": ["Bearer REDACTED"], "content-type": ["application/json"]}
    path = write_cassette(
        project,
        "test_hello.yaml",
        [interaction("https://api.openai.com/v1/chat/completions", chat(), request_headers=stored)],
    )
    before = path.read_bytes()
    plain = rerecord("--runner", "http", "--base-url", server.url, str(path.relative_to(project)))
    assert plain.exit_code == 2  # a local server gets no key, unless --api-key-env names one
    assert "no variable holds a key for 127.0.0.1" in plain.stderr and "use --api-key-env" in plain.stderr
    key = ["--api-key-env", "OPENAI_API_KEY"]
    missing = rerecord("--runner", "http", "--base-url", server.url, *key, str(path.relative_to(project)))
    assert missing.exit_code == 2
    assert "OPENAI_API_KEY" in missing.stderr and "nothing was sent" in missing.stderr
    assert not server.seen
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    done = rerecord("--runner", "http", "--base-url", server.url, *key, str(path.relative_to(project)))
    assert done.exit_code == 0, done.stderr
    assert server.seen[-1].headers.get("authorization") == f"Bearer {KEY}"
    assert KEY.encode() not in path.read_bytes()
    assert path.read_bytes() != before
    assert requests_of(path)[0]["headers"]["authorization"] == ["Bearer REDACTED"]


def test_http_an_answer_echoing_the_key_is_refused(
    project: Path, server: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MY_KEY", KEY)
    url = server.url + "/v1/chat/completions"
    stored = {"x-api-key": ["REDACTED"], "content-type": ["application/json"]}
    path = write_cassette(project, "test_hello.yaml", [interaction(url, chat(), request_headers=stored)])
    before = path.read_bytes()
    server.answer(chat(), 200, {"error": f"your key {KEY} is fine", "choices": []})
    result = rerecord("--runner", "http", "--api-key-env", "MY_KEY", str(path.relative_to(project)))
    assert result.exit_code == 1
    assert server.seen[-1].headers.get("x-api-key") == KEY
    assert path.read_bytes() == before
    assert KEY not in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("kind", "reason"),
    [
        ("400", "HTTP 400"),
        ("401", "a key the provider refused"),
        ("500", "after 2 attempts"),
        ("break", "the connection broke"),
    ],
)
def test_http_a_failed_interaction_leaves_the_cassette_byte_for_byte(
    project: Path, server: FakeServer, kind: Any, reason: str
) -> None:
    url = server.url + "/v1/chat/completions"
    path = write_cassette(
        project,
        "test_two.yaml",
        [interaction(url, chat(text="fine")), interaction(url, chat(model="broken", text="x", stream=True))],
    )
    before = path.read_bytes()
    server.fail("broken", kind)
    result = rerecord("--runner", "http", "--retries", "1", "--json", str(path.relative_to(project)))
    assert result.exit_code == 1
    row = json.loads(result.stdout)
    assert row["status"] == "failed"
    assert "interaction 1:" in row["reason"] and reason in row["reason"]
    assert path.read_bytes() == before


def test_http_keeps_the_stand_ins_a_project_scrubbed_its_answers_with(project: Path, server: FakeServer) -> None:
    url = server.url + "/v1/chat/completions"
    scrubbed = {"Content-Type": ["application/json"], "Server": ["SERVER-XXX"], "Date": ["REDACTED"]}
    path = write_cassette(project, "test_hello.yaml", [interaction(url, chat(), answer_headers=scrubbed)])
    result = rerecord("--runner", "http", str(path.relative_to(project)))
    assert result.exit_code == 0, result.stderr
    headers = responses(path)[0]["headers"]
    assert (headers["Server"], headers["Date"]) == (["SERVER-XXX"], ["REDACTED"])
    assert headers["content-length"]  # a header the old answer lacked is stored as it came


def test_http_an_expected_error_answer_is_stored_again(project: Path, server: FakeServer) -> None:
    url = server.url + "/v1/chat/completions"
    path = write_cassette(project, "test_hello.yaml", [interaction(url, chat(model="bad"), status=400)])
    server.fail("bad", "400")
    result = rerecord("--runner", "http", str(path.relative_to(project)))
    assert result.exit_code == 0, result.stderr
    assert responses(path)[0]["status"]["code"] == 400


class _Gzip(BaseHTTPRequestHandler):
    """Answers every POST with a gzip-encoded JSON body and a cookie."""

    def log_message(self, format: str, *args: Any) -> None:
        del format, args

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length") or 0))
        answer = {"id": "new", "choices": [], "created": 1, "model": "gpt-4o", "object": "chat.completion"}
        data = gzip.compress(json.dumps(answer).encode(), mtime=0)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Set-Cookie", "__cf_bm=abcdefghijklmnopqrstuvwxyz0123456789; path=/")
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def gzip_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Gzip)
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_http_gzip_answers_are_stored_as_the_cassette_kept_them(project: Path, gzip_server: str) -> None:
    url = gzip_server + "/v1/chat/completions"
    raw_style = interaction(
        url,
        chat(text="raw"),
        answer=gzip.compress(b'{"old": true}'),
        answer_headers={
            "Content-Encoding": ["gzip"],
            "Content-Type": ["application/json"],
            "Set-Cookie": ["__cf_bm=REDACTED"],
        },
    )
    decoded_style = interaction(url, chat(text="decoded"))  # no Content-Encoding: stored decoded
    path = write_cassette(project, "test_two.yaml", [raw_style, decoded_style])
    result = rerecord("--runner", "http", "--json", str(path.relative_to(project)))
    assert result.exit_code == 0, result.stdout
    kept_raw, kept_decoded = responses(path)
    assert isinstance(kept_raw["body"]["string"], bytes)
    assert gzip.decompress(kept_raw["body"]["string"]).startswith(b'{"id": "new"')
    assert kept_raw["headers"]["Content-Encoding"] == ["gzip"]
    assert kept_decoded["body"]["string"].startswith('{"id": "new"')
    assert "Content-Encoding" not in kept_decoded["headers"]
    assert kept_decoded["headers"]["Content-Length"] == [str(len(kept_decoded["body"]["string"]))]
    # The first old answer stored a scrubbed cookie, the second none: the new cookie is not stored.
    assert kept_raw["headers"]["Set-Cookie"] == ["__cf_bm=REDACTED"]
    assert "Set-Cookie" not in kept_decoded["headers"]


def test_http_refuses_what_it_cannot_write_faithfully_one_line_each(project: Path, server: FakeServer) -> None:
    url = server.url + "/v1/chat/completions"
    edited = write_cassette(project, "test_edited.yaml", [interaction(url, chat())])
    edited.write_text(edited.read_text().replace("interactions:", "interactions:  # edited by hand", 1))
    folded = write_cassette(
        project,
        "test_folded.yaml",
        [interaction(url, chat(), answer='{"a": 1}', answer_headers={"content-encoding": ["gzip"]})],
    )
    packed = project / FOLDER / "test_packed.yaml.gz"
    packed.write_bytes(gzip.compress(write_cassette(project, "tmp.yaml", [interaction(url, chat())]).read_bytes()))
    (project / FOLDER / "tmp.yaml").unlink()
    socket = project / FOLDER / "test_socket.yaml"
    socket.write_text("interactions:\n- kind: message\n  direction: sent\n  data: {type: hello}\nversion: 1\n")
    targets = [edited, folded, packed, socket]
    before = [path.read_bytes() for path in targets]
    result = rerecord("--runner", "http", *(str(path.relative_to(project)) for path in targets))
    assert result.exit_code == 2  # none of them can be re-recorded this way
    lines = [line for line in result.stderr.splitlines() if "not re-recorded" in line]
    assert len(lines) == 4
    assert "vcrpy's YAML serializer" in result.stderr
    assert "stored decoded under a Content-Encoding header" in result.stderr
    assert "a gzipped cassette" in result.stderr
    assert "a WebSocket cassette" in result.stderr
    assert [path.read_bytes() for path in targets] == before
    assert not server.seen


@pytest.mark.parametrize(
    ("options", "name"),
    [
        ({"Dumper": yaml.CDumper}, "vcrpy YAML"),
        ({"Dumper": yaml.Dumper}, "vcrpy YAML without libyaml"),
        ({"Dumper": yaml.CDumper, "width": 2**31 - 1}, "YAML without line folding"),
    ],
)
def test_http_keeps_the_writer_that_wrote_the_file(
    project: Path, server: FakeServer, options: dict[str, Any], name: str
) -> None:
    from llm_fixtures.cassettes.loading import load_document
    from llm_fixtures.cassettes.writer import writer_of

    # A long pretty-printed JSON answer and a long request body: the writers fold them differently.
    answer = json.dumps({"object": "list", "data": [{"object": "embedding", "index": 0}], "model": "m" * 40}, indent=2)
    item = interaction(server.url + "/v1/chat/completions", chat(text="a rather long question " * 6), answer=answer)
    path = project / FOLDER / "test_hello.yaml"
    path.parent.mkdir(parents=True)
    path.write_text(yaml.dump({"interactions": [item], "version": 1}, **options))
    before = path.read_bytes()
    tree, _gzipped, serializer = load_document(before, "c.yaml")
    found = writer_of(before, tree, serializer)
    assert found is not None and found.name == name
    request_lines = [line for line in before.decode().splitlines() if line.startswith("    ")][:3]
    result = rerecord("--runner", "http", str(path.relative_to(project)))
    assert result.exit_code == 0, result.stderr
    after = path.read_bytes()
    assert after != before
    assert yaml.dump(yaml.safe_load(after), **options).encode() == after
    assert [line for line in after.decode().splitlines() if line.startswith("    ")][:3] == request_lines


@pytest.mark.skipif(not CASSETTES, reason="../shared/vcr is not present")
def test_http_refuses_pydantic_ais_serializer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shared = next(path for path in CASSETTES if "test_deepseek" in str(path) and "stream" in path.name)
    target = tmp_path / shared.relative_to(SHARED_VCR)
    target.parent.mkdir(parents=True)
    target.write_bytes(shared.read_bytes())
    (tmp_path / "pyproject.toml").write_text("")
    monkeypatch.chdir(tmp_path)
    result = rerecord("--runner", "http", "--base-url", "http://127.0.0.1:9", str(target.relative_to(tmp_path)))
    assert result.exit_code == 2
    assert "written by pydantic-ai's serializer (parsed_body)" in result.stderr
    assert target.read_bytes() == shared.read_bytes()


def test_http_review_stages_without_writing(project: Path, server: FakeServer) -> None:
    path = write_cassette(project, "test_hello.yaml", [interaction(server.url + "/v1/chat/completions", chat())])
    before = path.read_bytes()
    result = rerecord("--runner", "http", "--review", str(path.relative_to(project)))
    assert result.exit_code == 0, result.stderr
    assert path.read_bytes() == before
    pending = rerecord("--pending", "--json")
    assert [json.loads(line)["target"] for line in pending.stdout.splitlines()] == [f"{FOLDER}/test_hello.yaml"]
    assert rerecord("--accept").exit_code == 0
    assert b"Hello from the fake server" in path.read_bytes()


# --- a selection of cassettes and recordings --------------------------------------------------------------------


def test_a_selection_of_cassettes_and_recordings_re_records_both(project: Path, server: FakeServer) -> None:
    cassette = write_cassette(
        project, "test_hello.yaml", [interaction(server.url + "/v1/chat/completions", chat(text="cassette"))]
    )
    body = chat(text="recording")
    raw = {
        "test_id": "tests/test_chat.py::test_two",
        "request": {
            "method": "POST",
            "url": server.url + "/v1/chat/completions",
            "headers": {},
            "body": body,
            "endpoint": "/v1/chat/completions",
            "model": "gpt-4o",
        },
        "response": {"body": {"__type__": "x", "__data__": {}}, "is_streaming": False},
        "id_normalization_mapping": {},
    }
    name = request_key_name(raw)
    assert name is not None
    recording = project / "tests" / "recordings" / name
    recording.parent.mkdir(parents=True)
    recording.write_bytes(dump_upstream(raw))
    refs = [str(cassette.relative_to(project)), str(recording.relative_to(project))]
    plan = rerecord("--runner", "http", "--dry-run", *refs)
    assert plan.exit_code == 0
    assert f"send  {FOLDER}/test_hello.yaml" in plan.stderr
    assert "recordings/" in plan.stdout + plan.stderr
    result = rerecord("--runner", "http", "--json", *refs)
    assert result.exit_code == 0, result.stderr
    rows = {row["path"]: row["status"] for row in map(json.loads, result.stdout.splitlines())}
    assert rows == {f"{FOLDER}/test_hello.yaml": "ok", str(recording.relative_to(project)): "ok"}
    assert b"cassette" in cassette.read_bytes() and b"Hello from the fake server" in cassette.read_bytes()
    assert "Hello from the fake server: recording" in recording.read_text()


# --- --runner pytest: the node-id gate and the backup -----------------------------------------------------------


def test_a_node_id_that_may_not_reach_pytest_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "-rf").mkdir()
    (tmp_path / "-rf" / "test_a.py").write_text("def test_b():\n    pass\n")
    cassette = tmp_path / "-rf" / "cassettes" / "test_a" / "test_b.yaml"
    cassette.parent.mkdir(parents=True)
    cassette.write_text(yamlserializer.serialize({"interactions": [interaction("https://x.test/", {})], "version": 1}))
    monkeypatch.chdir(tmp_path)
    result = rerecord("--dry-run", "--", "-rf/cassettes/test_a/test_b.yaml")
    assert result.exit_code == 2
    assert "it starts with '-', so pytest would read it as an option" in result.stderr
    assert "would run" not in result.stderr


NEIGHBOUR = """import os
from pathlib import Path

import httpx
import pytest


@pytest.mark.vcr
def test_hello():
    httpx.post(os.environ["FAKE_URL"] + "/v1/chat/completions", json={"model": "gpt-4o", "messages": []})
    if os.environ.get("OTHER_WRITES"):
        # Another process re-records another test's cassette while this run goes on.
        neighbour = Path(__file__).parent / "cassettes" / "test_chat" / "test_other.yaml"
        neighbour.write_text(neighbour.read_text().replace("version: 1", "version: 1 # other"))
        assert False, "this run fails"


@pytest.mark.vcr
def test_other():
    httpx.post(os.environ["FAKE_URL"] + "/v1/chat/completions", json={"model": "gpt-4o", "messages": []})
"""


def test_a_failed_run_puts_back_its_cassettes_and_leaves_another_tests(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, server: FakeServer
) -> None:
    monkeypatch.setenv("FAKE_URL", server.url)
    monkeypatch.chdir(tmp_path)
    recorded_project(tmp_path, NEIGHBOUR)
    hello = tmp_path / FOLDER / "test_hello.yaml"
    other = tmp_path / FOLDER / "test_other.yaml"
    before = hello.read_bytes()
    monkeypatch.setenv("OTHER_WRITES", "1")
    result = rerecord(str(hello.relative_to(tmp_path)))
    assert result.exit_code == 1
    assert hello.read_bytes() == before  # the run's own cassette is put back
    assert "version: 1 # other" in other.read_text()  # another test's, written meanwhile, stays
    assert not list(tmp_path.glob(".fixtures/backup-*"))
