"""The checks as pure functions: placement, normalization, secrets, schema, size, duplicates, and the runner."""

from __future__ import annotations

import itertools
import json
import time
from pathlib import Path
from typing import Any

import pytest

import builders
from llm_fixtures.checking import CheckOptions, check_bytes, duplicates_of, summarize
from llm_fixtures.checking.placement import check_place, expected_folder
from llm_fixtures.checking.renames import plan_renames
from llm_fixtures.checking.schema import check_schema
from llm_fixtures.checking.secrets import MAX_LISTED, Allowlist, check_secrets, mask
from llm_fixtures.checking.size import check_size
from llm_fixtures.decoding import check_recording, dump_upstream
from llm_fixtures.hashing import request_key_name
from llm_fixtures.scanning import LineNumbers, SeenSecrets

TEST_ID = "tests/integration/inference/test_x.py::test_y[p]"
FOLDER = "/repo/tests/integration/inference/recordings"


def recording(body: Any = None, *, streaming: bool = False, test_id: str | None = TEST_ID) -> dict[str, Any]:
    request_body = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "stream": streaming}
    request = builders.sdk_request("http://0.0.0.0:11434/v1/v1/chat/completions", "/v1/chat/completions", request_body)
    return builders.recording(request, body, streaming=streaming, test_id=test_id)


def chunk(**data: Any) -> dict[str, Any]:
    return builders.chat_chunk(**data)


def named(raw: dict[str, Any]) -> str:
    name = request_key_name(raw)
    assert name is not None
    return name


def statuses(data: bytes, location: str, checks: set[str] | None = None) -> list[tuple[str, str]]:
    options = CheckOptions(checks=frozenset(checks)) if checks else CheckOptions()
    report = check_bytes(data, location, location, options)
    return [(finding.check, finding.status) for finding in report.findings]


# --- place -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("location", "test_id", "expected"),
    [
        (f"{FOLDER}/x.json", TEST_ID, []),
        ("/repo/tests/integration/responses/recordings/x.json", TEST_ID, ["misplaced"]),
        ("/repo/tests/integration/responses/recordings/x.json", None, []),
        ("/elsewhere/streams/x.json", TEST_ID, []),  # not in a recordings folder: no layout claimed
        (f"{FOLDER}/0123456789ab.json", None, ["legacy-name"]),
        ("/repo/tests/integration/recordings/responses/0123456789ab.json", None, []),
    ],
)
def test_place(location: str, test_id: str | None, expected: list[str]) -> None:
    raw = recording(test_id=test_id)
    assert [finding.status for finding in check_place("shown.json", location, raw)] == expected


def test_place_uses_the_request_test_id_when_the_top_level_one_is_missing() -> None:
    raw = {"request": {"test_id": TEST_ID, "url": "u", "method": "POST", "payload": {}}, "response": {}}
    findings = check_place("x", "/r/tests/integration/messages/recordings/a.json", raw)
    assert findings[0].details["expected_folder"] == "tests/integration/inference/recordings"
    assert expected_folder("test_top.py::t") == "recordings"


# --- secrets ---------------------------------------------------------------------------------------------

GITHUB_PAT = "github_pat_" + "A1b2C3d4E5f6G7h8I9j0K1" + "_" + "x9Y8w7V6u5" * 5 + "T4s3R2q1p"
HUGGING_FACE = "hf_" + "AbCdEfGhIj" * 3 + "KlMn"
GROQ = "gsk_" + "a1B2c3D4" * 6 + "e5F6"
XAI = "xai-" + "Q1w2E3r4T5" * 8
GOOGLE_OAUTH = "ya29." + "a0AfH6SMB" + "x_Y-z" * 8
JWT = "eyJhbGciOiJIUzI1NiJ9" + ".eyJzdWIiOiIxMjM0NTY3ODkwIn0" + ".dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
SECRETS = [
    ("openai-key", "sk-proj-" + "a1B2c3D4" * 5),
    ("anthropic-key", "sk-ant-api03-" + "x" * 40),
    ("anthropic-key", "sk-ant-admin01-" + "x" * 40),
    ("aws-access-key", "AKIA" + "ABCDEFGHIJKLMNOP"),
    ("google-api-key", "AIza" + "S" * 35),
    ("google-oauth-token", GOOGLE_OAUTH),
    ("github-token", "ghp_" + "a" * 36),
    ("github-token", GITHUB_PAT),
    ("huggingface-token", HUGGING_FACE),
    ("groq-key", GROQ),
    ("xai-key", XAI),
    ("stripe-key", "sk_live_" + "a1B2c3D4" * 3),
    ("stripe-key", "rk_live_" + "a1B2c3D4" * 4),
    ("jwt", JWT),
    ("slack-token", "xoxb-1234567890-abcdef"),
    ("private-key", "-----BEGIN RSA PRIVATE KEY-----"),
    ("private-key", "-----BEGIN PRIVATE KEY-----"),
    ("private-key", "-----BEGIN OPENSSH PRIVATE KEY-----"),
    ("private-key", "-----BEGIN EC PRIVATE KEY-----"),
    ("private-key", f"-----BEGIN {'X' * 20} PRIVATE KEY-----"),  # the longest key type looked for
]


