"""The syntax of pytest node ids, and which may reach a command line (a record run, a command `explain`
prints): pytest node ids of a test file inside the project, and nothing else. Pure: whether the file stays inside
the project through its links is `rerecording.nodeids.node_id_problem`.

A recording's `test_id` is data from strangers. Given to pytest as it is, `--basetemp=/elsewhere/a::b/..` makes
pytest delete a folder outside the project and `--junitxml=...` writes outside it; `@file` reads arguments from a
file. pytest parses options even after `--` (it reads its arguments intermixed), so this check is the gate."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import PurePosixPath, PureWindowsPath

# Far above any real node id (the longest upstream ones are about 300 characters), far below argv limits.
MAX_NODE_ID = 2000


def shown(test_id: object, width: int = 80) -> str:
    """A test id as a line may show it: quoted, cut, every control character escaped."""
    text = test_id if isinstance(test_id, str) else repr(test_id)
    cut = text[:width] + ("…" if len(text) > width else "")
    return repr(cut)


def syntax_problem(test_id: object) -> str | None:
    """Why `test_id` may not be given to pytest as a node id (or shown in a command to run), judged on its text
    alone, or None when it may: a string of printable characters, at most MAX_NODE_ID long, not starting with `-`
    (an option) or `@` (an argument file), holding `::`, whose part before it is a relative path to a `.py` file
    (`/` between folders) with no `..` (it may lead outside the folder pytest runs in)."""
    if not isinstance(test_id, str) or not test_id:
        return "no test id"
    if len(test_id) > MAX_NODE_ID:
        return f"longer than {MAX_NODE_ID} characters"
    if test_id[0] == "-":
        return "it starts with '-', so pytest would read it as an option"
    if test_id[0] == "@":
        return "it starts with '@', so pytest would read arguments from that file"
    if any(ord(char) < 0x20 or 0x7F <= ord(char) < 0xA0 for char in test_id):
        return "it holds a control character"
    try:
        test_id.encode("utf-8")
    except UnicodeEncodeError:
        return "it is not valid text (a lone surrogate)"
    if "::" not in test_id:
        return "it has no '::', so it names no test"
    file, _, name = test_id.partition("::")
    if not file or not name or file.endswith(("/", "\\")):
        return "it names no test file and test"
    if PurePosixPath(file).is_absolute() or PureWindowsPath(file).drive or PureWindowsPath(file).root:
        return "its test file is an absolute path"
    if "\\" in file:
        return "its test file has a backslash (pytest writes node ids with '/')"
    if not file.endswith(".py"):
        return "its test file is not a .py file"
    if ".." in file.split("/"):
        return "its test file has a '..' (it may lead outside the project)"
    return None


def selecting(test_id: str) -> Iterator[str]:
    """The node ids that select a test when given to pytest: its own id, then each node above it in its file (its
    class, its function without parameters): `f.py::C::t[p]` gives itself, `f.py::C`, `f.py::C::t`."""
    yield test_id
    file, separator, rest = test_id.partition("::")
    if not separator:
        return
    names = rest.split("[", 1)[0].split("::")
    for count in range(1, len(names) + 1):
        node = f"{file}::{'::'.join(names[:count])}"
        if node != test_id:
            yield node


def test_file(node_id: str) -> str:
    """The file part of a node id (`tests/x/test_a.py`)."""
    return node_id.split("::", 1)[0]


def function_name(node_id: str) -> str:
    """The test function of a node id, without its parameters (pytest's `originalname`)."""
    rest = node_id.split("::", 1)[-1]
    return rest.split("[", 1)[0].rsplit("::", 1)[-1]


def parameters(node_id: str) -> str:
    """The parametrization id of a node id (`txt=ollama/x-True` of `...::test[txt=ollama/x-True]`), or ''."""
    rest = node_id.split("::", 1)[-1]
    if "[" not in rest or not rest.endswith("]"):
        return ""
    return rest[rest.index("[") + 1 : -1]
