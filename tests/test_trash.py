"""Reversible deletes: git-restorable files deleted, others trashed, the last batch restored exactly."""

from __future__ import annotations

from pathlib import Path

import pytest

from diffkit import commit_all, git
from llm_fixtures.errors import FixtureError
from llm_fixtures.trashing import (
    PLAIN_TRASH_FOLDER,
    RestoreConflict,
    UnsafeDelete,
    remove_reversibly,
    restore_last,
    trash_folder,
)


def init_repo(root: Path) -> None:
    git(root, "init", "-q")
    commit_all(root, "init")


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    rec = root / "tests" / "s" / "recordings"
    write(rec / "tracked.json", b'{"a": 1}\n')
    write(rec / "modified.json", b'{"b": 1}\n')
    write(rec / "exec.json", b'{"e": 1}\n').chmod(0o755)
    init_repo(root)
    (rec / "modified.json").write_bytes(b'{"b": 2}\n')
    write(rec / "untracked.json", b'{"c": 1}\n')
    return root


def test_tracked_deleted_others_trashed_and_restored_exactly(repo: Path) -> None:
    rec = repo / "tests" / "s" / "recordings"
    names = ["tracked.json", "modified.json", "untracked.json", "exec.json"]
    before = {name: (rec / name).read_bytes() for name in names}
    modes = {name: (rec / name).stat().st_mode & 0o777 for name in names}
    batch = remove_reversibly([rec / name for name in names], repo)
    hows = {Path(entry.path).name: entry.how for entry in batch.entries}
    assert hows == {"tracked.json": "git", "exec.json": "git", "modified.json": "trash", "untracked.json": "trash"}
    assert (batch.deleted, batch.trashed) == (2, 2)
    assert not any((rec / name).exists() for name in names)
    # The trash lives in the git dir: no walker finds it and `git status` does not show it.
    assert batch.folder.parent == repo / ".git" / "fixtures-trash"
    status = git(repo, "status", "--porcelain")
    assert "fixtures-trash" not in status
    assert " D tests/s/recordings/tracked.json" in status
    assert [path.name for path in batch.folder.rglob("*.json")] == ["manifest.json"]
    restored = restore_last(repo)
    assert sorted(path.name for path in restored) == sorted(names)
    assert {name: (rec / name).read_bytes() for name in names} == before
    assert {name: (rec / name).stat().st_mode & 0o777 for name in names} == modes
    assert not batch.folder.exists()
    assert restore_last(repo) == []


def test_restore_takes_the_last_batch_only(repo: Path) -> None:
    rec = repo / "tests" / "s" / "recordings"
    remove_reversibly([rec / "tracked.json"], repo)
    remove_reversibly([rec / "untracked.json"], repo)
    assert [path.name for path in restore_last(repo)] == ["untracked.json"]
    assert not (rec / "tracked.json").exists()
    assert [path.name for path in restore_last(repo)] == ["tracked.json"]


def test_restore_after_the_deletion_was_committed(repo: Path) -> None:
    rec = repo / "tests" / "s" / "recordings"
    data = (rec / "tracked.json").read_bytes()
    remove_reversibly([rec / "tracked.json"], repo)
    commit_all(repo, "prune")
    restore_last(repo)
    assert (rec / "tracked.json").read_bytes() == data


def test_restore_conflict_restores_nothing(repo: Path) -> None:
    rec = repo / "tests" / "s" / "recordings"
    remove_reversibly([rec / "tracked.json", rec / "untracked.json"], repo)
    (rec / "untracked.json").write_bytes(b"re-recorded\n")
    with pytest.raises(RestoreConflict, match=r"untracked\.json"):
        restore_last(repo)
    assert not (rec / "tracked.json").exists()
    assert (rec / "untracked.json").read_bytes() == b"re-recorded\n"
    (rec / "untracked.json").unlink()
    assert len(restore_last(repo)) == 2


def test_identical_file_back_in_place_counts_as_restored(repo: Path) -> None:
    rec = repo / "tests" / "s" / "recordings"
    data = (rec / "tracked.json").read_bytes()
    remove_reversibly([rec / "tracked.json"], repo)
    git(repo, "checkout", "--", "tests/s/recordings/tracked.json")
    assert restore_last(repo) == []
    assert (rec / "tracked.json").read_bytes() == data


def test_outside_project_refused_before_anything(tmp_path: Path, repo: Path) -> None:
    outside = write(tmp_path / "elsewhere" / "x.json", b"{}")
    inside = repo / "tests" / "s" / "recordings" / "tracked.json"
    with pytest.raises(UnsafeDelete, match="outside the project"):
        remove_reversibly([inside, outside], repo)
    assert inside.exists()
    assert outside.exists()


def test_folder_link_leading_out_is_refused(tmp_path: Path, repo: Path) -> None:
    outside = write(tmp_path / "elsewhere" / "x.json", b"{}")
    (repo / "linked").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(UnsafeDelete):
        remove_reversibly([repo / "linked" / "x.json"], repo)
    assert outside.exists()


def test_file_link_is_removed_not_its_target(tmp_path: Path, repo: Path) -> None:
    target = write(tmp_path / "elsewhere" / "x.json", b"{}")
    link = repo / "tests" / "s" / "recordings" / "link.json"
    link.symlink_to(target)
    remove_reversibly([link], repo)
    assert not link.is_symlink()
    assert target.read_bytes() == b"{}"
    restore_last(repo)
    assert link.is_symlink()
    assert link.resolve() == target.resolve()


@pytest.mark.parametrize("name", ["missing.json", "folder.json"])
def test_missing_or_folder_refused(repo: Path, name: str) -> None:
    (repo / "folder.json").mkdir()
    with pytest.raises(UnsafeDelete):
        remove_reversibly([repo / name], repo)


def test_without_git_everything_goes_to_plain_trash(tmp_path: Path) -> None:
    root = tmp_path / "plain"
    path = write(root / "recordings" / "a.json", b'{"a": 1}\n')
    assert trash_folder(root) == root / PLAIN_TRASH_FOLDER
    batch = remove_reversibly([path], root)
    assert batch.trashed == 1
    assert not path.exists()
    # Nothing under the trash looks like a recording to a walker.
    assert not [p for p in (root / PLAIN_TRASH_FOLDER).rglob("*.json") if p.name != "manifest.json"]
    assert restore_last(root) == [path]
    assert path.read_bytes() == b'{"a": 1}\n'


def test_bad_manifest_is_an_error(tmp_path: Path) -> None:
    root = tmp_path / "plain"
    batch_dir = root / PLAIN_TRASH_FOLDER / "20260101T000000000000Z"
    write(batch_dir / "manifest.json", b'{"project_root": "/", "entries": [{"path": "../../etc/x", "how": "trash"}]}')
    with pytest.raises(FixtureError, match="bad entry"):
        restore_last(root)


def test_batch_of_another_root_is_not_restored_here(tmp_path: Path) -> None:
    root = tmp_path / "plain"
    batch_dir = root / PLAIN_TRASH_FOLDER / "20260101T000000000000Z"
    write(batch_dir / "manifest.json", b'{"project_root": "/etc", "entries": [{"path": "x", "how": "trash"}]}')
    with pytest.raises(FixtureError, match=r"removed from /etc, not .*plain"):
        restore_last(root)
