"""The messages the upstream recorder raises on a replay miss, read back: which call missed, the request hash,
the model and URL; for a tool call, the hash its printed arguments give."""

from __future__ import annotations

import ast
import re
from typing import Any

from llm_fixtures.explaining.model import Miss

# The longest tool-argument text parsed back into a value (a literal this size is already absurd).
MAX_ARGUMENTS = 64 * 1024

# Upstream `src/ogx/testing/api_recorder.py` (since #3760, October 2025), one pattern per patched call; the
# hash may be cut short by pytest's summary line (`...`). Then the messages before #3760.
_INFERENCE = re.compile(r"Recording not found for request hash: ([0-9a-f]{1,64})")
_GENAI = re.compile(r"Recording not found for genai request hash: ([0-9a-f]{1,64})")
_RERANK = re.compile(r"Recording not found for rerank request \| URL: (\S+)")
_HTTPX_STREAM = re.compile(r"Recording not found for httpx stream POST (\S+)")
_HTTPX = re.compile(r"Recording not found for httpx POST (\S+)")
_TOOL = re.compile(r"Recording not found for ([\w-]+)\.([\w-]+) \| Request: (.*)")
_OLD_INFERENCE = re.compile(r"No recorded response found for request hash: ([0-9a-f]{1,64})")
_OLD_TOOL = re.compile(r"No recorded tool result found for ([\w-]+)\.([\w-]+)")
# The lines that follow: `Model: m | Request: POST url` (genai: `| Endpoint: /e`); before #3760 `Request: POST url
# {body}` and `Model: m` apart.
_MODEL_REQUEST = re.compile(r"Model: (.*?) \| Request: ([A-Z]+) (\S+)")
_MODEL_ENDPOINT = re.compile(r"Model: (.*?) \| Endpoint: (\S+)")
_OLD_REQUEST = re.compile(r"Request: ([A-Z]+) (\S+)")
_OLD_MODEL = re.compile(r"Model: (\S.*)")
_OLD_ARGUMENTS = re.compile(r"Request: (\{.*)")
# A traceback line's `E   ` prefix, and a logging prefix up to the message.
_E_PREFIX = re.compile(r"^E\s+")
# What a cut-off line ends with: pytest's summary adds `...` where it cut.
_CUT = "..."
# How far below the first line of a message its other lines may be.
FOLLOWING = 4

MARKERS = ("Recording not found for ", "No recorded response found", "No recorded tool result found")
# A message in source code (a traceback shows the `raise` line): an f-string with its `{placeholders}`.
_SOURCE = re.compile(r"""f["']$|\{[A-Za-z_][\w.]*\}""")


def _in_source(line: str) -> bool:
    """Whether the message in a line is the recorder's source code, not a message it raised."""
    for marker in MARKERS:
        at = line.find(marker)
        if at != -1:
            return bool(_SOURCE.search(line[max(0, at - 2) : at]) or _SOURCE.search(line[at:]))
    return False


def _value(text: str, line: str) -> str | None:
    """A URL read from a line (up to an escaped newline, when the message sits in an exception's repr), or None
    when the line was cut off inside it."""
    if line.endswith(_CUT) and line.endswith(text):
        return None
    return text.split("\\n", 1)[0]


def _hash(found: str, line: str, end: int) -> tuple[str | None, str | None]:
    """(full hash, None) or (None, prefix) when the line was cut off in the hash."""
    if len(found) == 64:
        return found, None
    cut = line[end:].startswith(_CUT) or end == len(line)
    return None, (found if cut and len(found) >= 8 else None)


def _following(lines: list[str], index: int) -> list[str]:
    """The lines of the message below its first one, their traceback prefix removed."""
    return [_E_PREFIX.sub("", line) for line in lines[index + 1 : index + 1 + FOLLOWING]]


def _model_and_request(rest: str, below: list[str], miss: Miss) -> None:
    for text in (rest, *below):
        match = _MODEL_REQUEST.search(text)
        if match is not None:
            miss.model = match.group(1)
            miss.method = match.group(2)
            miss.url = _value(match.group(3), text)
            return
        if text is not rest and text.startswith("Run "):
            return


def _old_model_and_request(rest: str, below: list[str], miss: Miss) -> None:
    for text in (rest, *below):
        request = _OLD_REQUEST.search(text)
        if request is not None and miss.url is None:
            miss.method = request.group(1)
            miss.url = _value(request.group(2), text)
        model = _OLD_MODEL.match(text)
        if model is not None and miss.model is None:
            miss.model = model.group(1).strip()


def tool_arguments(text: str) -> Any:
    """The keyword arguments a tool miss prints (a Python dict repr), as a value; None when they cannot be read
    back exactly (cut off, too long, not a plain literal)."""
    text = text.split("\\n", 1)[0].strip()  # an exception repr carries the message's newlines as `\n`
    if not text.startswith("{") or len(text) > MAX_ARGUMENTS or text.endswith(_CUT):
        return None
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


def read_miss(lines: list[str], index: int) -> Miss | None:
    """The miss whose message starts on line `index` (0-based), with what the lines below add; None when the
    line holds no miss message."""
    line = lines[index]
    number = index + 1
    if _in_source(line):
        return None
    match = _GENAI.search(line)
    if match is not None:
        miss = Miss(kind="genai", line=number)
        miss.hash, miss.hash_prefix = _hash(match.group(1), line, match.end())
        for text in (line[match.end() :], *_following(lines, index)):
            found = _MODEL_ENDPOINT.search(text)
            if found is not None:
                miss.model, miss.endpoint = found.group(1), found.group(2)
                miss.url = f"vertexai://{miss.endpoint}"
                break
        return miss
    match = _INFERENCE.search(line) or _OLD_INFERENCE.search(line)
    if match is not None:
        miss = Miss(kind="inference", line=number)
        miss.hash, miss.hash_prefix = _hash(match.group(1), line, match.end())
        if match.re is _INFERENCE:
            _model_and_request(line[match.end() :], _following(lines, index), miss)
        else:
            _old_model_and_request(line[match.end() :], _following(lines, index), miss)
        return miss
    for pattern, kind in ((_RERANK, "rerank"), (_HTTPX_STREAM, "http-stream"), (_HTTPX, "http")):
        match = pattern.search(line)
        if match is not None:
            url = _value(match.group(1), line)
            return Miss(kind=kind, line=number, url=url, method="POST")  # type: ignore[arg-type]  # kinds above
    match = _TOOL.search(line)
    if match is not None:
        miss = Miss(kind="tool", line=number, endpoint=f"{match.group(1)}.{match.group(2)}")
        miss.tool_kwargs = tool_arguments(match.group(3))
        return miss
    match = _OLD_TOOL.search(line)
    if match is not None:
        miss = Miss(kind="tool", line=number, endpoint=f"{match.group(1)}.{match.group(2)}")
        for text in _following(lines, index):
            found = _OLD_ARGUMENTS.match(text)
            if found is not None:
                miss.tool_kwargs = tool_arguments(found.group(1))
                break
        return miss
    return None
