"""The upstream request-hash rules, as data: recompute a recording's file name and say which rule made it."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Any, Literal
from urllib.parse import urlparse

from llm_fixtures.facts import MODEL_LIST_ENDPOINTS
from llm_fixtures.kinds import RequestKind, request_kind

HashStatus = Literal["ok", "stale", "mismatch", "unverifiable"]
NameStyle = Literal["full", "short"]

# The paths for which the current recorder leaves `test_id` out of the key: the model list endpoints, whose
# files are named `models-<hash>-<digest8>.json` (FORMAT.md §3.6). Compared with the full URL path, so
# `/v1/v1/models` does not match (FORMAT.md §3.2): in practice model lists are hashed per test.
SHARED_PATHS = MODEL_LIST_ENDPOINTS

_HEX64_NAME = re.compile(r"([0-9a-f]{64})\.json")
_MODELS_NAME = re.compile(r"models-([0-9a-f]{64})-([0-9a-f]{8})\.json")
_HEX12_NAME = re.compile(r"([0-9a-f]{12})\.json")

_FLOAT_IN_STRING = re.compile(r"(-?\d+\.\d{4,})")
# What every match of _FLOAT_IN_STRING holds; starting with a literal, it is searched for much faster.
_DECIMAL_TAIL = re.compile(r"\.\d{4}")
_UUID = r"[a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12}"
_FILE_SEARCH_SCORE = re.compile(r"score:\s*[-+]?\d*\.?\d+(?:[eE][-+]?\d+)?")
_FILE_SEARCH_ATTRIBUTES = re.compile(r",?\s*attributes:\s*\{[^}]*\}")
_FILE_SEARCH_DOCUMENT_ID = re.compile(rf"document_id:\s*{_UUID}")
_FILE_SEARCH_CITATION = re.compile(rf"<\|{_UUID}\|>")


def sha256_key(key: Any) -> str:
    """The hex digest upstream takes of a request key: default `json.dumps` separators, sorted keys."""
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Normalization:
    """Which steps of upstream `_normalize_body_for_hash` a rule applies (each was added by one PR)."""

    numbers: bool = True  # floats rounded to 5 places, long decimals in strings rewritten (#3403)
    file_search: bool = True  # file_search scores, attributes, document ids, citations scrubbed (#5173)
    project_id: bool = True  # extra_body/extra_query project_id dropped (#5120)
    bedrock_stream_options: bool = True  # stream_options dropped for bedrock hosts (#4292)

    @property
    def any(self) -> bool:
        return self.numbers or self.file_search or self.project_id or self.bedrock_stream_options


CURRENT = Normalization()
NONE = Normalization(numbers=False, file_search=False, project_id=False, bedrock_stream_options=False)


def _scrub_file_search(value: str) -> str:
    # Each substitution runs only when its literal is present: the same result, without running four
    # regexes over every string of a large request. `score:`, `attributes:` and `document_id:` each need a
    # colon at index 5 or later, and a citation a `<`: single characters, found much faster than words (a
    # base64 image in a request is a string of hundreds of kilobytes).
    if value.find(":", 5) != -1:
        if "score" in value:
            value = _FILE_SEARCH_SCORE.sub("score: __NORMALIZED__", value)
        if "attributes" in value:
            value = _FILE_SEARCH_ATTRIBUTES.sub("", value)
        if "document_id" in value:
            value = _FILE_SEARCH_DOCUMENT_ID.sub("document_id: __NORMALIZED__", value)
    if "<" in value and "<|" in value:
        value = _FILE_SEARCH_CITATION.sub("<|__NORMALIZED__|>", value)
    return value


def _round_decimal(match: re.Match[str]) -> str:
    return f"{float(match.group(0)):.5f}"


def normalize_body(
    value: Any,
    steps: Normalization = CURRENT,
    *,
    bedrock: bool = False,
    changed: set[str] | None = None,
    stand_ins: dict[str, str] | None = None,
    _is_root: bool = True,
) -> Any:
    """Upstream `_normalize_body_for_hash`, limited to `steps`. Like upstream, list items are treated as roots
    again (so `project_id` is stripped from dicts inside lists) and `stream_options` only goes at the top.
    `changed`, when given, collects the steps that changed something (`numbers`, `file_search`,
    `project_id`, `bedrock_stream_options`). The input is never modified. `stand_ins`, when given, receives
    the long strings that the result holds stand-ins for (see `LONG_STRING`; only `RuleKeys` wants that)."""
    if not steps.any:
        return value  # nothing to do, and keys are only ever read
    return _Normalizer(steps, changed, stand_ins).top(value, bedrock=bedrock, is_root=_is_root)


# A string this long (a base64 image, mostly) is left out of the key while it is serialized: a short stand-in
# takes its place and the string is spliced into the JSON text afterwards. json.dumps escapes character by
# character; a string with nothing to escape is the same between its quotes, copied at memory speed.
LONG_STRING = 4096


# What json.dumps (ensure_ascii) escapes in an ASCII string: controls, DEL, the quote and the backslash.
_ESCAPED = (*(chr(code) for code in range(0x20)), "\x7f", '"', "\\")


def _plain_json_string(value: str) -> bool:
    """Whether json.dumps (ensure_ascii) writes `value` as itself between quotes. One search per character
    (each at memchr speed) is several times faster than str.isprintable over a long string."""
    return value.isascii() and not any(char in value for char in _ESCAPED)


def _splice(text: str, stand_ins: dict[str, str]) -> str | None:
    """The JSON text with each stand-in replaced by the string it stands for; None when a stand-in's JSON is
    found other than exactly once (some other string looks like it), so the caller dumps the real key."""
    for token, value in stand_ins.items():
        quoted = json.dumps(token)
        if text.count(quoted) != 1:
            return None
        text = text.replace(quoted, f'"{value}"', 1)
    return text


class _Normalizer:
    """The walk of `normalize_body`: the steps looked up once, not passed down every call (a request body
    can hold tens of thousands of values)."""

    def __init__(self, steps: Normalization, changed: set[str] | None, stand_ins: dict[str, str] | None = None) -> None:
        self.numbers = steps.numbers
        self.file_search = steps.file_search
        self.project_id = steps.project_id
        self.stream_options = steps.bedrock_stream_options
        self.changed = changed
        self.stand_ins = stand_ins  # when given, long plain strings are replaced by stand-ins, kept here

    def top(self, value: Any, *, bedrock: bool, is_root: bool) -> Any:
        if not isinstance(value, dict):
            return self.walk(value, is_root)
        normalized = self.mapping(value, is_root)
        if bedrock and self.stream_options and "stream_options" in normalized:
            del normalized["stream_options"]
            if self.changed is not None:
                self.changed.add("bedrock_stream_options")
        return normalized

    def walk(self, value: Any, is_root: bool) -> Any:
        kind = type(value)
        if kind is str:
            return self.string(value)
        if kind is dict:
            return self.mapping(value, is_root)
        if kind is list:
            return [self.walk(item, True) for item in value]
        if kind is int or kind is bool or value is None:
            return value
        # Any other type, subclasses included, as upstream's isinstance tests see it.
        if isinstance(value, dict):
            return self.mapping(value, is_root)
        if isinstance(value, list):
            return [self.walk(item, True) for item in value]
        if isinstance(value, tuple):  # never in parsed JSON; upstream normalizes Python tuples too
            return tuple(self.walk(item, True) for item in value)
        if isinstance(value, float):
            if not self.numbers:
                return value
            rounded = round(value, 5)
            if self.changed is not None and rounded != value:
                self.changed.add("numbers")
            return rounded
        if isinstance(value, str):
            return self.string(value)
        return value

    def mapping(self, value: dict[Any, Any], is_root: bool) -> dict[Any, Any]:
        walk = self.walk
        normalized = {key: walk(item, False) for key, item in value.items()}
        if is_root and self.project_id:
            for extra_key in ("extra_body", "extra_query"):
                extra = normalized.get(extra_key)
                if isinstance(extra, dict) and "project_id" in extra:
                    del extra["project_id"]
                    if self.changed is not None:
                        self.changed.add("project_id")
        return normalized

    def string(self, value: str) -> str:
        if self.file_search:
            scrubbed = _scrub_file_search(value)
            if self.changed is not None and scrubbed != value:
                self.changed.add("file_search")
            value = scrubbed
        if self.numbers and "." in value and _DECIMAL_TAIL.search(value) is not None:
            rewritten = _FLOAT_IN_STRING.sub(_round_decimal, value)
            if self.changed is not None and rewritten != value:
                self.changed.add("numbers")
            value = rewritten
        if self.stand_ins is not None and len(value) >= LONG_STRING and _plain_json_string(value):
            token = f"\x00{len(self.stand_ins)}\x00"
            self.stand_ins[token] = value
            return token
        return value


# --- keys -------------------------------------------------------------------------------------------------


def _request(raw: dict[str, Any]) -> dict[str, Any]:
    request = raw.get("request")
    if not isinstance(request, dict):
        raise NoKey
    return request


def family_of(raw: dict[str, Any]) -> RequestKind:
    """Which key family a parsed recording's request belongs to, by its keys."""
    return request_kind(raw.get("request"))


