"""The upstream request-hash rules, as data: recompute a recording's file name and say which rule made it."""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from itertools import combinations, repeat
from typing import Any, Literal
from urllib.parse import ParseResult, urlparse

import orjson

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
# Its matches but for the comma and spaces before: starting with a literal, searched much faster.
_ATTRIBUTES_BLOCK = re.compile(r"attributes:\s*\{[^}]*\}")
_FILE_SEARCH_DOCUMENT_ID = re.compile(rf"document_id:\s*{_UUID}")
_FILE_SEARCH_CITATION = re.compile(rf"<\|{_UUID}\|>")


def _canonical_encoder() -> Callable[[Any], str]:
    """`json.dumps(value, sort_keys=True)`, what upstream hashes: the C encoder json.dumps makes on each call,
    made once (json's own encoder where there is no C one). Not checking for circular references changes
    no output (a parsed recording has none; one would still raise, as RecursionError): it is the cost of a
    dict per container."""
    make_encoder = getattr(json.encoder, "c_make_encoder", None)
    if make_encoder is None:
        return json.JSONEncoder(sort_keys=True, check_circular=False).encode
    # markers, default, string encoder, indent, separators, sort_keys, skipkeys, allow_nan: json.dumps's
    chunks = make_encoder(None, None, json.encoder.encode_basestring_ascii, None, ": ", ", ", True, False, True)
    return lambda value: "".join(chunks(value, 0))


_canonical_json = _canonical_encoder()


def sha256_key(key: Any) -> str:
    """The hex digest upstream takes of a request key: default `json.dumps` separators, sorted keys."""
    return hashlib.sha256(_canonical_json(key).encode()).hexdigest()


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
            value = _drop_attributes(value)
        if "document_id" in value:
            value = _FILE_SEARCH_DOCUMENT_ID.sub("document_id: __NORMALIZED__", value)
    if "<" in value and "<|" in value:
        value = _FILE_SEARCH_CITATION.sub("<|__NORMALIZED__|>", value)
    return value


def _drop_attributes(value: str) -> str:
    """`_FILE_SEARCH_ATTRIBUTES.sub("", value)`, the pattern tried only where its literal is: each match is
    a block found from there, with the spaces (`\\s`, which str.isspace agrees with) and the one comma
    before it that follow the previous match."""
    parts: list[str] = []
    copied = 0
    for match in _ATTRIBUTES_BLOCK.finditer(value):
        start = match.start()
        while start > copied and value[start - 1].isspace():
            start -= 1
        if start > copied and value[start - 1] == ",":
            start -= 1
        parts.append(value[copied:start])
        copied = match.end()
    if not parts:
        return value
    parts.append(value[copied:])
    return "".join(parts)


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
    if not steps.any and stand_ins is None:
        return value  # nothing to do, and keys are only ever read
    return _Normalizer(steps, changed, stand_ins).top(value, bedrock=bedrock, is_root=_is_root)


# A string this long (a base64 image, mostly) is left out of the key while it is serialized: a short stand-in
# takes its place and the string is hashed between the parts of the JSON text around it. json.dumps escapes
# character by character; a string with nothing to escape is the same between its quotes.
LONG_STRING = 4096


def _plain_json_string(value: str) -> bool:
    """Whether json.dumps (ensure_ascii) writes `value` as itself between quotes: ASCII without controls,
    DEL, quotes or backslashes. orjson escapes all of these but DEL, and adds nothing else to an ASCII
    string but its quotes; its vectorized pass is several times faster than a search per character."""
    return value.isascii() and len(orjson.dumps(value)) == len(value) + 2 and "\x7f" not in value


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


def _inference_request(raw: dict[str, Any]) -> tuple[dict[str, Any], ParseResult]:
    """The stored request of an inference recording and its parsed URL (NoKey without a URL)."""
    request = _request(raw)
    url = request.get("url")
    if not isinstance(url, str):
        raise NoKey
    return request, _parsed_url(url) if len(url) <= _CACHED_URL else urlparse(url)


