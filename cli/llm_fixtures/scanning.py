"""Finding secrets in bytes: one scanner and one mask, shared by the `secrets` check and by every output
(`sanitizing`). Each kind is one pattern; where to try it is found by anchored passes of the regex engine, or, in
a large file `check` reads, by one pass of Hyperscan over every kind at once (`onepass`)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from llm_fixtures.onepass import LARGE_INPUT, Patterns

# The regex passes (`_RuleSpec`'s anchor, at, offsets). Each anchor is a regex that starts with a literal, which
# the regex engine scans for at C speed (faster than bytes.find, and one pass over the file per distinct anchor,
# so kinds share anchors where they can); the pattern must match at the anchor's position minus one of `offsets`, where
# the anchor's occurrence starts with `at` (the kind's part of a shared anchor). An anchor only narrows the
# candidates: every place a pattern can match at is a place its anchor is found. Group 1 is the secret itself.
# Lookbehinds keep `sk-` from matching inside words such as `task-...`; minimum lengths keep placeholders
# (`sk-test`, `Bearer fake`) quiet. Request headers are checked on the parsed request instead (a lookup, not one
# more pass over the bytes).
#
# A pass costs about the same whatever follows the anchor's first byte, so kinds share an anchor through a
# common byte: an alternation after it, and lookbehinds for the bytes before it (`sk-` is found at its `k`).
# The first byte must be a literal: an anchor that starts with a class (`[Bb]`, `(?i)`) is scanned byte by
# byte by the engine, ten times slower. So `BEARER` is found at the `A` of `ARER ` (and `Bearer`, `bearer` at
# `rer `), and a private key at the `A` of `PRIVATE KEY-----`, whose offset depends on the optional key type
# (`RSA `, `OPENSSH `...: at most _KEY_TYPE_LETTERS letters, so one offset per length). A JWT's anchor runs
# from the `yJ` of its header to the `.eyJ` of its payload, so that every occurrence holds a `.`; its
# lookbehinds let only the `eyJ` that starts a run of token bytes begin one (a run of `eyJeyJ...` is read once).
# Bearer tokens follow spaces only: inside a JSON string no other whitespace is raw.
_KEY_TYPE_LETTERS = 20


def _not_after(letters: str) -> str:
    """A lookbehind: not inside a longer word of `letters`. A JSON escape (`\\n`, `\\t`, `\\r`) ends a word
    although it ends with a letter: a key at the start of a line of a JSON string is found too."""
    return rf"(?:(?<!{letters})|(?<=\\[nrt]))"


_TOKEN, _UPPER, _WORD, _ALNUM = "[A-Za-z0-9_-]", "[A-Z0-9]", "[A-Za-z0-9_]", "[A-Za-z0-9]"


_A = r"A(?:[KS]IA|Iza|RER |TE KEY-----)"  # AWS and Google keys, BEARER, PRIVATE KEY-----
_K = r"k(?:-(?<=sk-)|_(?<=[rs]k_))"  # sk- (OpenAI, Anthropic), gsk_ (Groq), sk_live_ and rk_live_ (Stripe)
_H = r"h(?:[pousr]_|ub_pat_|f_)"  # gh[pousr]_ and github_pat_ (GitHub), hf_ (Hugging Face)
_X = r"x(?:ox[abposr]|ai)-"  # xox?- (Slack), xai- (xAI)
# ya29. (Google OAuth), eyJ...eyJ (JWT)
_Y = r"y(?:a29\.|J(?<=eyJ)(?:(?<![A-Za-z0-9_-]eyJ)|(?<=\\[nrt]eyJ))[A-Za-z0-9_-]*\.eyJ)"
_BEARER = r"rer (?<=earer )"  # Bearer, bearer
_BEARER_WORD = r"(?:[Bb]earer|BEARER) +"
_BEARER_TOKEN = _not_after(_ALNUM) + _BEARER_WORD + r"([A-Za-z0-9._~+/-]{16,}=*)"
_BEARER_ONE_PASS = r"(?:[Bb]earer|BEARER) "  # the word and its first space
_PRIVATE_KEY = rf"-----BEGIN (?:[A-Z]{{1,{_KEY_TYPE_LETTERS}}} )?PRIVATE KEY-----"


class _RuleSpec(NamedTuple):
    """A kind of secret: its regex pass and where in its hits a secret may start (small inputs), its pattern
    (group 1 is the secret), and its one-pass form (large inputs): a Hyperscan regex that matches wherever the
    pattern can, ending `widths` bytes after the secret's start: the byte the pattern's lookbehind reads, then
    the kind's prefix, so that a run of one kind's bytes (`eyJeyJ...`) is one match, not one per repetition.
    (Hyperscan reports where a match ends: where it starts would cost eight times the scan. Reading more than
    the prefix, up to the secret's least length, costs four times the compilation, in every worker process.)"""

    kind: str
    anchor: str
    at: bytes
    offsets: tuple[int, ...]
    pattern: str
    one_pass: str
    widths: tuple[int, ...]


def _starts_after(letters: str) -> str:
    """`_not_after(letters)` as Hyperscan can read it (it has no lookbehind): the start of the input, a byte
    that is none of `letters`, or a JSON escape, matched before the secret."""
    return rf"(?:^|[^{letters[1:-1]}]|\\[nrt])"


def _rule(
    kind: str,
    where: tuple[str, bytes, tuple[int, ...]],
    letters: str,
    prefix: tuple[str, int],
    rest: str,
    after: str = "",
) -> _RuleSpec:
    """A kind whose secret is `prefix` (a regex of a fixed width) then `rest`, not inside a longer word of
    `letters`, and followed by what `after` allows. `where` is its regex pass: (anchor, at, offsets). Both
    forms are made from these, so that the one-pass form reads what the pattern's lookbehind reads."""
    start, width = prefix
    return _RuleSpec(
        kind, *where, f"{_not_after(letters)}({start}{rest}){after}", _starts_after(letters) + start, (width,)
    )


_NOT_TOKEN = r"(?![A-Za-z0-9_-])"
_RULES: tuple[_RuleSpec, ...] = (
    _RuleSpec(
        "private-key",
        _A,
        b"ATE KEY-----",
        (15, *range(17, 17 + _KEY_TYPE_LETTERS)),
        f"({_PRIVATE_KEY})",
        _PRIVATE_KEY,  # no lookbehind, and only a whole header matches: one match per header
        (27, *(27 + letters + 1 for letters in range(1, _KEY_TYPE_LETTERS + 1))),
    ),
    _rule("anthropic-key", (_K, b"k-", (1,)), _TOKEN, ("sk-ant-", 7), r"[A-Za-z0-9_-]{20,}"),
    _rule("openai-key", (_K, b"k-", (1,)), _TOKEN, ("sk-", 3), r"(?!ant-)[A-Za-z0-9_-]{20,}"),
    _rule("groq-key", (_K, b"k_", (2,)), _TOKEN, ("gsk_", 4), r"[A-Za-z0-9]{52}", _NOT_TOKEN),
    _rule("stripe-key", (_K, b"k_live_", (1,)), _TOKEN, ("[rs]k_live_", 8), r"[A-Za-z0-9]{24,}"),
    _rule("aws-access-key", (_A, b"A", (0,)), _UPPER, ("(?:AKIA|ASIA)", 4), r"[0-9A-Z]{16}", r"(?![0-9A-Z])"),
    _rule("google-api-key", (_A, b"AIza", (0,)), _TOKEN, ("AIza", 4), r"[0-9A-Za-z_-]{35}"),
    _rule("google-oauth-token", (_Y, b"ya29.", (0,)), _TOKEN, (r"ya29\.", 5), r"[0-9A-Za-z_-]{30,}"),
    _rule("github-token", (_H, b"h", (1,)), _WORD, ("gh[pousr]_", 4), r"[A-Za-z0-9]{36,}"),
    _rule("github-token", (_H, b"hub_pat_", (3,)), _WORD, ("github_pat_", 11), r"[A-Za-z0-9]{22}_[A-Za-z0-9]{59,}"),
    _rule("huggingface-token", (_H, b"hf_", (0,)), _TOKEN, ("hf_", 3), r"[A-Za-z0-9]{34}", _NOT_TOKEN),
    _rule("slack-token", (_X, b"xox", (0,)), _ALNUM, ("xox[abposr]-", 5), r"[A-Za-z0-9-]{10,}"),
    _rule("xai-key", (_X, b"xai-", (0,)), _TOKEN, ("xai-", 4), r"[A-Za-z0-9]{80}", _NOT_TOKEN),
    _rule(
        "jwt",
        (_Y, b"yJ", (1,)),
        _TOKEN,
        ("eyJ", 3),
        r"[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16,}",
    ),
    # The bearer word and its spaces are not the secret: group 1 is the token after them.
    *(
        _RuleSpec(
            "bearer-token",
            anchor,
            at,
            (offset,),
            _BEARER_TOKEN,
            _starts_after(_ALNUM) + _BEARER_ONE_PASS,
            (7,),
        )
        for anchor, at, offset in ((_BEARER, b"r", 3), (_A, b"ARER ", 2))
    ),
)
# Anchors every occurrence of which holds a `-`, `_`, space or `.` (`_K` its `-` or `_`, `_H` its `_`, `_X` its
# `-`, `_Y` its `.`, `_BEARER` its space; not `_A`: `AKIA`). Base64 text holds none of those, and is delimited
# by `,` (`;base64,`) or `"`, which no anchor holds: no occurrence of these lies in or across it, so the text of
# a large inline image (verified to hold none of the four) is not searched for them.
_SEPARATED_ANCHORS = frozenset({_K, _H, _X, _Y, _BEARER})
_SEPARATORS = (b"-", b"_", b" ", b".")


class Deferred:
    """A pattern compiled on its first use: a scan compiles only its anchors, and most scans (an output with no
    secret in it, most files) never need the pattern of any kind."""

    __slots__ = ("_compiled", "source")

    def __init__(self, source: str) -> None:
        self.source = source
        self._compiled: re.Pattern[bytes] | None = None

    def match(self, data: bytes, position: int) -> re.Match[bytes] | None:
        if self._compiled is None:
            self._compiled = re.compile(self.source.encode())
        return self._compiled.match(data, position)


_Rule = tuple[str, bytes, tuple[int, ...], Deferred]  # (kind, at, offsets, pattern)
_PATTERNS = tuple(Deferred(rule.pattern) for rule in _RULES)  # one per rule, shared by both engines


def _passes() -> tuple[tuple[re.Pattern[bytes], bool, tuple[_Rule, ...]], ...]:
    """(anchor, separated, the rules it finds candidates for) of each distinct anchor, in the order of _RULES."""
    rules: dict[str, list[_Rule]] = {}
    for rule, pattern in zip(_RULES, _PATTERNS, strict=True):
        rules.setdefault(rule.anchor, []).append((rule.kind, rule.at, rule.offsets, pattern))
    return tuple((re.compile(anchor.encode()), anchor in _SEPARATED_ANCHORS, tuple(of)) for anchor, of in rules.items())


_PASSES = _passes()


# One pass over a large input for every kind (each distinct one-pass form once: the bearer rules share theirs).
_ONE_PASS_RULES = tuple(
    index for index, rule in enumerate(_RULES) if rule.one_pass not in {other.one_pass for other in _RULES[:index]}
)
_ONE_PASS = Patterns([_RULES[index].one_pass.encode() for index in _ONE_PASS_RULES])


def _one_pass_candidates(data: bytes) -> list[tuple[int, str, Deferred]]:
    """The candidates of `_candidates`, from one Hyperscan pass over `data` (not the same ones, but every place
    a secret can start is among both: they give the same secrets). Ties are in the order of _RULES."""
    found = [
        (end - width, index)
        for end, which in _ONE_PASS.find(data)
        for index in (_ONE_PASS_RULES[which],)
        for width in _RULES[index].widths
        if end >= width
    ]
    found.sort()
    return [(offset, _RULES[index].kind, _PATTERNS[index]) for offset, index in found]


def _outside(data: bytes, skip: Sequence[tuple[int, int, int]]) -> list[tuple[int, int]]:
    """The (start, end) segments of `data` outside the base64 texts of `skip` (as `size.image_spans` gives
    them) that hold no separator."""
    segments: list[tuple[int, int]] = []
    position = 0
    for _offset, start, end in sorted(skip, key=lambda span: span[1]):
        if end <= position or any(data.find(separator, start, end) != -1 for separator in _SEPARATORS):
            continue
        if start > position:
            segments.append((position, start))
        position = max(position, end)
    segments.append((position, len(data)))
    return segments


def _candidates(data: bytes, skip: Sequence[tuple[int, int, int]] = ()) -> list[tuple[int, str, Deferred]]:
    """(offset, kind, pattern) of every place a secret may start, in file order; one pass per anchor."""
    found: list[tuple[int, str, Deferred]] = []
    whole = [(0, len(data))]
    outside = _outside(data, skip) if skip else whole
    for anchor, separated, rules in _PASSES:
        hits: list[int] = []
        for start, end in outside if separated else whole:
            match = anchor.search(data, start, end)
            while match is not None:  # overlapping occurrences too, as a find loop would give them
                hits.append(match.start())
                match = anchor.search(data, match.start() + 1, end)
        if not hits:  # as for most anchors in most files
            continue
        for kind, at, offsets, pattern in rules:
            found.extend(
                (hit - offset, kind, pattern)
                for hit in hits
                if data.startswith(at, hit)  # a shared anchor's many hits of another kind make no candidates here
                for offset in offsets
                if hit >= offset
            )
    found.sort(key=lambda item: item[0])
    return found


class Secret(NamedTuple):
    """A secret found in some bytes: where it is (`start`, `end`: the secret itself, without a `Bearer ` before
    it), its kind, and its text."""

    start: int
    end: int
    kind: str
    text: str


def _found(data: bytes, candidates: Iterable[tuple[int, str, Deferred]]) -> Iterator[tuple[int, Secret]]:
    """(candidate offset, secret) of the patterns that match at the candidates, taken in order: a secret covers
    the candidates inside it, so that anchors that overlap (and kinds that share one) report it once."""
    covered = -1
    for offset, kind, pattern in candidates:
        if offset < covered:
            continue
        match = pattern.match(data, offset)
        if match is not None:
            covered = match.end()
            yield offset, Secret(match.start(1), match.end(1), kind, match.group(1).decode("utf-8", "replace"))


def _matches(data: bytes, candidates: Iterable[tuple[int, str, Deferred]]) -> Iterator[tuple[int, str, str]]:
    """(offset, kind, secret) of the patterns that match at the candidates (see `_found`)."""
    for offset, secret in _found(data, candidates):
        yield offset, secret.kind, secret.text


def find_secrets(data: bytes, images: Sequence[tuple[int, int, int]] = (), *, one_pass: bool = False) -> list[Secret]:
    """Every secret in `data`, in order: the one scanner of `check` and of every output (`sanitizing`). `images`
    are base64 texts that need not all be searched. `one_pass`: a large input is scanned in one pass of Hyperscan
    (the files `check` reads, by the thousand); outputs keep the regex passes, which cost less than loading it."""
    if one_pass and len(data) >= LARGE_INPUT and _ONE_PASS.available():
        candidates = _one_pass_candidates(data)
    else:
        candidates = _candidates(data, images)
    return [secret for _offset, secret in _found(data, candidates)]


class SeenSecrets:
    """The secrets a report has named so far, so that a secret named already, or lying inside one named (a token
    inside an authorization header reported whole), is not named again. Every text goes in a set; the first
    `LIMIT` also in a list, which later secrets are searched in: a file made to hold thousands of distinct keys
    costs a lookup and a few searches per key, not a search of every earlier one (which took a minute for 35,000
    keys in 1 MB)."""

    LIMIT = 64

    __slots__ = ("_exact", "_texts")

    def __init__(self, texts: Iterable[str] = ()) -> None:
        self._texts = list(dict.fromkeys(texts))  # each once, in order
        self._exact = set(self._texts)
        del self._texts[self.LIMIT :]

    def covers(self, text: str) -> bool:
        return text in self._exact or any(text in earlier for earlier in self._texts)

    def __contains__(self, text: str) -> bool:
        """Whether `text` itself was named (no search inside the others)."""
        return text in self._exact

    def add(self, text: str) -> None:
        if text not in self._exact:
            self._exact.add(text)
            if len(self._texts) < self.LIMIT:
                self._texts.append(text)


def credential_token(value: str) -> str:
    """The secret part of a credential header's value: the token after an auth scheme (`Bearer`, `Basic`,
    `Token`), or the whole value."""
    scheme, _, rest = value.strip().partition(" ")
    return rest.strip() if rest and scheme.lower() in ("bearer", "basic", "token") else value.strip()


def find_near(data: bytes, needle: bytes, cursor: int) -> int:
    """Where `needle` is in `data`: its first place at or after `cursor`, else its first place before it (-1: not
    there). Values looked for in the order they are written in (headers, the tokens of a cassette's
    interactions), each from where the one before was found, cost one pass over the data in all, not one each
    (a file with thousands of header names took seconds per megabyte)."""
    at = data.find(needle, cursor)
    return at if at != -1 else data.find(needle, 0, cursor + len(needle) - 1)


class LineNumbers:
    """The line of each offset of `data`, counted on from the offset asked for before: offsets asked for in
    increasing order (as the scanner gives its secrets) cost one pass over the data in all, not one each."""

    __slots__ = ("_data", "_line", "_offset")

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._offset, self._line = 0, 1

    def of(self, offset: int) -> int:
        if offset < self._offset:
            self._offset, self._line = 0, 1
        self._line += self._data.count(b"\n", self._offset, offset)
        self._offset = offset
        return self._line

    def of_each(self, offsets: Sequence[int]) -> list[int]:
        """The line of each offset, in their order, counted in increasing order."""
        lines = dict.fromkeys(offsets, 0)
        for offset in sorted(lines):
            lines[offset] = self.of(offset)
        return [lines[offset] for offset in offsets]


@dataclass(frozen=True, slots=True)
class Allowlist:
    """`[tool.fixtures.check] allow_secrets`: each entry is a literal or a regex; a secret equal to a
    literal, or in which the regex is found, is never reported."""

    entries: tuple[str, ...] = ()

    def allows(self, secret: str) -> bool:
        for entry in self.entries:
            if entry == secret:
                return True
            try:
                if re.search(entry, secret):
                    return True
            except re.error:
                continue
        return False


def mask(secret: str) -> str:
    """What a report may show of a secret: at most a short prefix and suffix, and the length. A private key
    shows its header line (no secret), and the length of what follows it when that is given too."""
    if secret.startswith("-----BEGIN"):
        header = secret[: secret.index("KEY-----") + len("KEY-----")] if "KEY-----" in secret else secret
        return header if header == secret else f"{header}… ({len(secret)} chars)"
    if len(secret) < 12:
        return "*" * len(secret)
    keep = 4 if len(secret) >= 20 else 2
    return f"{secret[:keep]}…{secret[-keep:]} ({len(secret)} chars)"
