"""Why a replay missed, and the command that fixes it: certain when a recording's content hashes to the missing
hash, otherwise the likely causes ranked. Pure: over a miss, the recordings that bear on it and their drift."""

from __future__ import annotations

import posixpath
import shlex
from collections.abc import Callable, Sequence

from llm_fixtures.checking.placement import expected_folder
from llm_fixtures.explaining.candidates import Related, endpoint_of
from llm_fixtures.explaining.drift import Drift
from llm_fixtures.explaining.model import Candidate, Cause, Explanation, Miss, RankedCause
from llm_fixtures.facts import split_test_id
from llm_fixtures.hashing import rule_named
from llm_fixtures.humanizing import plural

_RENAMED = ("stale", "mismatch")


def _command(*words: str) -> str:
    return shlex.join(words)


# How every fix that re-records a test begins.
RERECORD = "fixtures rerecord "


def _rerecord(test_id: str, *, prune: bool = False) -> str:
    return _command("fixtures", "rerecord", test_id, *(["--prune-superseded"] if prune else []))


def _rename(paths: Sequence[str]) -> str:
    return _command("fixtures", "check", "--rename", "--write", *paths)


def _wanted_name(candidate: Candidate, digest: str) -> str:
    """The file name replay looks for, as the rule that matched names files: `<hash>.json`, `<hash[:12]>.json`
    for the 12-hex era, or for a model list `models-<hash>-<digest8>.json` (the digest of its model ids)."""
    name = posixpath.basename(candidate.path)
    rule = rule_named(candidate.replays_as) if candidate.replays_as else None
    if rule is not None and rule.style == "short":
        return f"{digest[:12]}.json"
    if name.startswith("models-") and name.count("-") == 2:
        return f"models-{digest}-{name.rsplit('-', 1)[1]}"
    return f"{digest}.json"


def recordings_folder(test_id: str | None) -> str | None:
    """The folder the recorder reads a test's recordings from (`check`'s placement rule), if the test is known."""
    return expected_folder(test_id) if test_id and "::" in test_id else None


def _in_folder(path: str, folder: str | None) -> bool:
    parent = posixpath.dirname(path.replace("\\", "/"))
    return folder is not None and (parent == folder or parent.endswith("/" + folder))


def _certain(miss: Miss, candidates: list[Candidate]) -> tuple[Cause, str, list[str]] | None:
    """The cause when a recording's content is exactly the request replay looked for."""
    digest = miss.hash
    if digest is None:
        return None
    folder = recordings_folder(miss.test_id)
    for candidate in sorted(candidates, key=lambda c: (c.relation != "this-test", c.path)):
        if candidate.replays_as is None:
            continue
        wanted = _wanted_name(candidate, digest)
        if posixpath.basename(candidate.path) == wanted:
            reason = f"{candidate.path} is the recording replay looked for, under the name it looks for"
            return "present", reason + " (added after this run, or the run used another checkout)", []
        moved = candidate.relation == "other-test" and miss.test_id is not None
        if moved or (miss.kind == "tool" and folder is not None and not _in_folder(candidate.path, folder)):
            reason = (
                f"{candidate.path} (test {candidate.test_id}) holds exactly the request replay looked for: the "
                f"test was renamed or moved, and its recordings were left under the old test id"
            )
            if candidate.test_gone:
                reason += f" ({candidate.test_gone})"
            assert miss.test_id is not None
            return "moved-test", reason, [_rerecord(miss.test_id), _command("fixtures", "prune")]
        target = posixpath.join(posixpath.dirname(candidate.path), wanted)
        reason = (
            f"{candidate.path} is the recording replay looks for: its content hashes to {digest[:12]}… under "
            f"the {candidate.replays_as} rule, but it is named "
        )
        reason += "by an older rule" if candidate.status == "stale" else "otherwise"
        if candidate.check_cause:
            reason += f" ({candidate.check_cause})"
        if candidate.expected_name == wanted:
            return "stale-name", reason + "; renamed, replay finds it", [_rename([candidate.path])]
        reason += f"; the recorder of this run still uses the {candidate.replays_as} rule, so rename it by hand"
        return "stale-name", reason, [_command("mv", "-n", "--", candidate.path, target)]
    return None


def _params(test_ids: Sequence[str]) -> str:
    shown = [f"[{test_id.split('[', 1)[1]}" if "[" in test_id else test_id for test_id in test_ids[:3]]
    return ", ".join(shown) + (f" and {len(test_ids) - 3} more" if len(test_ids) > 3 else "")


def _never_recorded(miss: Miss, candidates: list[Candidate]) -> RankedCause:
    others = [c for c in candidates if c.relation == "other-parametrization" and c.test_id]
    same = sorted({c.test_id for c in others if c.model == miss.model and c.test_id})
    models = sorted({c.model for c in others if c.model != miss.model and c.model})
    elsewhere = sorted({c.test_id for c in others if c.model != miss.model and c.test_id})
    call = ", ".join(
        part for part in (endpoint_of(miss), miss.model if miss.kind in ("inference", "genai") else None) if part
    )
    reason = f"no recording of this test for this call ({call or miss.kind})"
    if elsewhere and same:
        reason += (
            f"; it was recorded with {', '.join(models)} ({_params(elsewhere)}) and other cases of it with "
            f"{miss.model} ({_params(same)}): this case was never recorded with this setup"
        )
    elif elsewhere:
        reason += (
            f"; it was recorded with {', '.join(models)} only ({_params(elsewhere)}): this setup is not in the "
            f"record matrix"
        )
    elif same:
        reason += f"; other cases of it were ({_params(same)}): this case is new, or was never recorded"
    else:
        reason += ": the test was never recorded (new, or its setup is not in the record matrix)"
    return RankedCause("never-recorded", reason)


