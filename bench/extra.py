"""The speed targets of show, check, prune and diff, each against `fixtures ls --json` of the same corpus.

Called by bench/run.py as `python bench/extra.py CORPUS [ROUNDS]`; prints `name<TAB>seconds<TAB>note` rows. With
FIXTURES_BENCH_LLAMA_STACK naming a clone of llama-stack (a bare one will do), also `diff --git` of the OGX rename.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def fixtures(*args: str) -> list[str]:
    return [sys.executable, "-m", "llm_fixtures", *args]


def timed(command: list[str], env: dict[str, str], cwd: str | None = None) -> float:
    start = time.perf_counter()
    subprocess.run(command, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - start


def cold_and_warm(
    commands: list[list[str]], rounds: int, cwds: list[str | None] | None = None
) -> list[tuple[float, float]]:
    """Best wall time of each command with an empty user cache (cold) and with the cache its previous run left
    (warm). Interleaved: each round runs every command, so that a slow spell of the machine hits every side of a
    ratio alike."""
    colds: list[list[float]] = [[] for _ in commands]
    warms: list[list[float]] = [[] for _ in commands]
    for _ in range(rounds):
        for index, command in enumerate(commands):
            cache = tempfile.mkdtemp(prefix="fixtures-bench-cache-")
            env = {**os.environ, "XDG_CACHE_HOME": cache}
            cwd = cwds[index] if cwds else None
            colds[index].append(timed(command, env, cwd))
            warms[index].append(timed(command, env, cwd))
            shutil.rmtree(cache, ignore_errors=True)
    return [(min(cold), min(warm)) for cold, warm in zip(colds, warms, strict=True)]


def stream_paths(corpus: str) -> list[str]:
    done = subprocess.run(fixtures("ls", "--json", "--stream", corpus), capture_output=True, text=True, check=False)
    return [json.loads(line)["path"] for line in done.stdout.splitlines()]


def rechunk(raw: dict[str, Any]) -> bool:
    """Split one content delta of a chat stream in two: the same message, other chunk boundaries."""
    body = raw["response"]["body"]
    for index, item in enumerate(body):
        data = item.get("__data__") if isinstance(item, dict) else None
        choices = (data or {}).get("choices") or []
        delta = choices[0].get("delta") if choices else None
        content = (delta or {}).get("content")
        if isinstance(delta, dict) and isinstance(content, str) and len(content) > 1:
            first = json.loads(json.dumps(item))
            first["__data__"]["choices"][0]["delta"]["content"] = content[:1]
            delta["content"] = content[1:]
            body.insert(index, first)
            return True
    return False


def churn(raw: dict[str, Any]) -> bool:
    """Change what changes on every re-record: obfuscation strings and fingerprints."""
    changed = False
    body = raw["response"].get("body")
    for item in body if isinstance(body, list) else [body]:
        data = item.get("__data__") if isinstance(item, dict) else None
        if isinstance(data, dict):
            data["system_fingerprint"] = "fp_churned"
            if "obfuscation" in data:
                data["obfuscation"] = "x" * len(str(data["obfuscation"]))
            changed = True
    return changed


def edit(raw: dict[str, Any]) -> bool:
    """Change the answer's text."""
    body = raw["response"].get("body")
    for item in body if isinstance(body, list) else [body]:
        data = item.get("__data__") if isinstance(item, dict) else None
        for choice in (data or {}).get("choices") or []:
            for holder in (choice.get("delta"), choice.get("message")):
                if isinstance(holder, dict) and isinstance(holder.get("content"), str) and holder["content"]:
                    holder["content"] += " (edited)"
                    return True
    return False