@pytest.mark.parametrize(("kind", "secret"), SECRETS)
def test_secret_kinds_are_found_and_masked(kind: str, secret: str) -> None:
    data = dump_upstream(recording(body={"text": f"the key is {secret} ok"}))
    findings = check_secrets("f.json", data)
    assert [finding.status for finding in findings] == [kind]
    if kind != "private-key":
        assert secret not in findings[0].message
        assert secret not in json.dumps(findings[0].details)
        assert findings[0].details["masked"] == mask(secret)  # the whole secret, no more, no less
    else:
        assert findings[0].details["masked"] == secret  # a private key's header line is no secret
    assert findings[0].details["line"] > 1


@pytest.mark.parametrize("word", ["Bearer", "bearer", "BEARER"])
def test_bearer_tokens_in_any_usual_case(word: str) -> None:
    token = "abcdefghijklmnopqrstu"
    text = f'{{"note": "curl -H \\"Authorization: {word}  {token}\\""}}'.encode()
    findings = check_secrets("f", text)
    assert [(finding.status, finding.details["masked"]) for finding in findings] == [("bearer-token", mask(token))]
    assert token not in findings[0].message
    assert token not in json.dumps(findings[0].details)


def test_headers_and_bearer_tokens() -> None:
    raw = recording()
    raw["request"]["headers"] = {"Authorization": "Bearer abcdefghijklmnopqrstuvwxyz"}
    data = dump_upstream(raw)
    findings = check_secrets("f", data, headers=raw["request"]["headers"])
    assert [finding.status for finding in findings] == ["auth-header"]  # one secret, not two
    assert findings[0].details["line"] == data[: data.find(b'"Authorization"')].count(b"\n") + 1
    for headers in ({"api-key": "", "Authorization": None}, {}, None, ["x"]):
        assert check_secrets("f", b"{}", headers=headers) == []
    short = check_secrets("f", b"{}", headers={"X-Api-Key": "short"})
    assert [(finding.status, finding.details["masked"]) for finding in short] == [("auth-header", "*****")]
    text = b'{"note": "curl -H \\"Authorization: Bearer abcdefghijklmnopqrstu\\""}'
    assert [finding.status for finding in check_secrets("f", text)] == ["bearer-token"]


@pytest.mark.parametrize(
    "text",
    [
        "task-abcdefghijklmnopqrstuvwxyz0123",
        "sk-test",
        "Bearer fake",
        "disk-0123456789abcdefghijklmn",
        "AKIAshort",
        # placeholders, values too short or too long for the kind, and prefixes inside longer words
        "BEARER TOKEN",
        "bearer <token>",
        "Bearer $OPENAI_API_KEY_FROM_THE_ENVIRONMENT",
        "the bearer-token-abcdefghijklmnopqrstuvwxyz header",
        "github_pat_xxxxxxxx",
        "github_pat_" + "A" * 22 + "_" + "b" * 40,
        "my_github_pat_" + GITHUB_PAT[len("github_pat_") :],
        "hf_xxxxxxxx",
        "hf_" + "a" * 33,
        "hf_" + "a" * 40,
        "push" + HUGGING_FACE,
        "push_" + HUGGING_FACE,
        "gsk_" + "a" * 51,
        "xai-grok-beta",
        "xai-" + "a" * 79,
        "sk_test_" + "a1B2c3D4" * 3,
        "sk_live_short",
        "network_live_" + "a1B2c3D4" * 3,
        "ask_live_" + "a1B2c3D4" * 3,
        "ya29.example",
        "ya29." + "a" * 29,
        "eyJhbGciOiJIUzI1NiJ9",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.",  # unsigned
        "x" + JWT,
        "-----BEGIN PUBLIC KEY-----",
        "-----BEGIN CERTIFICATE-----",
    ],
)
def test_no_false_positives(text: str) -> None:
    assert check_secrets("f", json.dumps({"t": text}).encode()) == []