def relevant(miss: Miss, candidate: Candidate) -> bool:
    """Whether another test's recording is worth showing for a miss: it holds the very request, or it may be
    the old id of a renamed or moved test."""
    return candidate.relation != "other-test" or candidate.replays_as is not None or bool(_moved(miss, [candidate]))


def _moved(miss: Miss, candidates: list[Candidate]) -> list[Candidate]:
    """Recordings of another test of the same call whose test is gone and that shares the missing test's file or
    function name: the likely old id of a renamed or moved test."""
    test_file, function = split_test_id(miss.test_id)
    name = function.rsplit("::", 1)[-1] if function else None
    found = []
    for candidate in candidates:
        if candidate.relation != "other-test" or not candidate.test_gone:
            continue
        other_file, other_function = split_test_id(candidate.test_id)
        other_name = other_function.rsplit("::", 1)[-1] if other_function else None
        if other_file == test_file or (name is not None and other_name == name):
            found.append(candidate)
    return found


def _ranked(miss: Miss, candidates: list[Candidate], drift: Drift | None) -> list[RankedCause]:
    this = [c for c in candidates if c.relation == "this-test"]
    ranked: list[RankedCause] = []
    if miss.test_id is None:
        ranked.append(RankedCause("unknown-test", "the log does not name the test that missed"))
        return ranked
    moved = _moved(miss, candidates)
    if not this:
        if moved:
            old = sorted({c.test_id for c in moved if c.test_id})
            ranked.append(
                RankedCause(
                    "moved-test",
                    f"recordings of the same call remain under {', '.join(old[:3])}, a test that is gone "
                    f"({moved[0].test_gone}): a renamed or moved test",
                )
            )
        others = sorted({c.model or "?" for c in candidates if c.relation == "other-model"})
        if others:
            ranked.append(
                RankedCause(
                    "model-changed",
                    f"this test recorded the same call with {', '.join(others)}, not {miss.model}: its model changed",
                )
            )
        ranked.append(_never_recorded(miss, candidates))
        return ranked
    stale = [c for c in this if c.status in _RENAMED]
    if stale and len(stale) == len(this):
        ranked.append(
            RankedCause(
                "stale-names",
                f"every recording of this test for this call is named by an older rule or edited after recording "
                f"({len(stale)}): a hashing change; renamed, they may be what replay looks for",
            )
        )
    if drift is not None:
        fields = ", ".join(field.field for field in drift.fields)
        ranked.append(
            RankedCause(
                "drift",
                f"{len(drift.duplicates)} recordings of this test differ from each other only in {fields}: the "
                f"request changes from run to run, so replay misses again after each re-record",
            )
        )
    if stale and len(stale) < len(this):
        ranked.append(RankedCause("stale-names", f"{len(stale)} of its {len(this)} recordings have stale names"))
    ranked.append(
        RankedCause(
            "request-changed",
            f"this test has {plural(len(this), 'recording')} for this call, none of them the request it sent now: the "
            f"request changed since it was recorded",
        )
    )
    if moved:
        ranked.append(RankedCause("moved-test", f"recordings of the same call remain under {moved[0].test_id}"))
    return ranked


def _fix(cause: Cause, miss: Miss, candidates: list[Candidate]) -> list[str]:
    test = miss.test_id
    if test is None:
        return []
    if cause == "stale-names":
        stale = [c.path for c in candidates if c.relation == "this-test" and c.status in _RENAMED]
        return [_rename(stale), _rerecord(test, prune=True)]
    if cause == "moved-test":
        return [_rerecord(test), _command("fixtures", "prune")]
    if cause == "never-recorded":
        return [_rerecord(test)]
    if cause in ("drift", "request-changed", "model-changed"):
        return [_rerecord(test, prune=True)]
    return []


def explain(
    miss: Miss, related: Related, candidates: list[Candidate], drift_of: Callable[[], Drift | None]
) -> Explanation:
    """The explanation of one miss; `drift_of` finds the drift among the test's recordings, asked only when no
    recording is certainly the one."""
    explanation = Explanation(
        test_id=miss.test_id,
        hash=miss.hash or miss.hash_prefix,
        endpoint=endpoint_of(miss),
        model=miss.model,
        kind=miss.kind,
        url=miss.url,
        line=miss.line,
        candidates=candidates,
        cause="unknown-test",
        certain=False,
        reason="",
        causes=[],
        drift=[],
        fix=[],
    )
    if miss.rejected_test_id is not None:
        explanation.notes.append("the test id the log gives is not a plain relative node id; it is not used")
    if miss.hash is None and miss.hash_prefix is not None:
        explanation.notes.append("the log cut the hash short; only its first digits are known")
    folder = recordings_folder(miss.test_id)
    named = [facts.path for facts in related.named if miss.test_id is None or _in_folder(facts.path, folder)]
    if named:
        explanation.cause, explanation.certain = "present", True
        explanation.reason = (
            f"{named[0]} is the recording replay looked for: it is there now (added after this run, or the run "
            f"used another checkout); run the replay again"
        )
        explanation.causes = [RankedCause("present", explanation.reason)]
        return explanation
    certain = _certain(miss, candidates)
    if certain is not None:
        explanation.cause, explanation.reason, explanation.fix = certain
        explanation.certain = True
        explanation.causes = [RankedCause(explanation.cause, explanation.reason)]
        return explanation
    drift = drift_of()
    explanation.drift = drift.fields if drift is not None else []
    explanation.causes = _ranked(miss, candidates, drift)
    top = explanation.causes[0]
    explanation.cause, explanation.reason = top.cause, top.reason
    explanation.fix = _fix(top.cause, miss, candidates)
    return explanation
