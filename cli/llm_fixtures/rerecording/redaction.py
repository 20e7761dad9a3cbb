"""What a line about a request may show of a secret: the API key the http runner sent, and anything the `check`
secrets scanner knows as a secret (a server may echo a key in an error), masked the way `check` masks them."""

from __future__ import annotations

import re
from collections.abc import Iterable

from llm_fixtures.checking.secrets import check_secrets, mask

# Runs of token characters long enough to be a key, with the `Bearer ` before one when there is one.
_TOKEN = re.compile(r"(?:[Bb]earer +|BEARER +)?[A-Za-z0-9._~+/=:-]{12,}")


def sent_secrets(headers: dict[str, str]) -> list[str]:
    """The secrets in the auth headers of a request: each value, and the token of a `Bearer` value."""
    found: list[str] = []
    for value in headers.values():
        found.append(value)
        if value.lower().startswith("bearer "):
            found.append(value[7:].strip())
    return [secret for secret in found if secret]


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with every occurrence of `secrets` and every secret the scanner recognizes masked."""
    for secret in sorted(set(secrets), key=len, reverse=True):
        if len(secret) >= 4:
            text = text.replace(secret, mask(secret))

    def masked(match: re.Match[str]) -> str:
        token = match.group(0)
        return mask(token) if check_secrets("", token.encode("utf-8", "replace")) else token

    return _TOKEN.sub(masked, text)
