"""What making output safe costs, and the ls table against ls --json, on the benchmark corpus.

Usage: python bench/output.py [--rounds 7] [--width 120]   (after bench/run.py has built bench/.corpus)

- the `ls` table, warm, piped and on a pseudo-terminal, against `ls --json` warm (issue 14: <= 1.5x);
- the masking of `ls --json` and `check --json`: the time `sanitizing.clean_json` takes over each command's real
  output, in process, against the command's wall time;
- the secrets scan over ../shared/corpus: the anchored passes against one combined alternation of the anchors.
Interleaved round by round, best of the rounds (the machine is shared: ratios, not seconds, are the figures).
"""

from __future__ import annotations

import argparse
import fcntl
import functools
import os
import pty
import re
import resource
import struct
import subprocess
import sys
import tempfile
import termios
import time
import timeit
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO / "bench" / ".corpus"
SOURCE = REPO.parent / "shared" / "corpus"


def fixtures(*args: str) -> list[str]:
    return [sys.executable, "-m", "llm_fixtures", *args]


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def piped(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall, CPU) seconds of a command, its output discarded. CPU time (user and system, of the command alone)
    moves far less than wall time when other work shares the machine."""
    cpu, start = _children_cpu(), time.perf_counter()
    subprocess.run(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - start, _children_cpu() - cpu


def on_terminal(command: list[str], env: dict[str, str], width: int) -> tuple[float, float]:
    """(wall, CPU) of a command whose stdout is a pseudo-terminal `width` columns wide (its output drained)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, width, 0, 0))
    cpu, start = _children_cpu(), time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=slave, stderr=subprocess.DEVNULL)
    os.close(slave)
    while True:
        try:
            if not os.read(master, 1 << 16):
                break
        except OSError:
            break
    process.wait()
    os.close(master)
    return time.perf_counter() - start, _children_cpu() - cpu


def best(runs: dict[str, Callable[[], tuple[float, float]]], rounds: int) -> dict[str, tuple[float, float]]:
    """Best wall and best CPU time of each run, the runs interleaved round by round."""
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in runs}
    for _ in range(rounds):
        for name, run in runs.items():
            times[name].append(run())
    return {name: (min(t[0] for t in values), min(t[1] for t in values)) for name, values in times.items()}


def _clean_all(clean: Callable[[bytes], bytes], chunks: list[bytes]) -> None:
    for chunk in chunks:
        clean(chunk)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--width", type=int, default=120)
    args = parser.parse_args()
    if not CORPUS.is_dir():
        sys.exit(f"error: {CORPUS} is not there: run python bench/run.py first")
    corpus = str(CORPUS)
    env = {**os.environ, "XDG_CACHE_HOME": tempfile.mkdtemp(prefix="fixtures-bench-cache-")}
    env.pop("COLUMNS", None)
    piped(fixtures("ls", "--json", corpus), env)  # fill the cache: every run below is warm
    piped(fixtures("check", "--json", corpus), env)
    times = best(
        {
            "ls --json": lambda: piped(fixtures("ls", "--json", corpus), env),
            "ls (piped)": lambda: piped(fixtures("ls", corpus), env),
            "ls (terminal)": lambda: on_terminal(fixtures("ls", corpus), env, args.width),
            "ls --json (terminal)": lambda: on_terminal(fixtures("ls", "--json", corpus), env, args.width),
            "check --json": lambda: piped(fixtures("check", "--json", corpus), env),
        },
        args.rounds,
    )
    print(f"warm, best of {args.rounds} interleaved rounds, {corpus}")
    for name in ("ls (piped)", "ls (terminal)"):
        (wall, cpu), (base_wall, base_cpu) = (
            times[name],
            times["ls --json (terminal)" if "terminal" in name else "ls --json"],
        )
        print(
            f"  {name:<14} wall {wall:.3f} s = {wall / base_wall:.2f}x, CPU {cpu:.3f} s = {cpu / base_cpu:.2f}x"
            " ls --json warm (target <= 1.5x)"
        )

    from llm_fixtures.sanitizing import clean_json  # the JSON writer's sink, timed on the real output

    for name, command in (("ls --json", ["ls", "--json"]), ("check --json", ["check", "--json"])):
        output = subprocess.run(fixtures(*command, corpus), env=env, capture_output=True, check=False).stdout
        chunks = [output[i : i + (1 << 18)] for i in range(0, len(output), 1 << 18)]
        masking = min(timeit.repeat(functools.partial(_clean_all, clean_json, chunks), number=1, repeat=7))
        share = masking / times[name][1]
        size = len(output) / 1e6
        print(f"  masking {name:<14} {masking * 1000:.1f} ms over {size:.1f} MB: {share:.1%} of the command's CPU time")

    if SOURCE.is_dir():
        from llm_fixtures import scanning

        files = [path.read_bytes() for path in SOURCE.rglob("*.json")]
        passes = [anchor for anchor, _separated, _rules in scanning._PASSES]
        combined = re.compile(b"|".join(b"(?:" + anchor.pattern + b")" for anchor in passes))

        def scan(patterns: list[re.Pattern[bytes]]) -> None:
            for data in files:
                for pattern in patterns:
                    match = pattern.search(data)
                    while match is not None:
                        match = pattern.search(data, match.start() + 1)

        anchored = min(timeit.repeat(lambda: scan(passes), number=1, repeat=7))
        alternation = min(timeit.repeat(lambda: scan([combined]), number=1, repeat=7))
        size = sum(map(len, files)) / 1e6
        print(f"secrets scan over {size:.1f} MB: {len(passes)} anchored passes {anchored * 1000:.0f} ms, one combined")
        print(f"  alternation of the same anchors {alternation * 1000:.0f} ms ({alternation / anchored:.2f}x)")


if __name__ == "__main__":
    main()