def test_allowlist_literal_and_regex() -> None:
    secret = "sk-proj-" + "a" * 30
    data = json.dumps({"t": secret}).encode()
    assert check_secrets("f", data, Allowlist((secret,))) == []
    assert check_secrets("f", data, Allowlist((r"^sk-proj-a+$",))) == []
    assert check_secrets("f", data, Allowlist(("[unclosed",))) != []


def test_mask() -> None:
    assert mask("sk-proj-abcdefghijklmnopqrstuvwxyz") == "sk-p…wxyz (34 chars)"
    assert mask("short") == "*****"


# --- schema, size, normalization -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "streaming", "expected"),
    [
        ([chunk(id="rec-x", created=0)], True, []),
        ([], True, ["empty-stream"]),
        (None, True, ["empty-stream"]),
        ({"__type__": "ChatCompletion", "__data__": {}}, True, ["streaming-mismatch"]),
        ([chunk(id="x")], False, ["streaming-mismatch"]),
        (["event: message_start", "data: {}", ""], False, ["streaming-mismatch"]),
        ([{"__type__": "openai.types.model.Model", "__data__": {"id": "m"}}], False, []),
    ],
)
def test_schema(body: Any, streaming: bool, expected: list[str]) -> None:
    valid = check_recording(recording(body, streaming=streaming), "f")
    assert [finding.status for finding in check_schema("f", valid)] == expected


@pytest.mark.parametrize(
    ("requested", "streaming", "expected"),
    [(True, False, ["streaming-mismatch"]), (False, True, ["streaming-mismatch"]), (True, True, [])],
)
def test_schema_request_stream_flag(requested: bool, streaming: bool, expected: list[str]) -> None:
    body = [chunk(id="x")] if streaming else {"__type__": "ChatCompletion", "__data__": {}}
    raw = recording(body, streaming=streaming)
    raw["request"]["body"]["stream"] = requested
    assert [finding.status for finding in check_schema("f", check_recording(raw, "f"))] == expected


def test_schema_ignores_recorded_exceptions() -> None:
    raw = recording(None, streaming=True)
    raw["response"].update(is_exception=True, exception_message="boom")
    assert check_schema("f", check_recording(raw, "f")) == []


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"{}", []),
        (b'{"x": "' + b"a" * 2000 + b'"}', ["large-file"]),
        (b'{"u": "data:image/png;base64,' + b"QUJD" * 300 + b'"}', ["large-image"]),
        (b'{"images": ["' + b"QUJD" * 300 + b'", "QUJD"]}', ["large-image"]),
        (b'{"u": "data:image/png;base64,QUJD"}', []),
    ],
)
def test_size(data: bytes, expected: list[str]) -> None:
    findings = check_size("f", data, max_file_bytes=1500, max_image_bytes=800)
    assert [finding.status for finding in findings] == expected


# --- the runner over bytes -------------------------------------------------------------------------------


def test_a_clean_recording_has_only_an_ok_hash() -> None:
    raw = recording([chunk(id="placeholder", created=0)], streaming=True)
    name = named(raw)
    raw["response"]["body"][0]["__data__"]["id"] = f"rec-{name[:12]}"
    assert statuses(dump_upstream(raw), f"{FOLDER}/{name}") == [("hash", "ok")]


def test_unparseable_and_invalid_files_are_schema_findings() -> None:
    assert statuses(b'{"request": ', f"{FOLDER}/a.json") == [("schema", "invalid")]
    assert statuses(b"[1, 2]", f"{FOLDER}/a.json") == [("schema", "invalid")]
    assert statuses(b"\x00\x01", f"{FOLDER}/a.json") == [("schema", "invalid")]
    # a broken file with a secret in it still reports the secret
    leaked = b'{"request": "sk-proj-' + b"b" * 30 + b'"'
    assert statuses(leaked, f"{FOLDER}/a.json") == [("schema", "invalid"), ("secrets", "openai-key")]


