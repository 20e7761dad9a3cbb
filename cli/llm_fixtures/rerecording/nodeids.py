"""The gate of test ids on disk: a node id whose syntax passes (see `llm_fixtures.nodeids`) and whose test file
stays inside the project through every link; and whether the test it names is there."""

from __future__ import annotations

from pathlib import Path

from llm_fixtures.nodeids import syntax_problem, test_file
from llm_fixtures.safepaths import OutsideProject, confined


def node_id_problem(test_id: object, root: Path | None = None) -> str | None:
    """Why `test_id` may not be given to pytest as a node id, or None when it may: its syntax (`nodeids.
    syntax_problem`), and with a root, its test file must stay inside `root` through every link."""
    problem = syntax_problem(test_id)
    if problem is not None or root is None:
        return problem
    assert isinstance(test_id, str)
    try:
        confined(test_file(test_id), root, what="test id")
    except OutsideProject:
        return "its test file leads outside the project"
    return None


def absent_test(root: Path, node_id: str) -> str | None:
    """Why the test a node id names is not there (its file missing, the function or class not defined in it, as
    `prune` reads test files), or None when it is, or when its file cannot tell (a star import, a name bound by
    import)."""
    from llm_fixtures.testfiles import index_file
    from llm_fixtures.testindex import lookup

    file = test_file(node_id)
    if not (root / file).is_file():
        return f"its test file {file} does not exist"
    function = node_id.split("::", 1)[1].split("[", 1)[0]
    presence, reason = lookup(index_file(root / file), function)
    return f"{file} defines no {reason.removesuffix(' gone')}" if presence == "absent" else None
