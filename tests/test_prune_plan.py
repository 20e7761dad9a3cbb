"""The prune plan: which recordings each tier orphans, and which are never orphans."""

from __future__ import annotations

import pytest

from llm_fixtures.pruning import Candidate, CollectedTests, UsageEvidence, plan_prune
from llm_fixtures.testindex import TestFileIndex, index_source

F = "tests/integration/s/test_f.py"
INDEXES = {
    "f": index_source(
        "import pytest\n\ndef test_a(x):\n    pass\n\nclass TestK:\n    def test_m(self):\n        pass\n"
    ),
    "gone": TestFileIndex("missing", "test file gone"),
    "broken": index_source("def test_a(:\n"),
    "unsafe": TestFileIndex("unsafe", "the test id names a path outside the project"),
}


def cand(
    path: str, test_id: str | None, key: str | None = "f", *, model_list: bool = False, size: int = 10
) -> Candidate:
    function = test_id.split("::", 1)[1].split("[", 1)[0] if test_id and "::" in test_id else None
    return Candidate(
        path=path,
        test_id=test_id,
        test_key=key if test_id else None,
        function=function,
        model_list=model_list,
        bytes=size,
        location=f"/abs/{path}",
    )


def orphan_paths(*candidates: Candidate, **kwargs: object) -> dict[str, str]:
    plan = plan_prune(list(candidates), INDEXES, **kwargs)  # type: ignore[arg-type]
    return {orphan.path: orphan.reason for orphan in plan.orphans}


@pytest.mark.parametrize(
    ("candidate", "reason"),
    [
        (cand("a.json", f"{F}::test_a[1]"), None),
        (cand("b.json", f"{F}::test_b[1]"), "function test_b gone"),
        (cand("c.json", f"{F}::TestK::test_m"), None),
        (cand("d.json", f"{F}::TestK::test_n"), "method TestK::test_n gone"),
        (cand("e.json", f"{F}::TestGone::test_m"), "class TestGone gone"),
        (cand("g.json", "tests/integration/s/test_gone.py::test_a", "gone"), "test file gone"),
        (cand("h.json", "tests/integration/s/test_gone.py::test_a", "gone", model_list=True), "test file gone"),
        (cand("i.json", f"{F}::test_b", model_list=True), "function test_b gone"),
        (cand("j.json", "tests/integration/s/test_broken.py::test_gone", "broken"), None),
        (cand("k.json", "../../x/test_a.py::test_gone", "unsafe"), None),
        (cand("l.json", None), None),
    ],
)
def test_static_tier(candidate: Candidate, reason: str | None) -> None:
    assert orphan_paths(candidate).get(candidate.path) == reason


def test_undecided_are_listed_with_their_reason() -> None:
    plan = plan_prune(
        [
            cand("j.json", "tests/integration/s/test_broken.py::test_gone", "broken"),
            cand("k.json", "../x.py::t", "unsafe"),
        ],
        INDEXES,
    )
    assert plan.orphans == []
    reasons = {item.path: item.reason for item in plan.undecided}
    assert "does not parse" in reasons["j.json"]
    assert "outside the project" in reasons["k.json"]


COLLECTED = CollectedTests.of({f"{F}::test_a[1]", f"{F}::TestK::test_m"})


@pytest.mark.parametrize(
    ("candidate", "reason"),
    [
        (cand("a.json", f"{F}::test_a[1]"), None),
        (cand("b.json", f"{F}::test_a[2]"), "parametrization no longer collected"),
        (cand("c.json", f"{F}::test_a"), "parametrization no longer collected"),
        (cand("d.json", f"{F}::test_a[2]", model_list=True), None),
        # A test file the collection did not cover: never judged by it.
        (cand("e.json", "tests/integration/other/test_o.py::test_a[9]"), None),
        (cand("f.json", None), None),
    ],
)
def test_collect_tier(candidate: Candidate, reason: str | None) -> None:
    assert orphan_paths(candidate, collected=COLLECTED).get(candidate.path) == reason


def test_collect_tier_leaves_deselected_functions_to_the_static_tier() -> None:
    # test_a is still in the file but no run listed any of its ids (deselected by -k or -m in every run).
    collected = CollectedTests.of({f"{F}::TestK::test_m"})
    assert orphan_paths(cand("a.json", f"{F}::test_a[1]"), collected=collected) == {}


USAGE = UsageEvidence.of({f"{F}::test_a[1]"}, {"/abs/used.json"})


@pytest.mark.parametrize(
    ("candidate", "reason", "include_shared"),
    [
        (cand("used.json", f"{F}::test_a[1]"), None, False),
        (cand("stale.json", f"{F}::test_a[1]"), "superseded: its test passed without reading it", False),
        (cand("failed.json", f"{F}::test_a[2]"), None, False),
        (cand("models.json", f"{F}::test_a[1]", model_list=True), None, False),
        (cand("shared.json", None), None, False),
        (cand("shared.json", None), "shared recording never read during the replay run", True),
        (cand("used.json", None), None, True),
        # A folder the run never read from says nothing about its shared recordings.
        (cand("elsewhere/shared.json", None), None, True),
    ],
)
def test_unused_tier(candidate: Candidate, reason: str | None, include_shared: bool) -> None:
    found = orphan_paths(candidate, usage=USAGE, include_shared=include_shared)
    assert found.get(candidate.path) == reason


@pytest.mark.parametrize(
    ("candidate", "reason", "include_shared"),
    [
        (cand("x.json", f"{F}::test_a[1]"), "unreachable: stale", False),
        (cand("y.json", f"{F}::test_a[1]"), None, False),
        (cand("x.json", f"{F}::test_a[1]", model_list=True), None, False),
        (cand("x.json", None), None, False),
        (cand("x.json", None), "unreachable: stale", True),
    ],
)
def test_unreachable_tier(candidate: Candidate, reason: str | None, include_shared: bool) -> None:
    found = orphan_paths(candidate, unreachable={"x.json": "unreachable: stale"}, include_shared=include_shared)
    assert found.get(candidate.path) == reason


def test_static_reason_wins_and_order_is_by_test_file_then_path() -> None:
    plan = plan_prune(
        [
            cand("z/2.json", "tests/integration/s/test_gone.py::test_a", "gone", size=5),
            cand("z/1.json", f"{F}::test_b", size=7),
            cand("a/9.json", "tests/integration/s/test_gone.py::test_b", "gone", size=1),
        ],
        INDEXES,
        unreachable={"z/1.json": "unreachable: stale"},
    )
    assert [(o.path, o.reason) for o in plan.orphans] == [
        ("z/1.json", "function test_b gone"),
        ("a/9.json", "test file gone"),
        ("z/2.json", "test file gone"),
    ]
    assert plan.orphan_bytes == 13
    assert plan.tiers == ["static", "unreachable"]
    assert plan.scanned == 3


def test_json_shape_is_path_test_id_reason_bytes() -> None:
    plan = plan_prune([cand("b.json", f"{F}::test_b")], INDEXES)
    assert set(plan.orphans[0].json_document()) == {"path", "test_id", "reason", "bytes"}