def test_json_that_is_not_a_recording_is_skipped_outside_recordings_folders() -> None:
    report = check_bytes(b'{"a": 1}', "x.json", "/repo/data/x.json", CheckOptions())
    assert report.skipped
    assert report.findings == []
    inside = check_bytes(b'{"a": 1}', "x.json", f"{FOLDER}/x.json", CheckOptions())
    assert [finding.status for finding in inside.findings] == ["invalid"]


def test_select_runs_only_the_chosen_checks() -> None:
    raw = recording([chunk(id="chatcmpl-1", created=5)], streaming=True)
    data = dump_upstream(raw)
    assert statuses(data, f"{FOLDER}/bad.json", {"normalization"}) == [("normalization", "unnormalized")]
    assert statuses(data, f"{FOLDER}/bad.json", {"hash"}) == [("hash", "mismatch")]


def test_duplicates_across_test_ids() -> None:
    reports = []
    for index, test_id in enumerate((TEST_ID, "tests/integration/other/test_z.py::t", TEST_ID + "x")):
        raw = recording([chunk(id="rec-1", created=0)], streaming=True, test_id=test_id)
        if index == 2:
            raw["request"]["body"]["model"] = "another"
        data = dump_upstream(raw)
        reports.append(check_bytes(data, f"f{index}.json", f"{FOLDER}/f{index}.json", CheckOptions()))
    findings = duplicates_of(reports)
    assert len(findings) == 1
    details = findings[0].details
    assert details["paths"] == ["f0.json", "f1.json"]
    assert details["copies"] == 2
    assert details["redundant_bytes"] == min(report.size for report in reports[:2])
    assert findings[0].severity == "info"


def test_messages_count_in_words_that_agree_with_their_number() -> None:
    raw = recording([chunk(id="rec-1", created=0)], streaming=True)  # only the id is not what its name says
    report = check_bytes(dump_upstream(raw), "a.json", f"{FOLDER}/a.json", CheckOptions())
    (normalization,) = [finding for finding in report.findings if finding.check == "normalization"]
    assert "(1 field);" in normalization.message
    reports = [
        check_bytes(dump_upstream(recording(streaming=True)), name, f"{FOLDER}/{name}", CheckOptions())
        for name in ("a.json", "b.json")
    ]
    (duplicate,) = duplicates_of(reports)
    assert "stored 2 times (1 test id);" in duplicate.message


def test_thousands_of_credential_headers_are_read_once_and_counted_once() -> None:
    """8,192 spellings of `Authorization` after 4 MB of text: each header's line is looked for from where the one
    before it was (9 s when each was searched from the top); the first hundred are named, the rest counted, and
    the bearer token inside each is not counted a second time. A value sent in two headers is named once."""
    spellings = [
        "".join(c.upper() if bits >> i & 1 else c for i, c in enumerate("authorization")) for bits in range(1 << 13)
    ]
    raw = recording()
    raw["note"] = "x" * 4_000_000  # before the request in the file
    raw["request"]["headers"] = {name: f"Bearer tok{number:06d}{'x' * 20}" for number, name in enumerate(spellings)}
    data = dump_upstream(raw)
    headers = raw["request"]["headers"]
    start = time.process_time()
    findings = check_secrets("f.json", data, headers=headers)
    assert time.process_time() - start < 2
    assert [finding.status for finding in findings] == ["auth-header"] * MAX_LISTED + ["unlisted"]
    assert findings[-1].details["count"] == len(spellings) - MAX_LISTED
    text = data.decode()
    for finding, name in zip(findings[:3], spellings, strict=False):
        assert finding.details["line"] == text[: text.index(f'"{name}"')].count("\n") + 1
    same = recording()
    same["request"]["headers"] = {
        "Authorization": "Bearer abcdefghijklmnopqrstu",
        "api-key": "Bearer abcdefghijklmnopqrstu",
    }
    written = dump_upstream(same)
    twice = check_secrets("g.json", written, headers=same["request"]["headers"])
    first = written[: written.index(b'"Authorization"')].count(b"\n") + 1
    assert [(finding.status, finding.details["line"]) for finding in twice] == [("auth-header", first)]