# Recordings share a handful of URLs: each is parsed once (urlparse is a dozen Python calls). A longer one,
# not a real URL, is not kept.
_CACHED_URL = 2048


@functools.lru_cache(maxsize=1024)
def _parsed_url(url: str) -> ParseResult:
    return urlparse(url)


def _bare_key(request: dict[str, Any], parsed: ParseResult, body: Any) -> dict[str, Any]:
    """The inference key without its test id, around a body already normalized (or left as stored)."""
    method = request.get("method", "POST")
    return {"method": method.upper() if isinstance(method, str) else method, "endpoint": parsed.path, "body": body}


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
    request, parsed = _inference_request(raw)
    body = normalize_body(
        request.get("body"), steps, bedrock="bedrock" in parsed.netloc, changed=changed, stand_ins=stand_ins
    )
    key = _bare_key(request, parsed, body)
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
    # Comprehensions and a C-level test of every id: a list holds a hundred models or more.
    entries = [item.get("__data__", item) if isinstance(item, dict) else None for item in items]
    ids: list[Any] = [entry.get(field) if isinstance(entry, dict) else None for entry in entries]
    if not all(map(isinstance, ids, repeat(str))):
        return None
    return hashlib.sha256("|".join(sorted(set(ids))).encode()).hexdigest()[:8]


class NoKey(Exception):
    """A rule does not apply to this recording (wrong shape)."""


