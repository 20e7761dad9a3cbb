"""git reading: trees and blobs of a real repository in tmp_path, read without checkout; errors are one line."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from diffkit import commit_all, git, init_repo
from llm_fixtures.diffing.gitreading import (
    blob_id,
    clean_index_blobs,
    list_blobs,
    open_repository,
    read_blobs,
    resolve_revision,
    split_range,
)
from llm_fixtures.errors import GitError


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    init_repo(root)
    (root / "recordings").mkdir()
    (root / "recordings" / "a.json").write_text('{"a": 1}\n')
    (root / "recordings" / "b.json").write_text('{"b": 2}\n')
    (root / "notes.txt").write_text("hello\n")
    commit_all(root, "first")
    (root / "recordings" / "a.json").write_text('{"a": 10}\n')
    (root / "recordings" / "b.json").unlink()
    commit_all(root, "second")
    return root


def test_open_repository_finds_the_top_from_a_subfolder(repo: Path) -> None:
    found = open_repository(repo / "recordings")
    assert found.root.resolve() == repo.resolve()
    assert found.object_format == "sha1"


def test_not_a_repository_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(GitError) as info:
        open_repository(tmp_path)
    assert "not in a git repository" in str(info.value)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("revision", ["no-such-branch", "HEAD~5", "deadbeef", "-x"])
def test_unknown_revision(repo: Path, revision: str) -> None:
    with pytest.raises(GitError) as info:
        resolve_revision(open_repository(repo), revision)
    assert revision in str(info.value)
    assert "\n" not in str(info.value)


def test_list_and_read_blobs_of_an_old_revision(repo: Path) -> None:
    handle = open_repository(repo)
    first = resolve_revision(handle, "HEAD~1")
    blobs = list_blobs(handle, first, ["recordings"])
    assert sorted(blobs) == ["recordings/a.json", "recordings/b.json"]
    contents = read_blobs(handle, blobs.values())
    assert contents[blobs["recordings/a.json"]] == b'{"a": 1}\n'
    assert contents[blobs["recordings/b.json"]] == b'{"b": 2}\n'
    assert sorted(list_blobs(handle, resolve_revision(handle, "HEAD"))) == [
        "notes.txt",
        "pyproject.toml",
        "recordings/a.json",
    ]
    # nothing was checked out
    assert not (repo / "recordings" / "b.json").exists()


def test_blob_id_matches_git_hash_object(repo: Path) -> None:
    for data in (b"", b'{"a": 10}\n', bytes(range(256)) * 10):
        path = repo / "probe.bin"
        path.write_bytes(data)
        expected = subprocess.run(
            ["git", "hash-object", str(path)], cwd=repo, capture_output=True, text=True, check=True
        ).stdout.strip()
        assert blob_id(data) == expected


def test_blob_ids_from_ls_tree_match_hashing_the_file(repo: Path) -> None:
    handle = open_repository(repo)
    blobs = list_blobs(handle, resolve_revision(handle, "HEAD"))
    assert blobs["recordings/a.json"] == blob_id((repo / "recordings" / "a.json").read_bytes())


def test_read_blobs_of_nothing_runs_no_git(repo: Path) -> None:
    assert read_blobs(open_repository(repo), []) == {}


@pytest.mark.parametrize(
    ("spec", "expected"),
    [("HEAD", ("HEAD", None)), ("a..b", ("a", "b")), ("main..", ("main", "HEAD")), ("..b", ("HEAD", "b"))],
)
def test_split_range(spec: str, expected: tuple[str, str | None]) -> None:
    assert split_range(spec) == expected


def test_three_dot_ranges_are_refused() -> None:
    with pytest.raises(GitError):
        split_range("a...b")


def test_file_names_with_spaces_and_unicode(repo: Path) -> None:
    (repo / "recordings" / "é x.json").write_text("{}\n")
    commit_all(repo, "third")
    handle = open_repository(repo)
    assert "recordings/é x.json" in list_blobs(handle, resolve_revision(handle, "HEAD"))
    assert git(repo, "status", "--porcelain") == ""


def test_clean_index_blobs_leave_out_what_changed(repo: Path) -> None:
    handle = open_repository(repo)
    head = list_blobs(handle, resolve_revision(handle, "HEAD"))
    assert clean_index_blobs(handle, ["recordings"]) == {"recordings/a.json": head["recordings/a.json"]}
    # same size, same second as the commit: git's racy-clean check must still see the edit
    (repo / "recordings" / "a.json").write_text('{"a": 11}\n')
    (repo / "recordings" / "new.json").write_text("{}\n")
    assert clean_index_blobs(handle, ["recordings"]) == {}
    assert "notes.txt" in clean_index_blobs(handle)


def test_paths_are_literal_not_globs(repo: Path) -> None:
    (repo / "recordings" / "x[1].json").write_text("{}\n")
    (repo / "recordings" / "x1.json").write_text("{}\n")
    commit_all(repo, "brackets")
    handle = open_repository(repo)
    assert list(list_blobs(handle, resolve_revision(handle, "HEAD"), ["recordings/x[1].json"])) == [
        "recordings/x[1].json"
    ]
