"""Benchmark of the http runner of `fixtures rerecord` against a bare async httpx loop.

Target (issue 7): re-recording 500 streaming recordings with --jobs 8 against a local server reaches at least 80%
of the throughput of a bare async client loop with the same concurrency. The server (tests/fakeserver.py) runs in
its own process and streams `chunks` SSE events `delay` seconds apart, like a real endpoint would.

Usage: python bench/bench_rerecord.py [--files 500] [--jobs 8] [--chunks 20] [--delay 0.002]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
FAKE_SERVER = REPO / "tests" / "fakeserver.py"


def _recording(url: str, index: int) -> dict[str, Any]:
    body = {
        "model": "bench-model",
        "messages": [{"role": "user", "content": f"Question number {index}: what is {index} squared?"}],
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    chunk = {
        "__type__": "openai.types.chat.chat_completion_chunk.ChatCompletionChunk",
        "__data__": {
            "id": "old",
            "choices": [],
            "created": 0,
            "model": "bench-model",
            "object": "chat.completion.chunk",
        },
    }
    return {
        "test_id": f"tests/integration/bench/test_bench.py::test_q[{index}]",
        "request": {
            "method": "POST",
            "url": f"{url}/v1/v1/chat/completions",
            "headers": {},
            "body": body,
            "endpoint": "/v1/chat/completions",
            "model": "bench-model",
        },
        "response": {"body": [chunk], "is_streaming": True},
        "id_normalization_mapping": {},
    }


def _write_recordings(folder: Path, url: str, count: int) -> list[Path]:
    paths = []
    for index in range(count):
        path = folder / f"{index:064x}.json"
        path.write_text(json.dumps(_recording(url, index), indent=2) + "\n")
        paths.append(path)
    return paths


async def _bare(paths: list[Path], jobs: int, url: str) -> None:
    """The baseline: the same requests, `jobs` at a time, each stream read line by line to its end."""
    import httpx

    bodies = [json.loads(path.read_bytes())["request"]["body"] for path in paths]
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)
    limits = httpx.Limits(max_connections=jobs, max_keepalive_connections=jobs)
    async with httpx.AsyncClient(limits=limits, timeout=60) as client:

        async def worker() -> None:
            while not queue.empty():
                body = queue.get_nowait()
                async with client.stream("POST", f"{url}/v1/chat/completions", json=body) as response:
                    async for _line in response.aiter_lines():
                        pass

        await asyncio.gather(*(worker() for _ in range(jobs)))


def _tool(paths: list[Path], jobs: int) -> int:
    """The http runner as `fixtures rerecord --runner http` drives it: load, plan, send, build, normalize, write."""
    import orjson

    from llm_fixtures.rerecording.calls import build_call
    from llm_fixtures.rerecording.httprunner import HttpJob, HttpOptions, run_http

    work = []
    for path in paths:
        raw = orjson.loads(path.read_bytes())
        work.append(HttpJob(path, path.name, raw, build_call(raw["request"])))
    results = run_http(work, HttpOptions(jobs=jobs))
    return sum(result.status == "ok" for result in results)


def measure(files: int = 500, jobs: int = 8, chunks: int = 20, delay: float = 0.002, rounds: int = 3) -> dict[str, Any]:
    """Best-of-`rounds` wall times of the bare loop and of the http runner over the same `files` streaming
    recordings, and their throughput ratio (tool / bare; the target is >= 0.8)."""
    server = subprocess.Popen(
        [sys.executable, str(FAKE_SERVER), "--chunks", str(chunks), "--delay", str(delay)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        url = server.stdout.readline().strip()
        with tempfile.TemporaryDirectory() as tmp:
            paths = _write_recordings(Path(tmp), url, files)
            asyncio.run(_bare(paths[:20], jobs, url))  # warm up the server and the imports
            bare_times, tool_times = [], []
            ok = 0
            for _ in range(rounds):
                start = time.perf_counter()
                asyncio.run(_bare(paths, jobs, url))
                bare_times.append(time.perf_counter() - start)
                start = time.perf_counter()
                ok = _tool(paths, jobs)
                tool_times.append(time.perf_counter() - start)
    finally:
        server.terminate()
        server.wait()
    bare, tool = min(bare_times), min(tool_times)
    return {
        "files": files,
        "jobs": jobs,
        "chunks": chunks,
        "bare_seconds": round(bare, 3),
        "tool_seconds": round(tool, 3),
        "ratio": round(bare / tool, 3),
        "ok": ok,
        "target": 0.8,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=500)
    parser.add_argument("--jobs", type=int, default=8)
    parser.add_argument("--chunks", type=int, default=20)
    parser.add_argument("--delay", type=float, default=0.002)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    result = measure(args.files, args.jobs, args.chunks, args.delay, args.rounds)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
