"""Secrets in a cassette: credential headers, key-bearing query parameters, and keys or tokens anywhere in the file
or inside its compressed bodies (by the patterns of `checking.secrets`)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from llm_fixtures import scanning
from llm_fixtures.cassettes.bodies import content_decoded
from llm_fixtures.cassettes.model import Cassette, Headers
from llm_fixtures.checking.secrets import AUTH_HEADERS
from llm_fixtures.scanning import Allowlist, LineNumbers, SeenSecrets, find_secrets, mask

# Headers whose every non-placeholder value is a credential. Cookies carry sessions (Cloudflare's `__cf_bm` too).
SECRET_HEADERS = AUTH_HEADERS | frozenset(
    {"cookie", "set-cookie", "x-goog-user-project-key", "ocp-apim-subscription-key"}
)
# Query parameters that carry keys (`?key=AIza...` for Gemini, `api_key`, SAS signatures).
SECRET_QUERY_KEYS = frozenset(
    {"key", "api_key", "apikey", "api-key", "access_token", "token", "sig", "signature", "x-goog-api-key", "code"}
)
# Words that mark a value as a stand-in someone already put there (vcrpy's `filter_headers` replacements).
_PLACEHOLDER_WORDS = ("redacted", "scrubbed", "dummy", "fake", "mock", "placeholder", "filtered", "xxx", "***", "test")
_MIN_SECRET = 8
MASK = "REDACTED"  # what a secret becomes, in output and in a scrubbed file


@dataclass(frozen=True, slots=True)
class Leak:
    """One secret: where it is (`interaction` None for a match in the file outside a known place), what kind,
    the value itself (never shown: `masked` is), and the line of the file it is on (0 when it is inside a
    compressed body and on no line of the file); `side` and `header` name the header it is in, if any."""

    interaction: int | None
    where: str
    kind: str
    secret: str
    line: int
    side: str | None = None  # "request" or "response", for a header
    header: str | None = None  # its lower-case name

    @property
    def compressed(self) -> bool:
        """Inside a compressed or binary body: on no line of the file, beyond the reach of a text edit."""
        return " body (" in self.where

    @property
    def masked(self) -> str:
        return mask(self.secret)


def is_placeholder(value: str) -> bool:
    """A value that is already a stand-in: short, one repeated character, or a placeholder word."""
    token = value.strip()
    scheme, _, rest = token.partition(" ")
    if rest and scheme.lower() in ("bearer", "basic", "token"):
        token = rest.strip()
    if len(token) < _MIN_SECRET or len(set(token)) <= 2:
        return True
    lowered = token.lower()
    return any(word in lowered for word in _PLACEHOLDER_WORDS)


class TextLines:
    """The line of each value in a cassette's text (0: it is not in it as such), each value looked for once (a
    cassette sends the same key in every interaction), and the line of an offset. Values are asked for in the
    order of the interactions, which is the order of the text: each is looked for from where the last one was
    found (its line in the interaction that sent it first), then before, so that a cassette of thousands of
    distinct tokens is read about once, not once per token (20,000 tokens in 6 MB took 7 s)."""

    def __init__(self, text: bytes) -> None:
        self.text = text
        self.offsets = LineNumbers(text)
        self._values: dict[str, int] = {}
        self._cursor = 0  # where the last value looked for was found

    def of_value(self, value: str) -> int:
        line = self._values.get(value)
        if line is None:
            at = scanning.find_near(self.text, value.encode("utf-8", "surrogateescape"), self._cursor)
            if at != -1:
                self._cursor = at
            line = self._values[value] = self.offsets.of(at) if at != -1 else 0
        return line


def _secret_parts(name: str, value: str) -> list[str]:
    """The parts of a credential header's value that are secret: the token after an auth scheme (`Bearer`,
    `Basic`, `Token`), each cookie's value (a `Set-Cookie`'s first pair only: the rest are attributes), or the
    whole value."""
    if "cookie" in name:
        pairs = value.split(";")
        if name == "set-cookie":
            pairs = pairs[:1]
        return [cookie.strip() for pair in pairs if (cookie := pair.partition("=")[2])]
    return [scanning.credential_token(value)]


def header_leaks(index: int, side: str, headers: Headers, text: bytes | TextLines) -> list[Leak]:
    lines = text if isinstance(text, TextLines) else TextLines(text)
    leaks: list[Leak] = []
    for name, values in headers.items():
        lowered = name.lower()
        if lowered not in SECRET_HEADERS:
            continue
        kind = "cookie" if "cookie" in lowered else "auth-header"
        for value in values:
            for secret in _secret_parts(lowered, value):
                if not is_placeholder(secret):
                    leaks.append(
                        Leak(index, f"{side} header {lowered}", kind, secret, lines.of_value(secret), side, lowered)
                    )
    return leaks


def _query_leaks(index: int, uri: str, lines: TextLines) -> list[Leak]:
    query = urlsplit(uri).query if "?" in uri else ""
    return [
        Leak(index, f"query parameter {key}", "query-key", value, lines.of_value(value))
        for key, value in parse_qsl(query, keep_blank_values=False)
        if key.lower() in SECRET_QUERY_KEYS and not is_placeholder(value)
    ]


def pattern_matches(data: bytes) -> list[tuple[int, str, str]]:
    """(offset, kind, secret) of every key or token the `secrets` check's patterns find in `data` (a file:
    one pass when it is large)."""
    return [(secret.start, secret.kind, secret.text) for secret in find_secrets(data, one_pass=True)]


NO_ALLOWLIST = Allowlist()


def find_leaks(cassette: Cassette, text: bytes, allowlist: Allowlist = NO_ALLOWLIST) -> list[Leak]:
    """Every secret of a cassette whose (inflated) file bytes are `text`, each value once, allowed ones left out:
    header and query values first (they are secrets whatever their form), then pattern matches in the file,
    then pattern matches inside compressed or binary bodies (which no search of the file can see)."""
    found: list[Leak] = []
    lines = TextLines(text)
    for interaction in cassette.interactions:
        request, response = interaction.request, interaction.response
        found += header_leaks(interaction.index, "request", request.headers, lines)
        found += _query_leaks(interaction.index, request.uri, lines)
        found += header_leaks(interaction.index, "response", response.headers, lines)
    for offset, kind, secret in pattern_matches(text):
        found.append(Leak(None, "file", kind, secret, lines.offsets.of(offset)))
    for interaction in cassette.interactions:
        for side, body, headers in (
            ("request", interaction.request.body, interaction.request.headers),
            ("response", interaction.response.body, interaction.response.headers),
        ):
            if not isinstance(body.raw, bytes) or not body.raw:
                continue
            data, notes = content_decoded(body.raw, headers)
            encoding = next((note.split()[0] for note in notes if note.endswith(" decoded")), "binary")
            for _offset, kind, secret in pattern_matches(data):
                found.append(Leak(interaction.index, f"{side} body ({encoding})", kind, secret, 0))
    leaks: list[Leak] = []
    seen = SeenSecrets()
    for leak in found:
        if seen.covers(leak.secret):
            continue  # a token inside a header already reported, or the same key again
        seen.add(leak.secret)
        if not allowlist.allows(leak.secret):
            leaks.append(leak)
    return leaks


def masked_url(url: str) -> str:
    """A URL with the values of its key-bearing query parameters (`?key=`, `api_key`, ...) masked."""
    if "?" not in url:
        return url
    parts = urlsplit(url)
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    if not any(key.lower() in SECRET_QUERY_KEYS and not is_placeholder(value) for key, value in pairs):
        return url
    query = urlencode(
        [
            (key, MASK if key.lower() in SECRET_QUERY_KEYS and not is_placeholder(value) else value)
            for key, value in pairs
        ]
    )
    return urlunsplit(parts._replace(query=query))
