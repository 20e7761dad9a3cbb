"""The worker pool of every command that reads many files: ordered results, and an early end that waits only
for the chunks the workers have in hand, not for all the work."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Generator
from pathlib import Path

import pytest

from llm_fixtures import app, pooling

PAUSE = 0.2


def _slow(item: int) -> int:
    time.sleep(PAUSE)
    return item * 2


def test_results_come_in_order_from_the_workers() -> None:
    assert list(pooling.map_ordered(_slow, list(range(6)), jobs=2, threshold=1, chunks_per_worker=2)) == [
        0,
        2,
        4,
        6,
        8,
        10,
    ]


def _noted(item: int, log: str) -> int:
    time.sleep(PAUSE)
    with open(log, "a") as handle:  # noqa: PTH123
        handle.write(f"{item}\n")
    return item


def _stopped_early(log: Path, stop: Callable[[Generator[int, None, None]], None]) -> int:
    """How many of 32 items (in 16 chunks of two) the workers did when `stop` ended the run after the first
    result: those in their hands then, not the rest."""
    results = pooling.map_ordered(_noted, list(range(32)), str(log), jobs=2, threshold=1, chunks_per_worker=8)
    assert next(results) == 0
    (pool,) = pooling._LIVE
    manager = pool._executor_manager_thread  # it ends once the workers it had handed chunks to have ended
    stop(results)
    manager.join(timeout=20)
    assert not manager.is_alive()
    assert pooling._LIVE == []
    return len(log.read_text().splitlines())


def test_stopping_the_pools_leaves_the_chunks_not_handed_out_undone(tmp_path: Path) -> None:
    # The reader went away (`| head -1`): the exit waits for the chunks in the workers' hands, not all 16.
    assert _stopped_early(tmp_path / "log", lambda _results: pooling.stop_pools()) < 16


def test_an_error_while_reading_the_results_leaves_the_rest_undone(tmp_path: Path) -> None:
    def interrupt(results: Generator[int, None, None]) -> None:
        with pytest.raises(KeyboardInterrupt):
            results.throw(KeyboardInterrupt)

    assert _stopped_early(tmp_path / "log", interrupt) < 16


def test_the_entry_point_stops_the_pools_whatever_ends_the_command(monkeypatch: pytest.MonkeyPatch) -> None:
    stopped: list[bool] = []
    monkeypatch.setattr(pooling, "stop_pools", lambda: stopped.append(True))
    monkeypatch.setattr(sys, "argv", ["fixtures", "ls", "--no-such-option"])
    with pytest.raises(SystemExit):
        app.main()
    assert stopped == [True]
