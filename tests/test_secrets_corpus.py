"""The secrets check against two references: the real recordings (where it must find nothing) and a plain scan
that tries every pattern at every offset (which its anchors must never make it miss)."""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest

from conftest import corpus_files
from llm_fixtures.checking.secrets import check_secrets
from llm_fixtures.checking.size import image_spans
from llm_fixtures.scanning import (
    _ONE_PASS,
    _PASSES,
    _RULES,
    Deferred,
    _candidates,
    _matches,
    _one_pass_candidates,
    find_secrets,
)


@pytest.mark.usefixtures("corpus")  # skips when ../shared/corpus is absent
def test_the_corpus_holds_no_secret() -> None:
    """Zero findings on ../shared/corpus, searched whole and with its inline images skipped, as `check` does."""
    files = corpus_files()
    assert files
    for path in files:
        data = path.read_bytes()
        assert check_secrets(str(path), data) == [], path
        assert check_secrets(str(path), data, images=image_spans(data)) == [], path


def every_candidate(data: bytes) -> Iterator[tuple[int, str, Deferred]]:
    """Every rule at every offset, in file order: what the anchors narrow down."""
    rules = [(kind, pattern) for _anchor, _separated, of in _PASSES for kind, _at, _offsets, pattern in of]
    for offset in range(len(data)):
        for kind, pattern in rules:
            yield offset, kind, pattern


# Whole secrets of every kind, their prefixes cut short, and the bytes around anchors, to be run together.
_FRAGMENTS = [
    "sk-proj-" + "a1B2c3D4" * 4,
    "sk-ant-api03-" + "x" * 24,
    "sk_live_" + "a1B2" * 6,
    "rk_live_" + "a1B2" * 6,
    "gsk_" + "a1B2" * 13,
    "AKIA" + "ABCDEFGHIJKLMNOP",
    "AIza" + "S" * 35,
    "ya29." + "a0AfH6" * 6,
    "ghp_" + "a" * 36,
    "github_pat_" + "A1b2C3d4E5f6G7h8I9j0K1" + "_" + "x9Y8w7V6u5" * 6,
    "hf_" + "AbCdEfGhIj" * 3 + "KlMn",
    "xoxb-1234567890-abcdef",
    "xai-" + "Q1w2E3r4T5" * 8,
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
    "eyJ-x_y-z0a1.eyJ0-_xYz9ab.abcdefghij-_klmnop",
    "Bearer abcdefghijklmnopqrstu",
    "bearer abcdefghijklmnopqrstu",
    "BEARER abcdefghijklmnopqrstu",
    "Bearer    abcdefghijklmnopqrstu",  # four spaces, then six (the one-pass form's two branches)
    "bearer      abcdefghijklmnopqrstu",
    "-----BEGIN RSA PRIVATE KEY-----",
    "-----BEGIN PRIVATE KEY-----",
    "-----BEGIN ENCRYPTED PRIVATE KEY-----",
    "-----BEGIN X PRIVATE KEY-----",
    f"-----BEGIN {'Z' * 20} PRIVATE KEY-----",
    *("sk-", "sk_", "rk_", "gsk_", "ghp_", "gh", "github_pat_", "hf_", "hub_pat_", "xox", "xai-", "ya29", "ya29."),
    *("eyJ", "eyJhbGciOiJ9.", ".eyJzdWIiOiIxIn0.", "earer ", "EARER", "ARER ", "RSA ", "PRIVATE KEY-----"),
    *("A", "k", "h", "x", "y", "J", "e", "-", "_", ".", " ", "  ", '"', ",", "QUJD", "abc", "0123"),
]


def test_the_anchors_miss_nothing_a_plain_scan_finds() -> None:
    """Random runs of the fragments above, with no separator between them: the anchors' candidates give the
    same findings as trying every pattern everywhere (and so do the patterns of the one-pass engine), and
    between them the runs hold every kind."""
    generator = random.Random(20260526)
    kinds: set[str] = set()
    for _ in range(400):
        text = "".join(generator.choice(_FRAGMENTS) for _ in range(generator.randint(1, 8)))
        data = text.encode()
        expected = list(_matches(data, every_candidate(data)))
        assert list(_matches(data, _candidates(data))) == expected, text
        if _ONE_PASS.available():  # the engine of large files, where Hyperscan is installed
            assert list(_matches(data, _one_pass_candidates(data))) == expected, text
        kinds.update(kind for _offset, kind, _secret in expected)
    assert kinds == {kind for _anchor, _separated, of in _PASSES for kind, *_rest in of}


@pytest.mark.parametrize(
    "unit",
    [b"eyJ", b"sk-", b"AKIA", b"hf_", b"ghp_", b"xoxb", b"PRIVATE KEY-----", b"-----BEGIN "],
)
@pytest.mark.skipif(not _ONE_PASS.available(), reason="Hyperscan is not installed on this platform")
def test_a_run_of_one_kind_costs_one_candidate_not_one_per_repetition(unit: bytes) -> None:
    """A large input made of one kind's prefix over and over (a hostile file): the one-pass engine matches only
    where the kind's lookbehind allows a secret to start, at the start of the run, so that 4 MB of it are a few
    candidates to try, not a million calls back into Python. (Prefixes apart, as in `x sk-x sk-`, `\\nsk-` or
    `ya29.ya29.`, are each the possible start of a secret, and cost one call each, as in the regex passes.)"""
    data = unit * (4_000_000 // len(unit))
    assert len(_one_pass_candidates(data)) <= 3 * len(_RULES)


def test_without_hyperscan_a_large_file_is_scanned_by_the_regex_passes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Where Hyperscan has no wheel (or will not load), `check` finds the same secrets in a large file."""
    secrets = b" ".join(fragment.encode() for fragment in _FRAGMENTS[:20])
    data = b"x" * 5000 + b" " + secrets + b" " + b"y" * 5000
    with_it = find_secrets(data, one_pass=True) if _ONE_PASS.available() else None
    monkeypatch.setattr(_ONE_PASS, "_loaded", False)
    without = find_secrets(data, one_pass=True)
    assert without == find_secrets(data)
    assert len({secret.kind for secret in without}) >= 12
    if with_it is not None:
        assert with_it == without


@pytest.mark.usefixtures("corpus")  # skips when ../shared/corpus is absent
@pytest.mark.skipif(not _ONE_PASS.available(), reason="Hyperscan is not installed on this platform")
def test_both_engines_find_the_same_secrets_planted_in_real_recordings() -> None:
    """The largest real recordings, with runs of the fragments above planted at random places: the one-pass
    engine finds exactly what the regex passes find, and between them every kind."""
    generator = random.Random(20261206)
    files = sorted(corpus_files(), key=lambda path: path.stat().st_size, reverse=True)[:24]
    kinds: set[str] = set()
    for path in files:
        data = bytearray(path.read_bytes())
        for _ in range(40):
            planted = "".join(generator.choice(_FRAGMENTS) for _ in range(generator.randint(1, 4)))
            position = generator.randrange(len(data))
            data[position:position] = planted.encode()
        text = bytes(data)
        expected = list(_matches(text, _candidates(text)))
        assert list(_matches(text, _one_pass_candidates(text))) == expected, path
        kinds.update(kind for _offset, kind, _secret in expected)
    assert len(kinds) >= 12
