"""Reading old versions of files through git itself (`ls-tree`, `cat-file --batch`): no checkout, no clone."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from llm_fixtures.errors import GitError

_REGULAR_FILE_MODES = frozenset({"100644", "100755"})
# Every git call takes paths literally (`--literal-pathspecs`): a file named `x[1].json` is that file, not a glob.
GIT_OPTIONS = ("--literal-pathspecs",)


@dataclass(frozen=True, slots=True)
class Repository:
    """A git work tree: its top folder and the hash its objects are named by (sha1 or sha256)."""

    root: Path
    object_format: str = "sha1"


def _git(args: Sequence[str], cwd: Path, *, stdin: bytes | None = None) -> bytes:
    """Run git; a failure becomes one GitError line (git's own first error line)."""
    executable = shutil.which("git")
    if executable is None:
        raise GitError("git is not installed (or not on PATH)")
    try:
        done = subprocess.run(
            [executable, *GIT_OPTIONS, *args],
            cwd=cwd,
            input=stdin,
            capture_output=True,
            check=False,
        )
    except OSError as exc:
        raise GitError(f"cannot run git: {exc.strerror or exc}") from None
    if done.returncode != 0:
        lines = [line.strip() for line in done.stderr.decode(errors="replace").splitlines() if line.strip()]
        first = next((line for line in lines if line.startswith(("fatal:", "error:"))), lines[0] if lines else "")
        first = first.removeprefix("fatal: ").removeprefix("error: ")
        raise GitError(first or f"git {' '.join(args[:2])} failed with exit code {done.returncode}")
    return done.stdout


def _git_stream(args: Sequence[str], cwd: Path, stdin: bytes) -> bytes:
    """Run git with a large output: input written from a thread while the output is read in one go (faster
    than `communicate` for tens of megabytes, and no deadlock whatever the sizes)."""
    executable = shutil.which("git")
    if executable is None:
        raise GitError("git is not installed (or not on PATH)")
    try:
        process = subprocess.Popen(
            [executable, *GIT_OPTIONS, *args],
            cwd=cwd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
    except OSError as exc:
        raise GitError(f"cannot run git: {exc.strerror or exc}") from None
    assert process.stdin is not None and process.stdout is not None and process.stderr is not None
    pipe = process.stdin

    def feed() -> None:
        try:
            pipe.write(stdin)
            pipe.close()
        except BrokenPipeError:
            pass

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    out = process.stdout.read()
    error = process.stderr.read()
    writer.join()
    if process.wait() != 0:
        message = error.decode(errors="replace").strip().splitlines()
        raise GitError((message[0] if message else f"git {args[0]} failed").removeprefix("fatal: "))
    return out


def open_repository(path: Path) -> Repository:
    """The repository that holds `path` (a file or a folder); GitError when there is none."""
    folder = path if path.is_dir() else path.parent
    if not folder.exists():
        raise GitError(f"{path}: no such file or directory")
    try:
        out = _git(["rev-parse", "--show-toplevel", "--show-object-format"], folder)
    except GitError as exc:
        if "not a git repository" in str(exc):
            raise GitError(f"{folder}: not in a git repository") from None
        raise
    lines = out.decode().splitlines()
    if not lines or not lines[0]:
        raise GitError(f"{folder}: not inside a git work tree")
    fmt = lines[1].strip() if len(lines) > 1 and lines[1].strip() else "sha1"
    return Repository(root=Path(lines[0]), object_format=fmt)


def resolve_revision(repo: Repository, revision: str) -> str:
    """The full commit id `revision` names; GitError naming the revision when it does not exist."""
    if not revision or revision.startswith("-"):
        raise GitError(f"{revision!r} is not a revision")
    try:
        out = _git(["rev-parse", "--verify", "--quiet", "--end-of-options", f"{revision}^{{commit}}"], repo.root)
    except GitError:
        out = b""
    commit = out.decode().strip()
    if not commit:
        raise GitError(f"unknown revision {revision!r} in {repo.root}")
    return commit


def split_range(spec: str) -> tuple[str, str | None]:
    """`A..B` -> (A, B); `REV` -> (REV, None) meaning the working tree. `A...B` is refused (ambiguous here)."""
    if "..." in spec:
        raise GitError(f"{spec!r}: use A..B (two dots) or a single revision")
    old, dots, new = spec.partition("..")
    if not dots:
        return spec, None
    return old or "HEAD", new or "HEAD"


def list_blobs(repo: Repository, commit: str, pathspecs: Sequence[str] = ()) -> dict[str, str]:
    """Every regular file of `commit` under `pathspecs` (repository-relative; all when empty): path -> blob id."""
    out = _git(["ls-tree", "-r", "-z", "--full-tree", commit, "--", *pathspecs], repo.root)
    blobs: dict[str, str] = {}
    for record in out.split(b"\0"):
        if not record:
            continue
        meta, _, name = record.partition(b"\t")
        mode, kind, oid = meta.decode().split(" ")
        if kind == "blob" and mode in _REGULAR_FILE_MODES:
            blobs[name.decode("utf-8", errors="surrogateescape")] = oid
    return blobs


def clean_index_blobs(repo: Repository, pathspecs: Sequence[str] = ()) -> dict[str, str]:
    """Blob ids of the tracked files whose working-tree copy git itself considers unchanged from the index (by
    its stat cache, as `git status` does): path -> blob id. Files git is unsure of are left out (hash them)."""
    staged = _git(["ls-files", "-s", "-z", "--", *pathspecs], repo.root)
    dirty = _git(["diff-files", "--name-only", "-z", "--", *pathspecs], repo.root)
    unsure = {name.decode("utf-8", errors="surrogateescape") for name in dirty.split(b"\0") if name}
    blobs: dict[str, str] = {}
    for record in staged.split(b"\0"):
        if not record:
            continue
        meta, _, name = record.partition(b"\t")
        mode, oid, stage = meta.decode().split(" ")
        path = name.decode("utf-8", errors="surrogateescape")
        if stage == "0" and mode in _REGULAR_FILE_MODES and path not in unsure:
            blobs[path] = oid
    return blobs


def read_blobs(repo: Repository, oids: Iterable[str]) -> dict[str, bytes]:
    """The contents of blobs by id, read in one `git cat-file --batch`."""
    wanted = list(dict.fromkeys(oids))
    if not wanted:
        return {}
    out = _git_stream(["cat-file", "--batch"], repo.root, ("\n".join(wanted) + "\n").encode())
    found: dict[str, bytes] = {}
    view = memoryview(out)
    position = 0
    for oid in wanted:
        end = out.index(b"\n", position)
        header = out[position:end].decode().split(" ")
        position = end + 1
        if len(header) == 2 and header[1] == "missing":
            raise GitError(f"object {oid} is missing from the repository")
        size = int(header[2])
        found[oid] = bytes(view[position : position + size])
        position += size + 1
    return found


def blob_id(data: bytes, object_format: str = "sha1") -> str:
    """The id git gives a blob with these bytes (what `git hash-object` prints, without filters)."""
    digest = hashlib.new(object_format)
    digest.update(b"blob %d\0" % len(data))
    digest.update(data)
    return digest.hexdigest()
