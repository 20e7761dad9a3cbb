"""Reference resolution: paths, hashes and prefixes, pytest node ids; ambiguity and no match."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from llm_fixtures.config import Project
from llm_fixtures.errors import AmbiguousRef, NoMatch, UsageError
from llm_fixtures.filtering import matches_node_id
from llm_fixtures.resolving import resolve_refs

H1 = "aaaaaa11" + "0" * 56
H2 = "aaaaaa22" + "0" * 56
H3 = "bbbbbb33" + "0" * 56
H4 = "cccccc44" + "0" * 56
TEST = "tests/integration/x/test_a.py::test_one"


def write(folder: Path, name: str, test_id: str | None) -> Path:
    path = folder / name
    request = {"method": "POST", "url": "http://h/v1/chat/completions", "body": {}, "endpoint": "/v1/chat/completions"}
    path.write_text(json.dumps({"test_id": test_id, "request": request, "response": {"body": None}}))
    return path


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Project:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    folder = tmp_path / "tests" / "integration" / "x" / "recordings"
    folder.mkdir(parents=True)
    write(folder, f"{H1}.json", f"{TEST}[p2]")
    write(folder, f"{H2}.json", f"{TEST}[p1]")
    write(folder, f"{H3}.json", "tests/integration/x/test_a.py::test_two")
    write(folder, f"models-{H4}-0000aaaa.json", None)
    write(folder, f"models-{H4}-0000bbbb.json", None)
    monkeypatch.chdir(tmp_path)
    return Project(tmp_path)


def names(paths: list[Path]) -> list[str]:
    return [path.name[:8] if not path.name.startswith("models") else path.name[-13:-5] for path in paths]


@pytest.mark.parametrize(
    ("refs", "expected"),
    [
        (["aaaaaa11"], ["aaaaaa11"]),
        ([H3], ["bbbbbb33"]),
        ([f"{H3}.json"], ["bbbbbb33"]),
        (["bbbbbb"], ["bbbbbb33"]),
        (["BBBBBB33"], ["bbbbbb33"]),
        ([f"{TEST}[p1]"], ["aaaaaa22"]),
        ([TEST], ["aaaaaa22", "aaaaaa11"]),  # every parametrization, ordered by test id
        (["x/test_a.py::test_one"], ["aaaaaa22", "aaaaaa11"]),  # relative to a subfolder
        (["tests/integration/x/test_a.py"], ["aaaaaa22", "aaaaaa11", "bbbbbb33"]),
        ([f"models-{H4}-0000bbbb"], ["0000bbbb"]),
        (["bbbbbb", "bbbbbb33", "aaaaaa11"], ["bbbbbb33", "aaaaaa11"]),  # duplicates once, order kept
        ([f"tests/integration/x/recordings/{H1}.json"], ["aaaaaa11"]),
        (["tests/integration/x/recordings"], ["aaaaaa11", "aaaaaa22", "bbbbbb33", "0000aaaa", "0000bbbb"]),
    ],
)
def test_resolves(project: Project, refs: list[str], expected: list[str]) -> None:
    assert names(resolve_refs(refs, project)) == expected


def test_ambiguous_prefix_lists_the_candidates(project: Project) -> None:
    with pytest.raises(AmbiguousRef) as caught:
        resolve_refs(["aaaaaa"], project)
    assert len(caught.value.candidates) == 2
    assert H1 in str(caught.value) and H2 in str(caught.value)


def test_a_hash_of_several_files_names_them_all(project: Project, tmp_path: Path) -> None:
    """The same recording in two folders (a copy, another suite), or the model lists of one request: a hash
    or a prefix of one hash is not ambiguous; it shows every file of that request, in path order."""
    for ref in (H4, "cccccc"):
        assert names(resolve_refs([ref], project)) == ["0000aaaa", "0000bbbb"]
    other = tmp_path / "tests" / "integration" / "y" / "recordings"
    other.mkdir(parents=True)
    write(other, f"{H3}.json", "tests/integration/y/test_b.py::test_two")
    write(other, f"{'bbbbbb34' + '0' * 56}.json", "tests/integration/y/test_b.py::test_three")
    for ref in (H3, f"{H3}.json", H3.upper(), "bbbbbb33"):
        found = resolve_refs([ref], project)
        assert [path.parent.parent.name for path in found] == ["x", "y"], ref
    with pytest.raises(AmbiguousRef):
        resolve_refs(["bbbbbb3"], project)  # the prefix of two hashes


@pytest.mark.parametrize("ref", ["", " ", "\t"])
def test_an_empty_reference_is_refused(project: Project, ref: str) -> None:
    """`fixtures show ""` once showed every recording of the current folder."""
    with pytest.raises(UsageError, match="empty reference"):
        resolve_refs([ref], project)


@pytest.mark.parametrize(
    ("ref", "error", "message"),
    [
        ("abc123", NoMatch, "no recording matches 'abc123'"),
        ("tests/integration/x/test_a.py::test_three", NoMatch, "no recording matches"),
        ("nothing.json", NoMatch, "no recording matches 'nothing.json'"),
        ("aaaa", UsageError, "at least 6 hex digits"),
    ],
)
def test_errors(project: Project, ref: str, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message.replace("[", r"\[")):
        resolve_refs([ref], project)


def test_search_is_limited_to_the_given_paths(project: Project, tmp_path: Path) -> None:
    other = tmp_path / "elsewhere" / "recordings"
    other.mkdir(parents=True)
    write(other, "dddddd55" + "0" * 56 + ".json", None)
    assert names(resolve_refs(["dddddd"], project)) == ["dddddd55"]
    with pytest.raises(NoMatch):
        resolve_refs(["dddddd"], project, [tmp_path / "tests"])


@pytest.mark.parametrize(
    ("test_id", "ref", "expected"),
    [
        ("a/t.py::f[x]", "a/t.py::f[x]", True),
        ("a/t.py::f[x]", "a/t.py::f", True),
        ("a/t.py::f[x]", "t.py::f", True),
        ("a/t.py::fg[x]", "a/t.py::f", False),
        ("a/t.py::f[x]", "a/t.py::f[y]", False),
        ("a/t.py::C::f", "a/t.py::C::f", True),
        ("a/t.py::f", "a/t.py", True),
        ("a/xt.py::f", "t.py", False),
        (None, "a/t.py", False),
    ],
)
def test_matches_node_id(test_id: str | None, ref: str, expected: bool) -> None:
    assert matches_node_id(test_id, ref) is expected
