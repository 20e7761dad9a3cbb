"""Cassette commands against their floor, interleaved round by round, best of N: facts of every cassette (what
`ls --json` needs) in process, and the `fixtures` commands as subprocesses (`ls --json` cold and warm, `check`,
`show --assemble --json`), against a bare PyYAML C-loader parse of the same files (in process, and as a process).

Usage: python bench/bench_cassettes.py [FOLDER] [--files 3000] [--rounds 5]
FOLDER defaults to ../shared/vcr, whose cassettes are copied round-robin into a temporary folder up to --files.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
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


PARSE_ONLY = """
import os, sys, yaml
for root, _dirs, files in os.walk(sys.argv[1]):
    for name in files:
        if name.endswith(('.yaml', '.yml')) and 'cassettes' in root.split(os.sep):
            with open(os.path.join(root, name), 'rb') as handle:
                yaml.load(handle.read(), Loader=yaml.CSafeLoader)
"""


def timed(argv: list[str], cwd: str, env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - start


def commands(folder: str, rounds: int) -> None:
    """The CLI, cold and warm, against the parse floor as a process."""
    fixtures = str(Path(sys.executable).with_name("fixtures"))
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "XDG_CACHE_HOME": cache}
        best: dict[str, float] = {}

        def keep(name: str, seconds: float) -> None:
            best[name] = min(best.get(name, float("inf")), seconds)

        for _round in range(rounds):
            keep("floor", timed([sys.executable, "-c", PARSE_ONLY, folder], folder, env))
            shutil.rmtree(cache, ignore_errors=True)
            keep("ls cold", timed([fixtures, "ls", "--json", "."], folder, env))
            keep("ls warm", timed([fixtures, "ls", "--json", "."], folder, env))
            keep("check", timed([fixtures, "check", "--json", "."], folder, env))
            keep("show --assemble", timed([fixtures, "show", "--assemble", "--json", "."], folder, env))
        floor = best["floor"]
        cold, warm = best["ls cold"], best["ls warm"]
        print(f"parse floor (process):    {floor:.2f} s")
        print(f"ls --json cold:           {cold:.2f} s  ({cold / floor:.2f}x the floor; target 1.5x)")
        print(f"ls --json warm:           {warm:.2f} s  ({warm / cold:.2f}x cold; target 0.5x)")
        for name in ("check", "show --assemble"):
            print(f"{name + ':':<26}{best[name]:.2f} s  ({best[name] / best['ls cold']:.2f}x cold ls; target 2x)")


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
        (Path(temp) / "pyproject.toml").write_text("")
        commands(temp if len(source) < args.files else args.folder, args.rounds)


if __name__ == "__main__":
    main()
