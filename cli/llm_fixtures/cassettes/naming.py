"""Which test a cassette belongs to, by the names pytest-recording and pytest-vcr give cassette files.

pytest-recording stores a test's cassette at `<test folder>/cassettes/<test module>/<name>.yaml`; pytest-vcr at
`<test folder>/cassettes/<name>.yaml`. `<name>` is the test's node name (`test_x[params]`), prefixed with its class
(`TestX.test_x[params]`), with the characters a file name cannot hold (`<>?%*:|"'/\\`) replaced by `-`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import PurePath
from typing import Literal

CASSETTE_FOLDERS = frozenset({"cassettes"})
_SUFFIXES = (".yaml.gz", ".yml.gz", ".json.gz", ".yaml", ".yml", ".json")
# What pytest-recording replaces by `-` in a cassette's name (a file name cannot hold them everywhere).
_UNSAFE = "<>?%*:|\"'/\\"
Owner = Literal["run", "doubt", "other"]


@dataclass(frozen=True, slots=True)
class CassetteName:
    """What a cassette's path says of its test: the test module (a path relative to the same root as the
    cassette's, when the layout names it), the class, the function and the parameters (`[...]`, as sanitized)."""

    test_file: str | None
    test_class: str | None
    function: str
    params: str

    @property
    def node(self) -> str:
        """`Class::function[params]`, the node id below the file."""
        head = f"{self.test_class}::{self.function}" if self.test_class else self.function
        return f"{head}{self.params}"

    @property
    def test_id(self) -> str | None:
        return f"{self.test_file}::{self.node}" if self.test_file else None


def strip_suffix(name: str) -> str:
    for suffix in _SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def split_name(stem: str) -> tuple[str | None, str, str]:
    """(class, function, params) of a cassette name without its suffix. A class name starts with a capital
    (`TestAgent.test_x`); params run from the first `[`, so dots inside them are not a class separator."""
    bracket = stem.find("[")
    base, params = (stem, "") if bracket == -1 else (stem[:bracket], stem[bracket:])
    if "]" in params:
        params = params[: params.rfind("]") + 1]  # `test_x[xai].xai.yaml`: a project's own suffix after the id
    first, dot, rest = base.partition(".")
    if dot and first[:1].isupper() and rest:
        return first, rest.split(".", 1)[0], params
    return None, first, params


def _is_test_module(name: str) -> bool:
    """Whether a folder under `cassettes` is named after a test module (pytest's default `test_*.py`, `*_test.py`),
    rather than being a project's own grouping (`cassettes/events/`)."""
    return name.startswith("test") or name.endswith("_test")


def name_of_path(path: str) -> CassetteName | None:
    """The test a cassette path names, by the pytest-recording and pytest-vcr layouts; None when the file is not
    inside a `cassettes` folder. `path` uses `/` and is relative to the project (or any common root)."""
    parts = path.replace("\\", "/").split("/")
    if len(parts) < 2:
        return None
    test_class, function, params = split_name(strip_suffix(parts[-1]))
    folders = parts[:-1]
    if folders[-1] in CASSETTE_FOLDERS:  # pytest-vcr: the module is not in the path
        return CassetteName(None, test_class, function, params)
    if len(folders) >= 2 and folders[-2] in CASSETTE_FOLDERS and _is_test_module(folders[-1]):  # pytest-recording
        module = "/".join([*folders[:-2], f"{folders[-1]}.py"])
        return CassetteName(module, test_class, function, params)
    if any(folder in CASSETTE_FOLDERS for folder in folders):
        return CassetteName(None, test_class, function, params)
    return None


def node_id_of_path(path: str) -> str | None:
    """The node id a cassette path names (`tests/test_x.py::TestX::test_y[p]`), when its layout names a module."""
    name = name_of_path(path)
    return name.test_id if name is not None else None


def suite_of_cassette(path: str) -> str | None:
    """The folder that holds the `cassettes` folder a cassette is in."""
    parts = path.replace("\\", "/").split("/")[:-1]
    for index in range(len(parts) - 1, 0, -1):
        if parts[index] in CASSETTE_FOLDERS:
            return parts[index - 1]
    return None


def default_name(node_id: str) -> str:
    """The name pytest-recording gives the cassette of a test (without suffix): `Class.test[params]` for
    `file.py::Class::test[params]`, with the characters a file name cannot hold replaced by `-`."""
    rest = node_id.split("::", 1)[-1]
    bracket = rest.find("[")
    head, params = (rest, "") if bracket == -1 else (rest[:bracket], rest[bracket:])
    parts = head.split("::")
    name = f"{parts[-2]}.{parts[-1]}" if len(parts) > 1 else parts[-1]
    name += params
    for char in _UNSAFE:
        name = name.replace(char, "-")
    return name


def _truncated(stem: str) -> str | None:
    """The MD5 a name pytest-recording cut to fit a file name ends with (`<start>...<md5 of the whole name>`)."""
    head, dots, digest = stem.rpartition("...")
    return digest if dots and head and len(digest) == 32 and all(c in "0123456789abcdef" for c in digest) else None


def name_keys(node_id: str) -> tuple[str, str]:
    """The names the default cassette of a test may have on disk: whole, or (too long for a file name) cut to
    a start and the MD5 of the whole name, which is what is compared then."""
    name = default_name(node_id)
    return name, hashlib.md5(name.encode(), usedforsecurity=False).hexdigest()


def stem_key(stem: str) -> str:
    """What of a cassette's name (without suffix) `name_keys` is compared with: the name, or its MD5 if cut."""
    return _truncated(stem) or stem


def _selects(node_id: str, test_class: str | None, function: str) -> bool:
    """Whether a node id given without parameters (a function, or a class) selects the test a cassette names."""
    rest = node_id.split("::", 1)[-1]
    if "[" in rest:
        return False
    names = rest.split("::")
    if len(names) == 1:
        return (test_class, function) in ((None, names[0]), (names[0], function))
    return (test_class, function) == (names[-2], names[-1])


def owner_of(path: PurePath, tests: frozenset[str] | set[str]) -> Owner:
    """Who wrote a cassette during a record run of `tests`, by its name: `run` when it is the default cassette of
    one of them (or of a parametrization or member of a node id given without them); `other` when it is named
    after another test (another process's run); `doubt` otherwise (a name a test chose itself: any test may have
    written it)."""
    stem = strip_suffix(path.name)
    key = stem_key(stem)
    test_class, function, _params = split_name(stem)
    if any(key in name_keys(test) or _selects(test, test_class, function) for test in tests):
        return "run"
    return "other" if function.isidentifier() and function.startswith("test") else "doubt"