# What computing a key can raise on a recording of the wrong shape or with an unserializable body.
KEY_ERRORS = (NoKey, TypeError, ValueError, AttributeError, RecursionError)


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
        return self.applies_to(family_of(raw), model_list=is_model_list(raw))

    def applies_to(self, family: RequestKind, *, model_list: bool) -> bool:
        """Whether the rule names recordings of this family that are (or are not) model lists."""
        return family == self.family and (self.model_list is None or self.model_list == model_list)

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
    """The keys of one recording under each rule, each computed and hashed at most once. Normalizing a large
    body is the costly part, and the name, stale, rename and duplicates checks all need the current key; an
    older normalization whose dropped steps changed nothing in the current one gives the same key,
    unrecomputed."""

    def __init__(self, raw: dict[str, Any]) -> None:
        self.raw = raw
        self.family = family_of(raw)
        self.model_list = is_model_list(raw)
        self._dumped: dict[Normalization, _DumpedKey | None] = {}
        self._changed: set[str] = set()  # the normalization steps that changed the current key's body
        self._tails: dict[bool, str | None] = {}
        self._rule_keys: dict[str, Any] = {}
        self._texts: dict[str, str | None] = {}
        self._digests: dict[str, str | None] = {}
        self._models_digest: str | None = None
        self._models_known = False

    def applies(self, rule: HashRule) -> bool:
        """`rule.applies(raw)`, from the family and model-list test made once."""
        return rule.applies_to(self.family, model_list=self.model_list)

    def _dumped_key(self, steps: Normalization) -> _DumpedKey | None:
        """The JSON of the inference key without its test id under `steps`; None when the request has none."""
        try:
            return self._dumped[steps]
        except KeyError:
            pass
        dumped: _DumpedKey | None
        if steps is not CURRENT and steps != CURRENT:
            current = self._dumped_key(CURRENT)
            dropped = {step for step in _STEP_NAMES if getattr(CURRENT, step) and not getattr(steps, step)}
            if current is None or not dropped & self._changed:
                self._dumped[steps] = current
                return current
        changed: set[str] = set()
        try:
            dumped = self._dump(steps, changed)
        except KEY_ERRORS:
            dumped = None
        if steps == CURRENT:
            self._changed = changed
        self._dumped[steps] = dumped
        return dumped

    def _dump(self, steps: Normalization, changed: set[str]) -> _DumpedKey:
        request, parsed = _inference_request(self.raw)
        body = request.get("body")
        bedrock = "bedrock" in parsed.netloc
        stored = _top_dropped(body, steps, changed, bedrock=bedrock) if isinstance(body, dict) else body
        text = _stored_text(request, parsed, body, stored, steps)
        if text is not None:
            return _DumpedKey(parts=[text], shared=parsed.path in SHARED_PATHS)
        stand_ins: dict[str, str] = {}
        normalized = normalize_body(body, steps, bedrock=bedrock, changed=changed, stand_ins=stand_ins)
        text = _canonical_json(_bare_key(request, parsed, normalized))
        parts = _cut_at_stand_ins(text, stand_ins) if stand_ins else [text]
        if parts is None:  # a string of the request looks like a stand-in: the key without them
            body = normalize_body(body, steps, bedrock=bedrock)
            parts = [_canonical_json(_bare_key(request, parsed, body))]
        return _DumpedKey(parts=parts, shared=parsed.path in SHARED_PATHS)

    def _tail(self, with_test_id: bool) -> str | None:
        """What follows the JSON of the key without its test id: the closing brace, or the test id and the
        brace (with sorted keys `test_id` comes last, after body, endpoint and method). None when the test
        id cannot be serialized."""
        if with_test_id not in self._tails:
            tail: str | None = "}"
            if with_test_id:
                try:
                    tail = ', "test_id": ' + _canonical_json(self.raw.get("test_id")) + "}"
                except KEY_ERRORS:
                    tail = None
            self._tails[with_test_id] = tail
        return self._tails[with_test_id]

    def inference_text(self, steps: Normalization = CURRENT, *, test_id: bool = True) -> str | None:
        """The canonical JSON of `inference_key(steps, with_test_id=test_id)`; None when there is none."""
        dumped = self._dumped_key(steps)
        tail = self._tail(test_id and not dumped.shared) if dumped is not None else None
        return "".join(dumped.parts) + tail if dumped is not None and tail is not None else None

    def inference_digest(self, steps: Normalization = CURRENT, *, test_id: bool = True) -> str | None:
        """The sha256 of `inference_text(steps, test_id=test_id)`, its shared part hashed once."""
        dumped = self._dumped_key(steps)
        if dumped is None:
            return None
        with_test_id = test_id and not dumped.shared
        if with_test_id not in dumped.digests:
            tail = self._tail(with_test_id)
            dumped.digests[with_test_id] = dumped.digest(tail) if tail is not None else None
        return dumped.digests[with_test_id]

    def key(self, rule: HashRule) -> Any:
        """The key of a rule with a key function (http, tool), computed once, for reading only; None when
        the rule does not apply or the request has no such key."""
        if rule.name not in self._rule_keys:
            key: Any = None
            if rule.key is not None and self.applies(rule):
                try:
                    key = rule.key(self.raw)
                except KEY_ERRORS:
                    key = None
            self._rule_keys[rule.name] = key
        return self._rule_keys[rule.name]

    def text(self, rule: HashRule) -> str | None:
        """The canonical JSON upstream hashes for this rule (None when the rule does not apply)."""
        if rule.name not in self._texts:
            text: str | None = None
            if rule.key is None:
                text = self.inference_text(rule.steps, test_id=rule.test_id) if self.applies(rule) else None
            else:
                key = self.key(rule)
                try:
                    text = _canonical_json(key) if key is not None else None
                except KEY_ERRORS:
                    text = None
            self._texts[rule.name] = text
        return self._texts[rule.name]

    def digest(self, rule: HashRule) -> str | None:
        if rule.name not in self._digests:
            digest: str | None = None
            if rule.key is None:
                if self.applies(rule):
                    digest = self.inference_digest(rule.steps, test_id=rule.test_id)
            else:
                text = self.text(rule)
                digest = hashlib.sha256(text.encode()).hexdigest() if text is not None else None
            self._digests[rule.name] = digest
        return self._digests[rule.name]

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


# How deep a body is looked into before it is left to the walk; JSON request bodies nest a dozen levels.
_SHALLOW = 64


