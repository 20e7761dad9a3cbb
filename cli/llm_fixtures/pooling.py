"""One way to spread per-file work over processes, for every command that reads many files (`ls`, `check`,
`show --assemble`, cassettes, `diff`).

Below a threshold the work runs in this process (a pool costs more than it saves on a handful of files, as in a
pre-commit hook); above it, in up to four worker processes. Either way the work runs in chunks with the cyclic
garbage collector paused, scoped to the chunk: parsed JSON holds no reference cycles and is freed by reference
counting, and the collector would only rescan the millions of containers orjson allocates (about a tenth of a
load). Results come back in the order of the items, each chunk as soon as it is done, so that a caller can
stream its output.
"""

from __future__ import annotations

import contextlib
import gc
import os
from collections.abc import Callable, Generator, Iterator, Sequence
from typing import Any, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")

# Below this many items a process pool costs more than it saves.
PARALLEL_THRESHOLD = 200
MAX_WORKERS = 4


def worker_count(jobs: int | None = None) -> int:
    """`jobs` when given, else one process per core, at most four (more only contend for the disk)."""
    return jobs if jobs is not None else min(MAX_WORKERS, os.cpu_count() or 1)


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """The cyclic garbage collector off meanwhile (and back on after, if it was on)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _run_chunk(function: Callable[..., Result], chunk: Sequence[Any], args: tuple[Any, ...]) -> list[Result]:
    with collector_paused():
        return [function(item, *args) for item in chunk]


def _chunks(items: Sequence[Item], size: int) -> list[Sequence[Item]]:
    return [items[start : start + size] for start in range(0, len(items), size)]


def map_ordered(
    function: Callable[..., Result],
    items: Sequence[Item],
    *args: Any,
    jobs: int | None = None,
    threshold: int = PARALLEL_THRESHOLD,
    chunks_per_worker: int = 4,
) -> Generator[Result, None, None]:
    """`function(item, *args)` for every item, yielded in the order of `items` as soon as each chunk is done.
    `function` and `args` must be picklable (a module-level function) when the work goes to other processes."""
    processes = worker_count(jobs)
    if processes <= 1 or len(items) < threshold:
        # Chunks here too, so that the collector runs between them and output starts early.
        for chunk in _chunks(items, 64):
            yield from _run_chunk(function, chunk, args)
        return
    from concurrent.futures import ProcessPoolExecutor  # here: a small run never pays for importing it

    size = max(1, -(-len(items) // (processes * chunks_per_worker)))
    chunks = _chunks(items, size)
    pool = ProcessPoolExecutor(max_workers=processes)
    _LIVE.append(pool)
    try:
        for part in pool.map(_run_chunk, [function] * len(chunks), chunks, [args] * len(chunks)):
            yield from part
    except BaseException:  # Ctrl-C, an error: nothing more is wanted
        _stop(pool)
        raise
    finally:
        if pool in _LIVE:  # not when stop_pools took it
            _LIVE.remove(pool)
    pool.shutdown()


# The pools of the calls in progress. A caller that stops reading (its reader went away: `| head`) leaves its
# generator suspended, not closed, until the interpreter exits, and by then it would have waited for every chunk.
_LIVE: list[Any] = []


def stop_pools() -> None:
    """End the pools of the calls in progress at once: the command is ending (see `_stop`)."""
    while _LIVE:
        _stop(_LIVE.pop())


def _stop(pool: Any) -> None:
    """End a pool whose results are no longer wanted: the chunks not handed to a worker yet are dropped, so that
    the exit waits only for those in hand (shutting down would wait for every chunk, the whole work). Workers
    are not killed: one ended while it sends its result would leave half a message in the pipe, and the exit
    would wait for the rest forever."""
    pool.shutdown(wait=False, cancel_futures=True)
