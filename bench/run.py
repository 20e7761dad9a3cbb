"""Benchmarks of the issues' speed targets, as ratios against baselines measured in the same run.

Usage: python bench/run.py [--copies 13] [--scale]   (needs ../shared/corpus beside the repository)
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus import DEFAULT_DEST, SOURCE, build

# Read and parse every file, as fast as Python can: orjson, and the standard library for the few files orjson
# refuses (lone UTF-16 surrogates), exactly as fixtures does.
PARSE_ONLY = """
import sys, os, json, orjson
for root, _dirs, files in os.walk(sys.argv[1]):
    for name in files:
        if name.endswith('.json'):
            with open(os.path.join(root, name), 'rb') as handle:
                data = handle.read()
            try:
                orjson.loads(data)
            except orjson.JSONDecodeError:
                json.loads(data)
"""
JQ_LISTING = (
    "jq -c '{path: input_filename, test_id, endpoint: .request.endpoint, model: .request.model,"
    ' streaming: .response.is_streaming, chunks: (if (.response.body|type) == "array" then'
    " (.response.body|length) else 0 end)}'"
)


def timed(command: Sequence[str] | str, env: dict[str, str], repeat: int = 5, empty: str | None = None) -> float:
    """Best wall time of a command over `repeat` runs, output discarded (the minimum is the least disturbed by
    whatever else the machine does). `empty`: a folder (the user cache) removed before each run."""
    times = []
    for _ in range(repeat):
        if empty is not None:
            shutil.rmtree(empty, ignore_errors=True)
        start = time.perf_counter()
        subprocess.run(
            command,
            env=env,
            shell=isinstance(command, str),
            check=False,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        times.append(time.perf_counter() - start)
    return min(times)


def interleaved(
    commands: dict[str, tuple[Sequence[str], str | None]], env: dict[str, str], rounds: int
) -> dict[str, float]:
    """Best wall time of each command over `rounds` rounds, each round running every command once, in order.
    A command's folder (its user cache), when given, is removed before it runs."""
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(rounds):
        for name, (command, empty) in commands.items():
            times[name].append(timed(command, env, repeat=1, empty=empty))
    return {name: min(values) for name, values in times.items()}


def jq_file_list(corpus: Path) -> Path:
    """The files jq can read, NUL-separated: jq 1.6 rejects lone surrogate escapes and stops its whole batch, so
    the files holding them (copies of one synthetic stream) are left out of its run (and so favour jq)."""
    listed = corpus.parent / ".jq-files"
    names = []
    for path in sorted(corpus.rglob("*.json")):
        if not re.search(rb"\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u)", path.read_bytes()):
            names.append(str(path))
    listed.write_bytes(b"\0".join(name.encode() for name in names) + b"\0")
    return listed


def fixtures(*args: str) -> list[str]:
    return [sys.executable, "-m", "llm_fixtures", *args]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--copies", type=int, default=13)
    parser.add_argument("--rounds", type=int, default=7, help="rounds of the interleaved runs (best of)")
    parser.add_argument("--scale", action="store_true", help="also time ls at 10x the corpus")
    args = parser.parse_args()
    if not SOURCE.is_dir():
        sys.exit(f"error: {SOURCE} is not present")
    files, size = build(DEFAULT_DEST, args.copies)
    # Byte-compiled first, as an installed package is (pip compiles what it installs; an editable checkout writes
    # its .pyc files on first import, unless PYTHONDONTWRITEBYTECODE is set, as it is on some CI machines).
    package = Path(__file__).resolve().parents[1] / "cli" / "llm_fixtures"
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(package)], check=True)
    corpus = str(DEFAULT_DEST)
    print(f"benchmark corpus: {files} recordings, {size / 1e6:.1f} MB in {corpus}")
    cache = tempfile.mkdtemp(prefix="fixtures-bench-cache-")
    env = {**os.environ, "XDG_CACHE_HOME": cache}
    rows: list[tuple[str, float, str]] = []

    # Each round runs, one after the other: the parse-only baseline; `ls` cold (the first run, with an empty
    # user cache, which it fills, as a user's first run does); `ls` warm (the second run: every file unchanged);
    # `ls` on an empty folder (the start-up). Interleaved, so that a slow spell of the machine hits every side of
    # a ratio alike; each figure is the best of its rounds.
    empty = tempfile.mkdtemp(prefix="fixtures-bench-empty-")
    best = interleaved(
        {
            "baseline": ([sys.executable, "-c", PARSE_ONLY, corpus], cache),
            "cold": (fixtures("ls", "--json", corpus), cache),
            "warm": (fixtures("ls", "--json", corpus), None),
            "table": (fixtures("ls", corpus), None),
            "start-up": (fixtures("ls", "--json", empty), None),
        },
        env,
        args.rounds,
    )
    shutil.rmtree(empty, ignore_errors=True)
    baseline, ls_cold, ls_warm, start_up = best["baseline"], best["cold"], best["warm"], best["start-up"]
    rows.append(("parse-only baseline (orjson)", baseline, ""))
    rows.append(("fixtures ls --json (cold)", ls_cold, f"{ls_cold / baseline:.2f}x baseline (target <= 1.5x)"))
    if shutil.which("jq"):
        listed = jq_file_list(Path(corpus))
        jq = timed(f"xargs -0 {JQ_LISTING} < {listed}", env, repeat=1)
        rows.append(("jq listing", jq, f"ls is {ls_cold / jq:.2f}x jq (target <= 0.5x)"))
    rows.append(("fixtures ls --json (warm cache)", ls_warm, f"{ls_warm / ls_cold:.2f}x cold (target <= 0.5x)"))
    table = best["table"]
    rows.append(("fixtures ls table (warm, piped)", table, f"{table / ls_warm:.2f}x ls --json warm (target <= 1.5x)"))
    rows.append(("fixtures ls --json on an empty folder", start_up, "start-up of any command (Python + Typer)"))
    work = f"{(ls_warm - start_up) / (ls_cold - start_up):.2f}x cold"
    rows.append(("warm minus start-up", ls_warm - start_up, f"{work} minus start-up"))

    extra = Path(__file__).resolve().parent / "extra.py"
    if extra.is_file():
        for name, seconds, note in subprocess_rows(extra, corpus, env, args.rounds):
            rows.append((name, seconds, note))

    if args.scale:
        big = DEFAULT_DEST.parent / ".corpus-10x"
        build(big, args.copies * 10)
        ls_big = timed(fixtures("ls", "--json", str(big)), env, repeat=2, empty=cache)
        rows.append(
            (
                "fixtures ls --json at 10x (cold)",
                ls_big,
                f"{ls_big / ls_cold:.1f}x the 1x time (target <= 11x)",
            )
        )

    width = max(len(name) for name, _, _ in rows)
    for name, seconds, note in rows:
        print(f"{name:<{width}}  {seconds:7.3f} s  {note}")
    shutil.rmtree(cache, ignore_errors=True)


def subprocess_rows(script: Path, corpus: str, env: dict[str, str], rounds: int) -> list[tuple[str, float, str]]:
    """Rows from bench/extra.py (the other commands' targets), which prints `name<TAB>seconds<TAB>note`."""
    done = subprocess.run(
        [sys.executable, str(script), corpus, str(rounds)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    rows = []
    for line in done.stdout.splitlines():
        name, seconds, note = line.split("\t")
        rows.append((name, float(seconds), note))
    return rows


if __name__ == "__main__":
    main()
