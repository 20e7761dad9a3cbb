"""Where `check`'s time goes: the CPU time of each per-file check on one copy of the benchmark corpus, in this
process (no start-up, no worker processes), against `ls`'s per-file work on the same files.

Usage: python bench/checkparts.py [FOLDER] [--rounds 9]   (default FOLDER: bench/.corpus/copy00, which
`python bench/run.py` builds). Each figure is the least CPU time of its rounds, the rounds interleaved, with the
garbage collector paused as the worker processes pause it; a check's own cost is its run minus a run of none.
"""

from __future__ import annotations

import argparse
import gc
import time
from collections.abc import Callable
from pathlib import Path

from llm_fixtures.catalog import _load_one
from llm_fixtures.checking import CHECK_NAMES, CheckOptions
from llm_fixtures.linting import check_file

DEFAULT = Path(__file__).resolve().parent / ".corpus" / "copy00"


def _checker(files: list[str], options: CheckOptions) -> Callable[[], object]:
    return lambda: [check_file((path, path), options) for path in files]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", nargs="?", type=Path, default=DEFAULT)
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()
    files = [str(path) for path in sorted(args.folder.rglob("*.json"))]
    if not files:
        raise SystemExit(f"no recordings under {args.folder}: run `python bench/run.py` first")
    runs: dict[str, Callable[[], object]] = {"ls (per file)": lambda: [_load_one(path) for path in files]}
    selections = {"check, no check": frozenset[str](), "check, every check": frozenset(CHECK_NAMES)}
    selections |= {f"  {name}": frozenset({name}) for name in CHECK_NAMES}
    for label, checks in selections.items():
        runs[label] = _checker(files, CheckOptions(checks=checks))
    for run in runs.values():  # warm: imports, compiled patterns, the files in the page cache
        run()
    best = dict.fromkeys(runs, float("inf"))
    gc.disable()
    for _ in range(args.rounds):
        for label, run in runs.items():
            start = time.process_time()
            run()
            best[label] = min(best[label], time.process_time() - start)
    gc.enable()
    base = best["check, no check"]
    print(f"{len(files)} files in {args.folder}, least CPU time of {args.rounds} rounds")
    for label, seconds in best.items():
        extra = f"  (+{(seconds - base) * 1000:.1f} ms)" if label.startswith("  ") else ""
        print(f"{label:<22} {seconds * 1000:7.1f} ms{extra}")
    print(f"every check / ls: {best['check, every check'] / best['ls (per file)']:.2f}x")


if __name__ == "__main__":
    main()
