"""Cassette bytes to plain data: gzip, JSON or YAML, with a safe loader and caps on every expansion.

A cassette is hostile data. YAML goes through PyYAML's safe loader only (libyaml's `CSafeLoader` when PyYAML has
it, the pure `SafeLoader` otherwise): no tag ever builds a Python object. The few Python tags old vcrpy cassettes
carry (`!!python/unicode`, `!!python/tuple`, a pickled `BytesIO` request body) are read as the plain strings, lists
and bytes they hold, never by importing what they name. Caps: a gzipped cassette inflates to at most
`MAX_INFLATED` bytes; a document with anchors is composed first and refused when its aliases would expand past
`MAX_EXPANSION` (a "billion laughs" loads in microseconds as shared objects, then explodes in whatever walks it);
nesting is bounded by libyaml (1,000 levels) or by the recursion limit of the pure loader, reported either way.
"""

from __future__ import annotations

import re
import zlib
from typing import Any

import orjson
import yaml

from llm_fixtures.errors import BadRecording

# A gzipped cassette (langchain keeps `.yaml.gz`) larger than this once inflated is refused: real ones inflate to
# a few MB, a bomb to gigabytes.
MAX_INFLATED = 256 * 1024 * 1024
# The most a document with aliases may weigh once every alias is expanded (characters of scalars plus a few per
# node), as a multiple of its own length, and never less than a floor: expansion beyond that is a bomb.
EXPANSION_FACTOR = 16
MIN_EXPANSION = 64 * 1024 * 1024
_NODE_WEIGHT = 8

GZIP_MAGIC = b"\x1f\x8b"

try:
    _BaseLoader: Any = yaml.CSafeLoader
    LIBYAML = True
except AttributeError:  # PyYAML built without libyaml
    _BaseLoader = yaml.SafeLoader
    LIBYAML = False

# An anchor (`&name` before a node) can only follow a line start, indentation, a flow indicator or `- `/`: `. Text
# such as `a=1&b=2` in a URL never matches; text that does (`R &D`) only sends the file down the guarded path.
# The pattern starts with a literal `&` (the regex engine scans for it at C speed; an alternation first would be
# scanned byte by byte) and looks behind for what may precede an anchor.
_ANCHOR = re.compile(r"&(?<=[\s\[{,]&)[^\s\[\]{},]")


class CassetteLoader(_BaseLoader):  # type: ignore[misc]
    """The safe loader plus data-only readings of the Python tags vcrpy once wrote (see module docstring)."""


def _python_str(loader: yaml.SafeLoader, node: yaml.Node) -> str:
    if not isinstance(node, yaml.ScalarNode):
        raise yaml.constructor.ConstructorError(None, None, "expected a scalar", node.start_mark)
    return str(loader.construct_scalar(node))


def _python_tuple(loader: yaml.SafeLoader, node: yaml.Node) -> list[Any]:
    if not isinstance(node, yaml.SequenceNode):
        raise yaml.constructor.ConstructorError(None, None, "expected a sequence", node.start_mark)
    return list(loader.construct_sequence(node, deep=True))


def _python_bytesio(loader: yaml.SafeLoader, node: yaml.Node) -> bytes:
    """vcrpy < 2 pickled a file-like request body as `!!python/object/new:_io.BytesIO {state: [<bytes>, ...]}`:
    its content, nothing else, is kept."""
    if not isinstance(node, yaml.MappingNode):
        raise yaml.constructor.ConstructorError(None, None, "expected a mapping", node.start_mark)
    mapping = loader.construct_mapping(node, deep=True)
    state = mapping.get("state")
    data = state[0] if isinstance(state, list | tuple) and state else b""
    if isinstance(data, str):
        return data.encode("utf-8", "surrogatepass")
    return data if isinstance(data, bytes) else b""


CassetteLoader.add_constructor("tag:yaml.org,2002:python/str", _python_str)
CassetteLoader.add_constructor("tag:yaml.org,2002:python/unicode", _python_str)
CassetteLoader.add_constructor("tag:yaml.org,2002:python/bytes", CassetteLoader.construct_yaml_binary)
CassetteLoader.add_constructor("tag:yaml.org,2002:python/tuple", _python_tuple)
CassetteLoader.add_constructor("tag:yaml.org,2002:python/object/new:_io.BytesIO", _python_bytesio)