def test_a_file_of_a_thousand_keys_names_the_first_hundred_and_counts_the_rest() -> None:
    keys = [f"sk-{number:024d}" for number in range(1000)]
    raw = recording()
    raw["request"]["body"]["messages"] = [{"role": "user", "content": key} for key in [*keys, *keys]]  # each twice
    data = dump_upstream(raw)
    findings = check_secrets("f.json", data)
    assert [finding.status for finding in findings] == ["openai-key"] * MAX_LISTED + ["unlisted"]
    for finding, key in zip(
        findings[:MAX_LISTED], keys[:MAX_LISTED], strict=True
    ):  # in file order, each on the line it is first on
        assert finding.details["line"] == data[: data.index(key.encode())].count(b"\n") + 1
    assert findings[-1].details["count"] == 900
    assert findings[-1].message == "900 more secrets in the file, not listed (the first 100 are)"
    # Allowed keys are neither named nor counted.
    allowed = Allowlist((r"sk-0{22}[0-4]",))
    assert check_secrets("f.json", data, allowed)[-1].details["count"] == 1000 - 50 - MAX_LISTED  # 50 allowed


def test_seen_secrets_skip_a_secret_named_already_or_inside_one_named() -> None:
    seen = SeenSecrets(["Bearer sk-inside-a-header-value-0001"])
    assert seen.covers("sk-inside-a-header-value-0001")
    assert not seen.covers("sk-elsewhere")
    for number in range(SeenSecrets.LIMIT * 2):
        seen.add(f"key-{number:04d}")
    assert seen.covers("key-0001") and f"key-{SeenSecrets.LIMIT * 2 - 1:04d}" in seen  # each text, exactly
    assert not seen.covers("ey-0001x")


def test_line_numbers_count_on_from_the_offset_before() -> None:
    data = b"a\nbb\n\nccc\n"
    lines = LineNumbers(data)
    offsets = [0, 2, 5, 6, 10, 1]  # the last one goes back: counted again from the start
    assert [lines.of(offset) for offset in offsets] == [data[:offset].count(b"\n") + 1 for offset in offsets]
    assert LineNumbers(data).of_each([10, 0, 6, 6]) == [5, 1, 4, 4]


def test_summarize_orders_checks() -> None:
    reports = [check_bytes(b"{", "a", f"{FOLDER}/a.json", CheckOptions())]
    assert list(summarize(reports[0].findings)) == ["schema"]


def test_plan_renames_refuses_existing_and_colliding_targets(tmp_path: Path) -> None:
    raw = recording()
    current = named(raw)
    data = dump_upstream(raw)
    reports = [
        check_bytes(data, "a.json", str(tmp_path / "a.json"), CheckOptions(checks=frozenset({"hash"}))),
        check_bytes(data, "b.json", str(tmp_path / "b.json"), CheckOptions(checks=frozenset({"hash"}))),
    ]
    assert reports[0].current_name == current
    locations = {"a.json": tmp_path / "a.json", "b.json": tmp_path / "b.json"}
    plan = plan_renames(reports, locations, lambda _path: False)
    assert [(row.status, row.new_path) for row, _, _ in plan] == [("pending", current), ("refused", current)]
    plan = plan_renames(reports[:1], locations, lambda _path: True)
    assert plan[0][0].status == "refused"
    assert "already exists" in (plan[0][0].reason or "")


# --- speed paths of the secrets and size checks: the same findings as a plain scan ---------------------------

AWS = "AKIA" + "ABCDEFGHIJKLMNOP"
GITHUB = "ghp_" + "a" * 36
SLACK = "xoxb-" + "1234567890ab"


@pytest.mark.parametrize(
    ("text", "kinds"),
    [
        (f"xoxo{SLACK}", []),  # overlapping occurrences of an anchor; the last one inside a word
        (f"-{SLACK}", ["slack-token"]),
        (f"A{AWS} and {AWS}", ["aws-access-key"]),  # the first is inside a longer word
        (f"xAIza{'b' * 35} AIza{'c' * 35}", ["google-api-key"]),
        (f"{GITHUB} {SLACK}", ["github-token", "slack-token"]),
        # kinds that share an anchor, side by side
        (f"BEARER {'t' * 20} {AWS}-----BEGIN RSA PRIVATE KEY-----", ["bearer-token", "aws-access-key", "private-key"]),
        (f"{HUGGING_FACE} {GITHUB_PAT},{GITHUB}", ["huggingface-token", "github-token", "github-token"]),
        (f"{GROQ} sk_live_{'a' * 24} sk-{'a' * 30}", ["groq-key", "stripe-key", "openai-key"]),
        (f"{XAI} {SLACK}", ["xai-key", "slack-token"]),
        (f"{GOOGLE_OAUTH} {JWT}", ["google-oauth-token", "jwt"]),
        (f"eyJ{JWT}", ["jwt"]),  # the first `eyJ` of a run starts the token
    ],
)
def test_secret_anchors(text: str, kinds: list[str]) -> None:
    assert [finding.status for finding in check_secrets("f", json.dumps({"t": text}).encode())] == kinds


