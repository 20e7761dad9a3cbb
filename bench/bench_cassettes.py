"""Cassette reading against its floor: facts of every cassette (what `ls --json` needs) vs a bare PyYAML C-loader parse
of the same files, interleaved round by round, best of N.

Usage: python bench/bench_cassettes.py [FOLDER] [--files 3000] [--rounds 5]
FOLDER defaults to ../shared/vcr, whose cassettes are copied round-robin into a temporary folder up to --files.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import yaml

from llm_fixtures.cassettes.describing import describe_cassette, describe_interactions
from llm_fixtures.cassettes.reading import read_cassette

REPO = Path(__file__).resolve().parents[1]


def cassettes_in(folder: Path) -> list[Path]:
    return sorted(path for path in folder.rglob("*") if path.suffix in (".yaml", ".yml") and "cassettes" in path.parts)


def floor(paths: list[Path]) -> float:
    start = time.perf_counter()
    for path in paths:
        with path.open("rb") as handle:
            yaml.load(handle.read(), Loader=yaml.CSafeLoader)
    return time.perf_counter() - start


def ours(paths: list[Path]) -> float:
    start = time.perf_counter()
    for path in paths:
        cassette, size = read_cassette(path)
        describe_cassette(cassette, size, describe_interactions(cassette))
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("folder", nargs="?", default=str(REPO.parent / "shared" / "vcr"))
    parser.add_argument("--files", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    source = cassettes_in(Path(args.folder))
    if not source:
        sys.exit(f"no cassettes under {args.folder}")
    with tempfile.TemporaryDirectory() as temp:
        paths = source
        if len(source) < args.files:
            paths = []
            for number in range(args.files):
                original = source[number % len(source)]
                target = Path(temp) / f"copy{number // len(source)}" / original.relative_to(args.folder)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(original, target)
                paths.append(target)
        paths = paths[: args.files]
        total = sum(path.stat().st_size for path in paths)
        best_floor = best_ours = float("inf")
        for _round in range(args.rounds):
            best_floor = min(best_floor, floor(paths))
            best_ours = min(best_ours, ours(paths))
        print(f"{len(paths)} cassettes, {total / 1e6:.1f} MB")
        print(f"PyYAML CSafeLoader parse: {best_floor:.2f} s")
        print(f"cassette facts:           {best_ours:.2f} s  ({best_ours / best_floor:.2f}x the floor; target 1.5x)")


if __name__ == "__main__":
    main()