def inflate(data: bytes, path: object, limit: int | None = None) -> bytes:
    """The content of a gzip file (several members allowed), at most `limit` (MAX_INFLATED) bytes; BadRecording
    otherwise."""
    limit = MAX_INFLATED if limit is None else limit
    # A gzip member ends with its inflated size modulo 2**32, which the whole content is at least: a bomb that
    # says so is refused before any inflating (one that lies, or wraps, is stopped at the limit below).
    if len(data) >= 18 and int.from_bytes(data[-4:], "little") > limit:
        raise BadRecording(str(path), f"gzip content larger than {limit // (1024 * 1024)} MiB")
    out: list[bytes] = []
    total = 0
    rest = data
    while rest:
        engine = zlib.decompressobj(zlib.MAX_WBITS | 16)
        try:
            chunk = engine.decompress(rest, limit - total + 1)
        except zlib.error as exc:
            raise BadRecording(str(path), f"broken gzip: {exc}") from None
        total += len(chunk)
        if total > limit or engine.unconsumed_tail:
            raise BadRecording(str(path), f"gzip content larger than {limit // (1024 * 1024)} MiB")
        out.append(chunk)
        if not engine.eof:
            raise BadRecording(str(path), "truncated gzip")
        rest = engine.unused_data.lstrip(b"\x00")
    return b"".join(out)


def _decoded(data: bytes, path: object) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):  # YAML allows UTF-16 with a byte order mark
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            pass
    raise BadRecording(str(path), "not UTF-8 text")


def _expanded_weight(root: yaml.Node, limit: int) -> int:
    """What the document weighs with every alias expanded, computed once per distinct node (aliases are shared
    nodes after composition); stops counting once past `limit`."""
    weights: dict[int, int] = {}
    # Iterative post-order: a deep document must not exhaust the stack here either.
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if key in weights:
            continue
        if isinstance(node, yaml.ScalarNode):
            weights[key] = _NODE_WEIGHT + len(node.value)
            continue
        children: list[yaml.Node] = (
            [item for pair in node.value for item in pair] if isinstance(node, yaml.MappingNode) else list(node.value)
        )
        if not children_done:
            stack.append((node, True))
            stack.extend((child, False) for child in children if id(child) not in weights)
            continue
        weight = _NODE_WEIGHT + sum(weights.get(id(child), 0) for child in children)
        weights[key] = min(weight, limit + 1)
    return weights[id(root)]


def load_yaml(text: str, path: object) -> Any:
    """Plain data of a YAML document, by the safe loader; BadRecording with a one-line reason otherwise."""
    try:
        if _ANCHOR.search(text) is None and not text.startswith("&"):
            return yaml.load(text, Loader=CassetteLoader)  # a safe loader: see CassetteLoader
        loader = CassetteLoader(text)
        try:
            node = loader.get_single_node()
            if node is None:
                return None
            limit = max(len(text) * EXPANSION_FACTOR, MIN_EXPANSION)
            if _expanded_weight(node, limit) > limit:
                raise BadRecording(str(path), "YAML aliases expand too far (an alias bomb?); not read")
            return loader.construct_document(node)
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        raise BadRecording(str(path), f"invalid YAML: {_yaml_reason(exc)}") from None
    except yaml.YAMLError as exc:
        raise BadRecording(
            str(path), f"invalid YAML: {str(exc).splitlines()[0] if str(exc) else 'unreadable'}"
        ) from None
    except RecursionError:
        raise BadRecording(str(path), "invalid YAML: nested too deeply") from None


def _yaml_reason(exc: yaml.MarkedYAMLError) -> str:
    problem = exc.problem or exc.context or "unreadable"
    if "could not determine a constructor" in problem:
        tag = problem.split("tag", 1)[-1].strip(" '")
        tag = "!!" + tag.removeprefix("tag:yaml.org,2002:") if tag.startswith("tag:yaml.org,2002:") else tag
        problem = f"tag {tag} is not plain data; refused"
    mark = exc.problem_mark or exc.context_mark
    where = f" at line {mark.line + 1} column {mark.column + 1}" if mark is not None else ""
    return f"{problem}{where}"


def load_document(data: bytes, path: object) -> tuple[Any, bool, str]:
    """(data, was gzipped, serializer: "yaml" or "json") of a cassette file's bytes. gzip is recognized by its
    magic bytes, JSON by its first character (vcrpy's JSON serializer writes an object); anything else is
    YAML."""
    gzipped = data.startswith(GZIP_MAGIC)
    if gzipped:
        data = inflate(data, path)
    if not data.strip():
        raise BadRecording(str(path), "empty file")
    if data.find(b"\x00", 0, 8192) != -1 and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise BadRecording(str(path), "binary file, not a cassette")
    if data.lstrip()[:1] == b"{":
        try:
            return orjson.loads(data), gzipped, "json"
        except orjson.JSONDecodeError:
            pass  # a flow-style YAML mapping, or JSON that orjson refuses: the YAML loader reads both
    return load_yaml(_decoded(data, path), path), gzipped, "yaml"