def _with_image(payload: str, after: str = "") -> bytes:
    return dump_upstream({"messages": [{"image_url": f"data:image/png;base64,{payload}"}, after]})


@pytest.mark.parametrize(
    ("data", "kinds"),
    [
        (_with_image("QUJD" * 100 + "/" + AWS + "+QUJD"), ["aws-access-key"]),  # in base64: still searched
        (_with_image("QUJD" * 100, f"sk-{'a' * 30}"), ["openai-key"]),  # right after an image
        (_with_image("QUJD" * 100 + f" sk-{'a' * 30}"), ["openai-key"]),  # not base64: searched whole
        (_with_image(f"{GITHUB}" + "QUJD" * 100), ["github-token"]),
        (dump_upstream({"images": ["QUJD" * 100, f"Bearer {'t' * 20}"]}), ["bearer-token"]),
        (_with_image("QUJD" * 100, JWT), ["jwt"]),
        (_with_image(JWT + "QUJD" * 100), ["jwt"]),
        (_with_image("QUJD" * 100 + "/ya29." + "a0AfH6SMB" * 5 + "QUJD"), ["google-oauth-token"]),  # only a `.`
    ],
)
def test_secrets_in_and_around_images_with_and_without_the_image_spans(data: bytes, kinds: list[str]) -> None:
    from llm_fixtures.checking.size import image_spans

    spans = image_spans(data)
    assert spans
    assert [finding.status for finding in check_secrets("f", data, images=spans)] == kinds
    assert check_secrets("f", data, images=spans) == check_secrets("f", data)


@pytest.mark.parametrize(
    "text",
    [
        b' "QUJD" , "x"',
        b'"QUJD=="',
        b'"QUJD==="',
        b'"QU=JD"',
        b'"QU\\"JD"',
        b'\n\t"ab+/"\n,',
        b'"ab',
        b"x",
        b"",
        b'"" ,',
    ],
)
def test_bare_string_is_the_regex(text: bytes) -> None:
    from llm_fixtures.checking.size import _BARE_STRING, _bare_string

    for position in range(len(text) + 1):
        match = _BARE_STRING.match(text, position)
        expected = (match.start(1), len(match.group(1)), match.end()) if match else None
        assert _bare_string(text, position) == expected


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"data:image/data:image/png;base64,AAAA",
        b'data:image/;base64, data:image/x;base64,"images" : ["QUJD"]"images":[',
        b'"images""images" :[ "QUJD" , "QUJD"]',
    ],
)
def test_prefixed_matches_are_finditer(data: bytes) -> None:
    from llm_fixtures.checking.size import _BARE_IMAGES, _DATA_URL, _ONE_PASS, _PREFIXES, _matches

    found = _ONE_PASS.find(data) if _ONE_PASS.available() else []  # the prefixes of a large file, in one pass
    for index, (pattern, prefix) in enumerate(((_DATA_URL, b"data:image/"), (_BARE_IMAGES, b'"images"'))):
        expected = [match.span() for match in pattern.finditer(data)]
        assert [match.span() for match in _matches(pattern, prefix, data)] == expected
        if _ONE_PASS.available():
            starts = [end - len(_PREFIXES[which]) for end, which in found if which == index]
            assert [match.span() for match in _matches(pattern, prefix, data, starts)] == expected


# --- keys split over the chunks of a stream ------------------------------------------------------------------------

KEY = "sk-proj-" + "a1B2c3D4" * 4


def _stream_secrets(body: list[Any]) -> list[tuple[str, str, int | None]]:
    raw = recording(body, streaming=True)
    data = json.dumps(raw, indent=2).encode()
    findings = check_secrets("x.json", data, response=raw["response"])
    return [(f.status, f.details["masked"], f.details["line"]) for f in findings]


def _split(text: str, *cuts: int) -> list[str]:
    bounds = [0, *cuts, len(text)]
    return [text[start:end] for start, end in itertools.pairwise(bounds)]