class _BodyScan:
    """What dumping a body needs to know of it, found in one loop per container (several times cheaper than
    the walk, which makes a call per value): whether it holds a long string (see LONG_STRING), whether
    rounding changes one of its floats, and how many of its floats are written with a decimal tail."""

    __slots__ = ("decimal_floats", "long_strings", "rounded")

    def __init__(self) -> None:
        self.long_strings = False
        self.rounded = False
        self.decimal_floats = 0

    @classmethod
    def of(cls, body: Any) -> _BodyScan | None:
        """The scan of a body; None when it nests containers more than _SHALLOW deep or holds a value that
        JSON does not parse to."""
        scan = cls()
        return scan if scan.values([body], _SHALLOW) else None

    def values(self, values: Iterable[Any], depth: int) -> bool:
        for item in values:
            kind = type(item)
            if kind is str:
                if len(item) >= LONG_STRING:
                    self.long_strings = True
            elif kind is dict or kind is list:
                if not depth or not self.values(item.values() if kind is dict else item, depth - 1):
                    return False
            elif kind is float:
                if round(item, 5) != item:
                    self.rounded = True
                elif _DECIMAL_TAIL.search(repr(item)) is not None:
                    self.decimal_floats += 1
            elif kind is not int and kind is not bool and item is not None:
                return False
        return True


def _top_dropped(body: dict[str, Any], steps: Normalization, changed: set[str], *, bedrock: bool) -> dict[str, Any]:
    """The body without what the steps drop at its top: bedrock's `stream_options`, the `project_id` of
    `extra_body` and `extra_query` (a copy where one is dropped). A `project_id` deeper down is still in
    the JSON text, which sends the body to the walk."""
    if bedrock and steps.bedrock_stream_options and "stream_options" in body:
        body = {name: value for name, value in body.items() if name != "stream_options"}
        changed.add("bedrock_stream_options")
    if steps.project_id:
        for extra_key in ("extra_body", "extra_query"):
            extra = body.get(extra_key)
            if isinstance(extra, dict) and "project_id" in extra:
                body = {**body, extra_key: {name: value for name, value in extra.items() if name != "project_id"}}
                changed.add("project_id")
    return body


def _stored_text(
    request: dict[str, Any], parsed: ParseResult, body: Any, stored: Any, steps: Normalization
) -> str | None:
    """The JSON of the key with the body as stored (`stored`: without what the steps drop at its top), when
    no step changes the rest of it; None when the body is to be walked. Told by C-speed searches of its
    JSON text (a word or number outside the body only sends it to the walk), with a scan of the body when
    its size or its decimals leave a doubt; several times cheaper than the walk."""
    probe = _orjson_or_none(stored)
    short = probe is not None and len(probe) < LONG_STRING  # then none of its strings is long
    scan = None if short else _BodyScan.of(body)
    if (scan is not None and scan.long_strings) or (steps.any and scan is None and not short):
        return None  # walked: for the stand-ins of its long strings; nested deeply, to fail where it always has
    if not steps.any:
        return _canonical_json(_bare_key(request, parsed, stored))
    if probe is not None and _holds_words_to_normalize(probe):
        return None  # looked for before json.dumps, whose text would go unused
    text = _canonical_json(_bare_key(request, parsed, stored))
    if probe is None and _holds_words_to_normalize(text.encode()):
        return None
    return text if _numbers_unchanged(text, body, scan) else None


def _orjson_or_none(value: Any) -> bytes | None:
    """orjson's JSON of a value (at memory speed, where json.dumps escapes character by character; it nests
    at most 255 deep, and the walk goes that deep too); None when orjson refuses it (nested more deeply, an
    integer of more than 64 bits, a lone surrogate)."""
    try:
        return orjson.dumps(value)
    except orjson.JSONEncodeError:
        return None


_FILE_SEARCH_CITATION_BYTES = re.compile(_FILE_SEARCH_CITATION.pattern.encode())