def perturbed_tree(corpus: str, changes: int = 400) -> tuple[str, int]:
    """A copy of the corpus in which `changes` recordings were re-chunked, churned or edited."""
    target = Path(tempfile.mkdtemp(prefix="fixtures-bench-diff-")) / "tree"
    shutil.copytree(corpus, target)
    candidates = sorted(p for p in target.rglob("*.json"))
    random.Random(7).shuffle(candidates)
    done = 0
    for path in candidates:
        if done >= changes:
            break
        try:
            raw = json.loads(path.read_bytes())
        except ValueError:
            continue
        if not isinstance(raw, dict) or not isinstance(raw.get("response"), dict):
            continue
        action = (rechunk, churn, edit)[done % 3]
        if isinstance(raw["response"].get("body"), list) or action is not rechunk:
            try:
                if action(raw):
                    path.write_text(json.dumps(raw, indent=2) + "\n")
                    done += 1
            except (AttributeError, KeyError, TypeError, IndexError):
                continue
    return str(target), done


def row(
    name: str, command: list[str], corpus: str, rounds: int, target: str = "2x", warm_target: str | None = None
) -> None:
    """The command against `fixtures ls --json` of the same corpus, the two interleaved."""
    (ls_cold, ls_warm), (cold, warm) = cold_and_warm([fixtures("ls", "--json", corpus), command], rounds)
    print(f"{name}, cold\t{cold:.3f}\t{cold / ls_cold:.2f}x cold ls ({ls_cold:.3f} s) (target <= {target})")
    warm_note = f" (target <= {warm_target})" if warm_target else ""
    print(f"{name}, warm\t{warm:.3f}\t{warm / ls_warm:.2f}x warm ls ({ls_warm:.3f} s){warm_note}")


# The upstream commit that renamed llama-stack to OGX (a text substitution): 2,977 recordings on both sides, 242 of
# them changed.
OGX_RENAME = "379d0720c"


def ogx_rename_row(corpus: str, rounds: int) -> None:
    """`fixtures diff --git` of the OGX rename, in a clone of the llama-stack repository named by the environment
    variable FIXTURES_BENCH_LLAMA_STACK (no row without it): blobs read through git, nothing checked out."""
    source = os.environ.get("FIXTURES_BENCH_LLAMA_STACK")
    if not source:
        return
    clone = Path(tempfile.mkdtemp(prefix="fixtures-bench-ogx-")) / "repo"
    try:
        made = subprocess.run(
            ["git", "clone", "-q", "--shared", "--no-checkout", source, str(clone)], capture_output=True, check=False
        )
        if made.returncode != 0:
            return
        spec = f"{OGX_RENAME}~1..{OGX_RENAME}"
        command = fixtures("diff", "--json", "--git", spec)
        (ls_cold, _), (cold, _) = cold_and_warm([fixtures("ls", "--json", corpus), command], rounds, [None, str(clone)])
        print(
            f"fixtures diff --git, OGX rename (2,977 pairs)\t{cold:.3f}\t"
            f"{cold / ls_cold:.2f}x cold ls ({ls_cold:.3f} s) (target <= 0.69 s on the reference machine)"
        )
    finally:
        shutil.rmtree(clone.parent, ignore_errors=True)


def main() -> None:
    corpus = sys.argv[1]
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    # What a user types: the folder (listed, every file read once and folded, output streamed).
    row("show --assemble --json <folder>", fixtures("show", "--assemble", "--json", corpus), corpus, rounds, "1.5x")
    streams = stream_paths(corpus)
    row(
        f"show --assemble --json, {len(streams)} stream paths",
        fixtures("show", "--assemble", "--json", *streams),
        corpus,
        rounds,
    )
    row("fixtures check", fixtures("check", "--json", corpus), corpus, rounds, "1.5x")
    row("fixtures prune (static)", fixtures("prune", "--json", corpus), corpus, rounds, "2x", "1.3x")
    other, changed = perturbed_tree(corpus)
    try:
        row(
            f"fixtures diff, {changed} of {len(list(Path(corpus).rglob('*.json')))} changed",
            fixtures("diff", "--json", corpus, other),
            corpus,
            rounds,
        )
    finally:
        shutil.rmtree(Path(other).parent, ignore_errors=True)
    ogx_rename_row(corpus, rounds)


if __name__ == "__main__":
    main()