def _delta_chunks(key: str, pieces: list[str], **choice: Any) -> list[dict[str, Any]]:
    return [chunk(object="chat.completion.chunk", choices=[{**choice, "delta": {key: piece}}]) for piece in pieces]


@pytest.mark.parametrize("field", ["content", "refusal", "reasoning_content"])
@pytest.mark.parametrize("cuts", [(1,), (2,), (3,), (9,), (1, 2), (2, 3, 20)])
def test_a_key_split_over_chat_chunks_is_found_once_joined(field: str, cuts: tuple[int, ...]) -> None:
    pieces = _split(f"key: {KEY} ok", *(5 + cut for cut in cuts))
    assert _stream_secrets(_delta_chunks(field, pieces, index=0)) == [("openai-key", mask(KEY), None)]


def test_a_key_split_over_tool_call_arguments_and_interleaved_choices_is_found() -> None:
    arguments = json.dumps({"token": KEY})
    calls = [
        chunk(
            object="chat.completion.chunk",
            choices=[{"index": 0, "delta": {"tool_calls": [{"index": 1, "function": {"arguments": piece}}]}}],
        )
        for piece in _split(arguments, 14, 20)
    ]
    assert _stream_secrets(calls) == [("openai-key", mask(KEY), None)]
    # Two choices, each carrying half of a key, their chunks interleaved: joined per choice.
    first, second = _delta_chunks("content", ["a sk", "-proj-"], index=1), _delta_chunks("content", ["b", "c"])
    rest = _delta_chunks("content", [KEY[8:]], index=1)
    body = [first[0], second[0], first[1], second[1], *rest]
    assert _stream_secrets(body) == [("openai-key", mask(KEY), None)]


def test_an_azure_filter_chunk_and_unusual_deltas_still_find_a_split_key() -> None:
    pieces = _delta_chunks("content", ["my sk", KEY[2:]], index=0)
    azure = chunk(object="", choices=[], prompt_filter_results=[{"prompt_index": 0}])
    assert _stream_secrets([azure, *pieces]) == [("openai-key", mask(KEY), None)]
    audio = chunk(object="chat.completion.chunk", choices=[{"index": 0, "delta": {"audio": {"transcript": "x"}}}])
    assert _stream_secrets([*pieces, audio]) == [("openai-key", mask(KEY), None)]  # folded as before


def test_a_chat_stream_without_a_split_key_is_not_folded(monkeypatch: pytest.MonkeyPatch) -> None:
    from llm_fixtures.checking import secrets

    def fold(response: Any) -> bytes:
        raise AssertionError(f"folded {response!r}")

    monkeypatch.setattr(secrets, "folded_stream", fold)
    assert _stream_secrets(_delta_chunks("content", ["Hello", ", ", "world"], index=0)) == []
    # A key whole in one chunk is found in the file's bytes; joining the chunks adds nothing, so no fold either.
    [(kind, masked, line)] = _stream_secrets(_delta_chunks("content", ["a", f" {KEY} ", "b"], index=0))
    assert (kind, masked) == ("openai-key", mask(KEY)) and line is not None


def test_every_string_the_chat_fold_makes_is_a_joined_piece_or_a_chunk_value(corpus: Path) -> None:
    """What lets `check` skip folding a chat stream: each string of its folded message is the join of one list of
    `_chat_pieces` (or lies within one), or a value one chunk holds, which the scan of the file saw."""
    from llm_fixtures.assembling import fold_body
    from llm_fixtures.assembling.merging import repair_surrogates
    from llm_fixtures.checking.secrets import _chat_pieces

    streams = 0
    for path in sorted(corpus.rglob("*.json")):
        raw = json.loads(path.read_bytes())
        response = raw.get("response") if isinstance(raw, dict) else None
        body = response.get("body") if isinstance(response, dict) else None
        pieces = _chat_pieces(body) if isinstance(body, list) and len(body) > 1 else None
        if pieces is None:
            continue
        streams += 1
        joined = [repair_surrogates("".join(parts)) for parts in pieces.values()]  # as the fold joins them
        values = set(builders.strings_in(body))
        _kind, result, _warnings = fold_body(body, is_streaming=True)
        for text in builders.strings_in(result):
            assert text in values or any(text in whole for whole in joined), (path.name, text)
    assert streams > 50