def _holds_words_to_normalize(data: bytes) -> bool:
    """Whether a body's JSON (either writer's: both write ASCII words as they are) holds a word the
    file_search substitutions need, a citation, or `project_id`: without them those steps change nothing."""
    return (
        b"score" in data
        or b"attributes" in data
        or b"document_id" in data
        or b"project_id" in data
        or (b"<|" in data and _FILE_SEARCH_CITATION_BYTES.search(data) is not None)
    )


# How `repr` writes a float that rounding to 5 places may change: with a decimal tail (see _DECIMAL_TAIL), or
# small, with a negative exponent. A float written with fewer places is what round(value, 5) gives back.
_NEGATIVE_EXPONENT = re.compile(r"e-\d")


def _numbers_unchanged(text: str, body: Any, scan: _BodyScan | None) -> bool:
    """Whether rounding floats and rewriting decimals in strings changes nothing in the body of the key whose
    JSON text this is. A decimal tail lies in one string or number: when the text holds as many as the
    floats of the body, which rounding keeps, no string holds one."""
    if _DECIMAL_TAIL.search(text) is None and _NEGATIVE_EXPONENT.search(text) is None:
        return True
    scan = scan if scan is not None else _BodyScan.of(body)
    return scan is not None and not scan.rounded and len(_DECIMAL_TAIL.findall(text)) == scan.decimal_floats


@dataclass(slots=True)
class _DumpedKey:
    """The canonical JSON of an inference key without its test id, but for its closing brace: the key with
    the test id is this JSON followed by the test id, so both are hashed from one hash of the shared part."""

    parts: list[str]  # the JSON in order; a long string stood in for is a part of its own, between its quotes
    shared: bool  # the URL path is a shared model-list path: the key never holds a test id
    digests: dict[bool, str | None] = field(default_factory=dict)  # by whether the test id is in the key
    _opened: Any = None  # the sha256 of the parts, fed once

    def __post_init__(self) -> None:
        self.parts[-1] = self.parts[-1][:-1]  # the closing brace is the tail's

    def digest(self, tail: str) -> str:
        if self._opened is None:
            self._opened = _LONG_PREFIX.opened(self.parts)
        digest = self._opened.copy()
        digest.update(tail.encode())
        return str(digest.hexdigest())


class _LongPrefix:
    """The sha256 of the JSON text up to the end of the first long string of the last key that had one.
    Recordings of one request (a duplicate under another test id; often the streamed and the plain call, or
    other providers' calls of one test) hold the same image after the same text: it is hashed once, and
    compared (at memory speed) the other times."""

    def __init__(self) -> None:
        self._last: tuple[str, str, Any] | None = None  # the text before the string, the string, the hash

    def opened(self, parts: list[str]) -> Any:
        """The sha256 with every part fed (see _DumpedKey.parts)."""
        if len(parts) == 1:
            return hashlib.sha256(parts[0].encode())
        before, long_string = parts[0], parts[1]
        last = self._last
        if last is not None and last[0] == before and (last[1] is long_string or last[1] == long_string):
            digest = last[2].copy()
        else:
            digest = hashlib.sha256(before.encode())
            digest.update(long_string.encode())
            self._last = (before, long_string, digest.copy())
        for part in parts[2:]:
            digest.update(part.encode())
        return digest


_LONG_PREFIX = _LongPrefix()


def _cut_at_stand_ins(text: str, stand_ins: dict[str, str]) -> list[str] | None:
    """The JSON text in parts, each stand-in's JSON replaced by the long string it stands for (the quotes
    stay with the text around); None when a stand-in's JSON is found other than exactly once (some other
    string looks like it), so the caller dumps the key without stand-ins."""
    places: list[tuple[int, int, str]] = []
    for token, value in stand_ins.items():
        quoted = json.dumps(token)
        at = text.find(quoted)
        if at == -1 or text.find(quoted, at + 1) != -1:
            return None
        places.append((at, len(quoted), value))
    places.sort()
    parts: list[str] = []
    start = 0
    for at, length, value in places:
        parts += [text[start : at + 1], value]
        start = at + length - 1
    parts.append(text[start:])
    return parts


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
    family = keys.family
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
