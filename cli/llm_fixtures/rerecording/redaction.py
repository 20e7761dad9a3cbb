"""What a line about a request may show of a secret: the API key the http runner sent masked wherever it appears
(whatever its form), then every secret the scanner knows masked and every control character escaped, as every
output of `fixtures` shows them (`sanitizing.clean`): a server may echo a key in an error."""

from __future__ import annotations

from collections.abc import Iterable

from llm_fixtures.sanitizing import clean
from llm_fixtures.scanning import mask


def sent_secrets(headers: dict[str, str]) -> list[str]:
    """The secrets in the auth headers of a request: each value, and the token of a `Bearer` value."""
    found: list[str] = []
    for value in headers.values():
        found.append(value)
        if value.lower().startswith("bearer "):
            found.append(value[7:].strip())
    return [secret for secret in found if secret]


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with every occurrence of `secrets` masked, then made safe to print as a line."""
    for secret in sorted(set(secrets), key=len, reverse=True):
        if len(secret) >= 4:
            text = text.replace(secret, mask(secret))
    return clean(text, one_line=True)