def _test_id(raw: dict[str, Any], request: dict[str, Any], *, request_first: bool) -> Any:
    """The test id the hash saw. Inference files store only the top-level one; http and tool requests also
    store the ContextVar value the hash used, which can differ from the top-level fallback (FORMAT §1.2)."""
    if request_first and "test_id" in request:
        return request["test_id"]
    return raw.get("test_id")


def inference_key(
    raw: dict[str, Any],
    steps: Normalization = CURRENT,
    *,
    with_test_id: bool = True,
    changed: set[str] | None = None,
    stand_ins: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Upstream `normalize_inference_request` over a stored request: method, URL path, normalized body and
    (unless the URL path is exactly a shared model-list path) the test id. `changed` collects the
    normalization steps that changed the body; `stand_ins` as for `normalize_body`."""
    request = _request(raw)
    url = request.get("url")
    if not isinstance(url, str):
        raise NoKey
    parsed = urlparse(url)
    method = request.get("method", "POST")
    key: dict[str, Any] = {
        "method": method.upper() if isinstance(method, str) else method,
        "endpoint": parsed.path,
        "body": normalize_body(
            request.get("body"), steps, bedrock="bedrock" in parsed.netloc, changed=changed, stand_ins=stand_ins
        ),
    }
    if with_test_id and parsed.path not in SHARED_PATHS:
        key["test_id"] = _test_id(raw, request, request_first=False)
    return key


def legacy_key(raw: dict[str, Any]) -> dict[str, Any]:
    """The Jul-Oct 2025 key: method, URL path and the raw body; no test id."""
    return inference_key(raw, NONE, with_test_id=False)


def http_key(raw: dict[str, Any], steps: Normalization = CURRENT) -> dict[str, Any]:
    """Upstream `normalize_http_request`: test id, full URL (host included), method and normalized payload."""
    request = _request(raw)
    method = request.get("method", "POST")
    return {
        "test_id": _test_id(raw, request, request_first=True),
        "url": request.get("url"),
        "method": method.upper() if isinstance(method, str) else method,
        "payload": normalize_body(request.get("payload"), steps),
    }


def tool_key(raw: dict[str, Any]) -> dict[str, Any]:
    """Upstream `normalize_tool_request`: provider, tool name and raw kwargs; no test id, no normalization."""
    request = _request(raw)
    return {
        "provider": request.get("provider"),
        "tool_name": request.get("tool_name"),
        "kwargs": request.get("kwargs"),
    }


def model_list_digest(raw: dict[str, Any]) -> str | None:
    """`sha256("|".join(sorted(set(ids))))[:8]` of a stored model-list response: `model` of each entry for
    `/api/tags`, `id` otherwise; None when the body is not a model list."""
    request = _request(raw)
    endpoint = request.get("endpoint")
    response = raw.get("response")
    body = response.get("body") if isinstance(response, dict) else None
    if isinstance(body, dict) and "__data__" in body:
        body = body["__data__"]
    items = body.get("models") if isinstance(body, dict) else body
    if not isinstance(items, list):
        return None
    field = "model" if endpoint == "/api/tags" else "id"
    ids: set[str] = set()
    for item in items:
        data = item.get("__data__", item) if isinstance(item, dict) else None
        value = data.get(field) if isinstance(data, dict) else None
        if not isinstance(value, str):
            return None
        ids.add(value)
    return hashlib.sha256("|".join(sorted(ids)).encode()).hexdigest()[:8]


class NoKey(Exception):
    """A rule does not apply to this recording (wrong shape)."""


# What computing a key can raise on a recording of the wrong shape or with an unserializable body.
KEY_ERRORS = (NoKey, TypeError, ValueError, AttributeError, RecursionError)


# The end of a key's JSON that its variants may change (the test id comes last, keys being sorted).
SHARED_TAIL = 4096

# --- rules ------------------------------------------------------------------------------------------------

KeyFunction = Callable[[dict[str, Any]], Any]
_STEP_NAMES = ("numbers", "file_search", "project_id", "bedrock_stream_options")


@dataclass(frozen=True, slots=True)
class HashRule:
    """One way a recorder named files: which recordings it applies to, the key it hashed and how it
    formatted the name. `current` rules are what the recorder of today looks up.

    Inference rules are described by their body normalization (`steps`) and whether the key holds the test
    id (`test_id`); other families give a `key` function over the parsed recording."""

    name: str
    family: RequestKind
    current: bool
    style: NameStyle
    description: str
    steps: Normalization = CURRENT
    test_id: bool = True
    key: KeyFunction | None = None
    model_list: bool | None = None  # True: only model lists; False: never; None: both
    accepted: bool | None = None  # a match is `ok` (default: when the rule is current)

    @property
    def ok_when_matched(self) -> bool:
        return self.current if self.accepted is None else self.accepted

    @property
    def shape(self) -> str:
        """The shape of the names it gives: `short` (12 hex), `models` or `full` (64 hex)."""
        return "short" if self.style == "short" else "models" if self.model_list else "full"

    def applies(self, raw: dict[str, Any]) -> bool:
        if family_of(raw) != self.family:
            return False
        return self.model_list is None or is_model_list(raw) == self.model_list

    def file_name(self, raw: dict[str, Any]) -> str | None:
        """The name this rule gives the recording; None when it does not apply."""
        return RuleKeys(raw).name(self)

    def format_name(self, digest: str, keys: RuleKeys) -> str | None:
        if self.style == "short":
            return f"{digest[:12]}.json"
        if self.model_list:
            models = keys.models_digest()
            return f"models-{digest}-{models}.json" if models is not None else None
        return f"{digest}.json"


def is_model_list(raw: dict[str, Any]) -> bool:
    """Whether the recorder names this recording `models-<hash>-<digest8>.json` (by its logical endpoint)."""
    request = raw.get("request")
    return isinstance(request, dict) and request.get("endpoint") in MODEL_LIST_ENDPOINTS


class RuleKeys:
    """The keys of one recording under each rule, each computed at most once. Normalizing a large body is
    the costly part, and the name, stale, rename and duplicates checks all need the current key; an older
    normalization whose dropped steps changed nothing in the current one gives the same key, unrecomputed."""

    def __init__(self, raw: dict[str, Any]) -> None:
        self.raw = raw
        self._keys: dict[tuple[Normalization, bool], dict[str, Any] | None] = {}
        self._texts: dict[str, str | None] = {}
        # Digests by the id of their text, the text held alive with its digest; the state of the last long
        # text's hash up to its last SHARED_TAIL bytes (a key with and without the test id differ only there).
        self._digests: dict[int, tuple[str, str]] = {}
        self._prefix: tuple[bytes, int, Any] | None = None
        self._changed: set[str] = set()
        # Canonical JSON of each key object (held alive in _keys, so ids are not reused), and for a key made
        # from another one by adding or dropping the test id, that other key.
        self._dumped: dict[int, str] = {}
        self._twins: dict[int, dict[str, Any]] = {}
        # The keys hold stand-ins for their long strings (see LONG_STRING), spliced back into their JSON.
        self._stand_ins: dict[int, dict[str, str]] = {}
        self._models_digest: str | None = None
        self._models_known = False

    def _inference_key(self, steps: Normalization = CURRENT, *, test_id: bool = True) -> dict[str, Any] | None:
        """The inference key under `steps` (None when the request has none), with stand-ins for its long
        strings: only its JSON (`inference_text`) is what upstream hashes."""
        slot = (steps, test_id)
        if slot in self._keys:
            return self._keys[slot]
        key: dict[str, Any] | None
        if steps != CURRENT:
            current = self._inference_key(CURRENT, test_id=test_id)
            dropped = {step for step in _STEP_NAMES if getattr(CURRENT, step) and not getattr(steps, step)}
            if current is None or not dropped & self._changed:
                self._keys[slot] = current
                return current
        other = self._keys.get((CURRENT, not test_id)) if steps == CURRENT else None
        if other is not None:
            # The same normalized body, with or without the test id.
            key = {name: value for name, value in other.items() if name != "test_id"}
            if test_id and key["endpoint"] not in SHARED_PATHS:
                key["test_id"] = self.raw.get("test_id")
            self._twins[id(key)] = other
            self._stand_ins[id(key)] = self._stand_ins[id(other)]
        else:
            changed: set[str] | None = set() if steps == CURRENT else None
            stand_ins: dict[str, str] = {}
            try:
                key = inference_key(self.raw, steps, with_test_id=test_id, changed=changed, stand_ins=stand_ins)
            except KEY_ERRORS:
                key = None
            if key is not None:
                self._stand_ins[id(key)] = stand_ins
            if changed is not None:
                self._changed = changed
        self._keys[slot] = key
        return key

    def text(self, rule: HashRule) -> str | None:
        """The canonical JSON upstream hashes for this rule (None when the rule does not apply)."""
        if rule.name in self._texts:
            return self._texts[rule.name]
        text: str | None = None
        if rule.applies(self.raw):
            try:
                if rule.key is not None:
                    text = json.dumps(rule.key(self.raw), sort_keys=True)
                else:
                    text = self.inference_text(rule.steps, test_id=rule.test_id)
            except KEY_ERRORS:
                text = None
        self._texts[rule.name] = text
        return text

    def inference_text(self, steps: Normalization = CURRENT, *, test_id: bool = True) -> str | None:
        """The canonical JSON of `inference_key(steps, test_id=...)`, dumped once per distinct key."""
        key = self._inference_key(steps, test_id=test_id)
        if key is None:
            return None
        text = self._dumped.get(id(key))
        if text is None:
            twin = self._twins.get(id(key))
            twin_text = self._dumped.get(id(twin)) if twin is not None else None
            text = _retag(twin_text, twin, key) if twin is not None and twin_text is not None else None
            if text is None:
                text = _splice(json.dumps(key, sort_keys=True), self._stand_ins[id(key)])
            if text is None:  # a string of the request looks like a stand-in: the key without them
                text = json.dumps(inference_key(self.raw, steps, with_test_id=test_id), sort_keys=True)
            self._dumped[id(key)] = text
        return text

    def inference_digest(self, steps: Normalization = CURRENT, *, test_id: bool = True) -> str | None:
        text = self.inference_text(steps, test_id=test_id)
        return self._digest_of(text) if text is not None else None

    def _digest_of(self, text: str) -> str:
        # By id, not by text: hashing a text of megabytes as a dict key costs about as much as its sha256.
        known = self._digests.get(id(text))
        if known is None:
            known = self._digests[id(text)] = (text, self._sha256(text))
        return known[1]

    def _sha256(self, text: str) -> str:
        """The sha256 of a text; for long texts that begin as the last long text did, only the rest of it is
        hashed (the keys with and without the test id hold the same, possibly huge, body)."""
        data = text.encode()
        if len(data) <= SHARED_TAIL:
            return hashlib.sha256(data).hexdigest()
        view = memoryview(data)
        if self._prefix is not None:
            before, cut, state = self._prefix
            if len(data) >= cut and data.startswith(memoryview(before)[:cut]):
                digest = state.copy()
                digest.update(view[cut:])
                return str(digest.hexdigest())
        cut = len(data) - SHARED_TAIL
        digest = hashlib.sha256(view[:cut])
        self._prefix = (data, cut, digest.copy())
        digest.update(view[cut:])
        return digest.hexdigest()

    def digest(self, rule: HashRule) -> str | None:
        text = self.text(rule)
        return self._digest_of(text) if text is not None else None

    def name(self, rule: HashRule) -> str | None:
        """The file name the rule gives the recording; None when it does not apply."""
        digest = self.digest(rule)
        return rule.format_name(digest, self) if digest is not None else None

    def models_digest(self) -> str | None:
        """`model_list_digest` of the recording, computed once."""
        if not self._models_known:
            self._models_known = True
            try:
                self._models_digest = model_list_digest(self.raw)
            except KEY_ERRORS:
                self._models_digest = None
        return self._models_digest


def _retag(text: str, source: dict[str, Any], target: dict[str, Any]) -> str | None:
    """The canonical JSON of `target`, made from that of `source` when the two differ only by `test_id`:
    with sorted keys `test_id` comes last (after body, endpoint, method), so it is a suffix. None if not."""
    if "test_id" in source and "test_id" not in target:
        suffix = ', "test_id": ' + json.dumps(source["test_id"]) + "}"
        return text[: -len(suffix)] + "}" if text.endswith(suffix) else None
    if "test_id" in target and "test_id" not in source and text.endswith("}"):
        return text[:-1] + ', "test_id": ' + json.dumps(target["test_id"]) + "}"
    return text if ("test_id" in source) == ("test_id" in target) else None


def _http_raw(raw: dict[str, Any]) -> dict[str, Any]:
    return http_key(raw, NONE)


# Order matters: the first rule that reproduces a name is the one reported. Current rules come first; then
# older rules, newest first. A new upstream rule is one more entry here.
RULES: tuple[HashRule, ...] = (
    HashRule(
        "current",
        RequestKind.inference,
        True,
        "full",
        "sha256({method, endpoint: URL path, body: normalized, test_id})",
        model_list=False,
    ),
    HashRule(
        "model-list",
        RequestKind.inference,
        True,
        "full",
        "models-<sha256 of the inference key>-<digest8 of the model ids>",
        model_list=True,
    ),
    HashRule(
        "model-list-shared",
        RequestKind.inference,
        False,
        "full",
        "upstream after the 2026-05 snapshot: every `*/models` path is shared, so the key has no test id",
        test_id=False,
        model_list=True,
        accepted=True,
    ),
    HashRule(
        "http", RequestKind.http, True, "full", "sha256({test_id, url, method, payload: normalized})", key=http_key
    ),
    HashRule("tool", RequestKind.tool, True, "full", "sha256({provider, tool_name, kwargs}); no test id", key=tool_key),
    HashRule(
        "legacy-12hex",
        RequestKind.inference,
        False,
        "short",
        "the Jul-Oct 2025 rule: sha256({method, endpoint, body: raw})[:12]; no test id",
        steps=NONE,
        test_id=False,
        accepted=True,
    ),
    HashRule(
        "pre-file_search-scrub",
        RequestKind.inference,
        False,
        "full",
        "before #5173 (2026-04-09): file_search scores, attributes, document ids and citations were hashed",
        steps=Normalization(file_search=False),
        model_list=False,
    ),
    HashRule(
        "no-normalization",
        RequestKind.inference,
        False,
        "full",
        "before #3403 (2025-10): the raw body was hashed (no float rounding, no scrubbing)",
        steps=NONE,
        model_list=False,
    ),
    HashRule("http-no-normalization", RequestKind.http, False, "full", "http key over the raw payload", key=_http_raw),
)


@dataclass(frozen=True, slots=True)
class ContentEdit:
    """A known bulk edit made to recordings after they were named. Undoing (some of) its substitutions and
    reproducing the name explains a mismatch; it stays a mismatch, since the recorder cannot find the file."""

    name: str
    substitutions: tuple[tuple[str, str], ...]  # (text now in the file, text before the edit)
    description: str


EDITS: tuple[ContentEdit, ...] = (
    ContentEdit(
        "ogx-rename",
        (
            ("ogx_client", "llama_stack_client"),
            ("X-OGX-Provider-Data", "X-LlamaStack-Provider-Data"),
            ("The OGX Contributors", "Meta Llama"),
            ("ogx-test.openai.azure.com", "llama-stack-test.openai.azure.com"),
        ),
        "the April 2026 llama-stack -> OGX rename (#5613) rewrote its text after it was named",
    ),
)


@dataclass(frozen=True, slots=True)
class HashVerdict:
    """Whether a file name is what a rule gives the recording's content, and which rule."""

    status: HashStatus
    rule: str | None
    expected_name: str | None
    message: str
    cause: str | None = None  # for a mismatch: a known edit (`ogx-rename`) or `renamed` when ids tell


def rule_named(name: str, rules: Sequence[HashRule] = RULES) -> HashRule:
    """The rule called `name` (KeyError if there is none)."""
    for rule in rules:
        if rule.name == name:
            return rule
    raise KeyError(name)


def request_key_name(
    raw: dict[str, Any], rules: Sequence[HashRule] = RULES, *, keys: RuleKeys | None = None
) -> str | None:
    """The file name the current upstream rule gives a parsed recording; None when it is not reproducible
    (a file-processor recording, or a request the rule cannot serialize)."""
    keys = keys if keys is not None else RuleKeys(raw)
    for rule in rules:
        if rule.current:
            name = keys.name(rule)
            if name is not None:
                return name
    return None


def name_shape(name: str) -> str | None:
    """`full` (`<hex64>.json`), `models` (`models-<hex64>-<hex8>.json`), `short` (`<hex12>.json`), or None."""
    for shape, pattern in (("full", _HEX64_NAME), ("models", _MODELS_NAME), ("short", _HEX12_NAME)):
        if pattern.fullmatch(name):
            return shape
    return None


def verify_name(
    name: str,
    raw: dict[str, Any],
    rules: Sequence[HashRule] = RULES,
    edits: Sequence[ContentEdit] = EDITS,
    *,
    keys: RuleKeys | None = None,
) -> HashVerdict:
    """Recompute a recording's name from its own content with every rule and say which one, if any, made it.

    `ok`: a current rule (or, for a 12-hex name, the rule of its own era) reproduces it; `stale`: only an
    older rule does; `mismatch`: none does (the content changed after it was named); `unverifiable`: the
    kind has no reproducible key. Pass `keys` to share the computed keys with other checks.
    """
    keys = keys if keys is not None else RuleKeys(raw)
    family = family_of(raw)
    if family is RequestKind.file_processor:
        return HashVerdict(
            "unverifiable",
            None,
            None,
            "file-processor recording: its key included chunking_strategy, which was not stored",
        )
    expected = request_key_name(raw, rules, keys=keys)
    shape = name_shape(name)
    for rule in rules:
        if rule.shape != shape or keys.name(rule) != name:
            continue
        if rule.ok_when_matched:
            return HashVerdict("ok", rule.name, expected, f"name matches the {rule.name} rule")
        return HashVerdict(
            "stale",
            rule.name,
            expected,
            f"named by an older rule ({rule.name}: {rule.description}); the current recorder looks for "
            f"{expected or 'another name'}",
        )
    if expected is None:
        return HashVerdict("unverifiable", None, None, f"cannot compute a key: {_why_no_key(raw, family)}")
    if shape is None:
        return HashVerdict("mismatch", None, expected, f"the name is not a request hash; expected {expected}")
    for edit in edits:
        if _undo_reproduces(edit, name, keys, rules):
            return HashVerdict(
                "mismatch",
                None,
                expected,
                f"content edited after recording: {edit.description}; the current rule gives {expected}",
                cause=edit.name,
            )
    renamed = _renamed_from(name, keys, rules)
    if renamed is not None:
        return HashVerdict("mismatch", None, expected, f"{renamed}; the current rule gives {expected}", cause="renamed")
    return HashVerdict(
        "mismatch",
        None,
        expected,
        f"no rule reproduces the name from the stored content (edited after recording?); expected {expected}",
    )


def _why_no_key(raw: dict[str, Any], family: RequestKind) -> str:
    request = raw.get("request")
    if family is not RequestKind.inference or not isinstance(request, dict):
        return "no rule applies to this request"
    if not isinstance(request.get("url"), str):
        return "the request has no url, which the key needs"
    if is_model_list(raw):
        return "a model list whose response holds no model ids, so the name's digest is unknown"
    return "the request cannot be serialized as upstream does"


_RECORDED_ID = re.compile(r"rec-([0-9a-f]{12})")


def recorded_hash(raw: dict[str, Any]) -> str | None:
    """The 12 hex digits of the `rec-<hash12>` id the recorder gave the response, if it did."""
    response = raw.get("response")
    body = response.get("body") if isinstance(response, dict) else None
    first = body[0] if isinstance(body, list) and body else body
    data = first.get("__data__") if isinstance(first, dict) else None
    value = data.get("id") if isinstance(data, dict) else None
    match = _RECORDED_ID.fullmatch(value) if isinstance(value, str) else None
    return match.group(1) if match else None


def _renamed_from(name: str, keys: RuleKeys, rules: Sequence[HashRule]) -> str | None:
    """When the response ids carry another hash than the name, the file was renamed after recording; say
    under which rule the ids' hash is reproduced, if one does."""
    recorded = recorded_hash(keys.raw)
    if recorded is None or name.startswith(recorded) or name.startswith(f"models-{recorded}"):
        return None
    for rule in rules:
        digest = keys.digest(rule)
        if digest is not None and digest.startswith(recorded):
            return (
                f"renamed after recording: its response ids (rec-{recorded}) are the hash of its content "
                f"under the {rule.name} rule"
            )
    return f"renamed or edited after recording: its response ids say it was recorded as rec-{recorded}"


def _undo_reproduces(edit: ContentEdit, name: str, keys: RuleKeys, rules: Sequence[HashRule]) -> bool:
    """Whether undoing some of the edit's substitutions in a key gives back the name. The substitutions are
    plain ASCII text, so they are undone in the canonical JSON of the key itself; each subset of those that
    occur is tried, since an edit did not always touch every occurrence the same way."""
    shape = name_shape(name)
    looked_at: set[str] = set()
    for rule in rules:
        text = keys.text(rule) if rule.ok_when_matched and rule.shape == shape else None
        if text is None or text in looked_at:
            continue
        looked_at.add(text)
        present = [pair for pair in edit.substitutions if pair[0] in text]
        for size in range(1, len(present) + 1):
            for subset in combinations(present, size):
                undone = text
                for now, before in subset:
                    undone = undone.replace(now, before)
                digest = hashlib.sha256(undone.encode()).hexdigest()
                if rule.format_name(digest, keys) == name:
                    return True
    return False
