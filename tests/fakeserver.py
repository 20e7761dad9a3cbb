"""A real HTTP server on 127.0.0.1 speaking the OpenAI (SSE ending in `data: [DONE]`; the Responses API's typed
events ending in `response.completed`, or `response.incomplete` below `max_output_tokens`), Ollama (NDJSON), Anthropic
Messages (`/v1/messages`, SSE `message_start` ... `message_stop`) and Gemini Interactions (`.../interactions`, SSE
`interaction.start` ... `data: [DONE]`) wire formats, with failures injected per model name: a 500, 429s before an
answer, a 400 or 401, a stream broken off mid-way, an error event, a slow answer, a `response.failed`. A request
whose JSON body equals one given to `FakeServer.answer` gets that canned answer instead (a status and JSON body, or
event-stream lines), so that a recording's own stored answer can be served back. Used by the rerecord tests and by
bench/bench_rerecord.py.

Run alone: `python tests/fakeserver.py [--chunks N] [--delay S]` prints `http://127.0.0.1:<port>` and serves.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import socket
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

# How often the serving loop looks for a shutdown request (`serve_forever`'s default is 0.5 s).
POLL_SECONDS = 0.02

FailureKind = Literal["500", "429", "break", "error-event", "slow", "400", "401", "failed"]


@dataclass
class Failure:
    """What to do to requests for one model: `times` requests fail (None: all of them)."""

    kind: FailureKind
    times: int | None = None
    seconds: float = 2.0  # for "slow"


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class Canned:
    """A fixed answer: a status and a JSON body, or (`lines`) the lines of an event stream."""

    status: int
    body: Any
    lines: bool = False


def payload_key(body: Any) -> str:
    """How a request body is matched to a canned answer: its canonical JSON."""
    return json.dumps(body, sort_keys=True)


@dataclass
class Behaviour:
    chunks: int = 4
    delay: float = 0.0  # seconds between two stream pieces
    answer: str = "Hello from the fake server"
    models: list[str] = field(default_factory=lambda: ["fake-model-a", "fake-model-b"])
    failures: dict[str, Failure] = field(default_factory=dict)
    canned: dict[str, Canned] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    record: bool = True


def _pieces(text: str, count: int) -> list[str]:
    words = text.split(" ")
    count = max(1, min(count, len(words)))
    size = -(-len(words) // count)
    parts = [" ".join(words[i : i + size]) for i in range(0, len(words), size)]
    return [part if i == 0 else " " + part for i, part in enumerate(parts)]


def _last_user_text(body: dict[str, Any]) -> str:
    for message in reversed(body.get("messages") or []):
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, str):
            return content
    prompt = body.get("prompt")
    return prompt if isinstance(prompt, str) else ""


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Server

    def log_message(self, format: str, *args: Any) -> None:
        del format, args

    # --- plumbing ---------------------------------------------------------------------------------------

    def _body(self) -> Any:
        length = int(self.headers.get("content-length") or 0)
        data = self.rfile.read(length) if length else b""
        return json.loads(data) if data else None

    def _json(self, status: int, obj: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def _start_chunked(self, content_type: str, status: int = 200) -> None:
        self.send_response(status)
        self.send_header("content-type", content_type)
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _end_chunked(self) -> None:
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _break(self) -> None:
        """Cut the connection in the middle of a chunked body."""
        self.wfile.flush()
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def _failure(self, model: str) -> Failure | None:
        behaviour = self.server.behaviour
        failure = behaviour.failures.get(model)
        if failure is None:
            return None
        with behaviour.lock:
            count = behaviour.counts.get(model, 0)
            behaviour.counts[model] = count + 1
        if failure.times is not None and count >= failure.times:
            return None
        return failure

    # --- routes -----------------------------------------------------------------------------------------

    def do_GET(self) -> None:
        self._handle("GET", None)

    def do_POST(self) -> None:
        self._handle("POST", self._body())

    def _handle(self, method: str, body: Any) -> None:
        behaviour = self.server.behaviour
        path = self.path.split("?", 1)[0]
        if behaviour.record:
            with behaviour.lock:
                behaviour.seen.append(Seen(method, self.path, dict(self.headers.items()), body))
        canned = behaviour.canned.get(payload_key(body)) if body is not None else None
        if canned is not None:
            self._canned(canned)
            return
        body = body if isinstance(body, dict) else {}
        model = str(body.get("model", ""))
        failure = self._failure(model)
        if failure is not None:
            if failure.kind == "500":
                self._json(500, {"error": {"message": "internal error (injected)"}})
                return
            if failure.kind == "429":
                self._json(429, {"error": {"message": "rate limited (injected)"}}, {"retry-after": "0"})
                return
            if failure.kind == "400":
                self._json(400, {"error": {"message": "bad request (injected)"}})
                return
            if failure.kind == "401":
                error = {"type": "authentication_error", "message": "invalid x-api-key (injected)"}
                self._json(401, {"type": "error", "error": error})
                return
            if failure.kind == "slow":
                time.sleep(failure.seconds)
        broken = failure is not None and failure.kind == "break"
        error_event = failure is not None and failure.kind == "error-event"
        if path == "/v1/messages":
            self._messages(body, broken, error_event)
        elif path.endswith("/interactions"):
            self._interactions(body, broken)
        elif path.endswith("/models") and method == "GET":
            data = [{"id": m, "object": "model", "created": 1700000000, "owned_by": "fake"} for m in behaviour.models]
            self._json(200, {"object": "list", "data": data})
        elif path.endswith("/responses"):
            self._responses(body, broken, error_event, failure is not None and failure.kind == "failed")
        elif path.endswith("/chat/completions"):
            self._openai_chat(body, broken, error_event)
        elif path.endswith("/completions"):
            self._openai_completion(body)
        elif path.endswith("/embeddings") and not path.startswith("/api/"):
            inputs = body.get("input")
            count = len(inputs) if isinstance(inputs, list) else 1
            data = [{"embedding": [0.1, 0.2, 0.3], "index": i, "object": "embedding"} for i in range(count)]
            usage = {"prompt_tokens": 3, "total_tokens": 3}
            self._json(200, {"object": "list", "data": data, "model": model, "usage": usage})
        elif path in ("/api/chat", "/api/generate"):
            self._ollama(path, body, broken)
        elif path == "/api/embed":
            self._json(
                200,
                {
                    "model": model,
                    "embeddings": [[0.1, 0.2]],
                    "total_duration": 5,
                    "load_duration": 1,
                    "prompt_eval_count": 2,
                },
            )
        elif path == "/api/embeddings":
            self._json(200, {"embedding": [0.1, 0.2]})
        elif path == "/api/tags":
            models = [
                {
                    "name": m,
                    "model": m,
                    "modified_at": "2025-08-18T12:47:56.732989-07:00",
                    "size": 1,
                    "digest": "d",
                    "details": {"format": "gguf", "family": "llama"},
                }
                for m in behaviour.models
            ]
            self._json(200, {"models": models})
        elif path == "/api/ps":
            models = [
                {
                    "name": m,
                    "model": m,
                    "size": 1,
                    "digest": "d",
                    "expires_at": "2025-08-18T13:47:44.262256-07:00",
                    "size_vram": 1,
                    "details": {"format": "gguf"},
                    "context_length": 4096,
                }
                for m in behaviour.models
            ]
            self._json(200, {"models": models})
        else:
            self._json(404, {"error": {"message": f"no route {method} {path}"}})

    def _canned(self, canned: Canned) -> None:
        if not canned.lines:
            self._json(canned.status, canned.body)
            return
        # Line by line, one chunk each: the client must join and split them as the wire has them.
        self._start_chunked("text/event-stream", canned.status)
        for line in canned.body:
            self._chunk(f"{line}\n".encode())
        self._end_chunked()

    def _events(self, events: list[tuple[str, Any]], broken: bool = False) -> None:
        """An event stream, one event a chunk; `broken` cuts it off half-way."""
        behaviour = self.server.behaviour
        self._start_chunked("text/event-stream")
        for index, (name, data) in enumerate(events):
            text = data if isinstance(data, str) else json.dumps(data, separators=(",", ":"))
            self._chunk(f"event: {name}\ndata: {text}\n\n".encode())
            if broken and index == len(events) // 2:
                self._break()
                return
            if behaviour.delay:
                time.sleep(behaviour.delay)
        self._end_chunked()

    def _messages(self, body: dict[str, Any], broken: bool, error_event: bool) -> None:
        """Anthropic Messages: a 400 for no messages, as the API answers; else a message, or its event stream."""
        behaviour = self.server.behaviour
        model = body.get("model", "")
        if not body.get("messages"):
            error = {"type": "invalid_request_error", "message": "messages: at least one message is required"}
            self._json(400, {"type": "error", "error": error, "request_id": "req_fake"})
            return
        text = f"{behaviour.answer}: {_last_user_text(body)}"
        message = {"id": "msg_fake", "type": "message", "role": "assistant", "model": model, "content": []}
        message |= {"stop_reason": None, "stop_sequence": None, "usage": {"input_tokens": 7, "output_tokens": 1}}
        if not body.get("stream"):
            content = [{"type": "text", "text": text}]
            usage = {"input_tokens": 7, "output_tokens": 5}
            self._json(200, {**message, "content": content, "stop_reason": "end_turn", "usage": usage})
            return
        block = {"type": "text", "text": ""}
        events: list[tuple[str, Any]] = [
            ("message_start", {"type": "message_start", "message": message}),
            ("content_block_start", {"type": "content_block_start", "index": 0, "content_block": block}),
            ("ping", {"type": "ping"}),
        ]
        for piece in _pieces(text, behaviour.chunks):
            delta = {"type": "text_delta", "text": piece}
            events.append(("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": delta}))
        if error_event:
            error = {"type": "overloaded_error", "message": "Overloaded (injected)"}
            events.insert(len(events) // 2, ("error", {"type": "error", "error": error}))
        stop = {"stop_reason": "end_turn", "stop_sequence": None}
        events += [
            ("content_block_stop", {"type": "content_block_stop", "index": 0}),
            ("message_delta", {"type": "message_delta", "delta": stop, "usage": {"output_tokens": 5}}),
            ("message_stop", {"type": "message_stop"}),
        ]
        self._events(events, broken)

    def _interactions(self, body: dict[str, Any], broken: bool) -> None:
        """Gemini Interactions: a completed interaction, or its event stream ending in `data: [DONE]`."""
        behaviour = self.server.behaviour
        model = body.get("model", "")
        prompt = body.get("input")
        text = f"{behaviour.answer}: {prompt if isinstance(prompt, str) else ''}"
        usage = {"total_tokens": 12, "total_input_tokens": 7, "total_output_tokens": 5}
        done = {"id": "v1_fake", "status": "completed", "usage": usage, "role": "model", "object": "interaction"}
        done["model"] = model
        if not body.get("stream"):
            self._json(200, {**done, "outputs": [{"type": "text", "text": text}]})
            return
        start = {"id": "v1_fake", "status": "in_progress", "object": "interaction", "model": model}
        events: list[tuple[str, Any]] = [
            ("interaction.start", {"interaction": start, "event_type": "interaction.start"}),
            ("content.start", {"index": 0, "content": {"type": "text"}, "event_type": "content.start"}),
        ]
        for piece in _pieces(text, behaviour.chunks):
            delta = {"text": piece, "type": "text"}
            events.append(("content.delta", {"index": 0, "delta": delta, "event_type": "content.delta"}))
        events += [
            ("content.stop", {"index": 0, "event_type": "content.stop"}),
            ("interaction.complete", {"interaction": done, "event_type": "interaction.complete"}),
            ("done", "[DONE]"),
        ]
        self._events(events, broken)

    def _responses(self, body: dict[str, Any], broken: bool, error_event: bool, failed: bool) -> None:
        """OpenAI Responses: a Response, or its typed event stream (`response.created` ... `response.completed`);
        `response.incomplete` when `max_output_tokens` is below the number of pieces, `response.failed` when
        injected, an `error` event half-way when injected."""
        behaviour = self.server.behaviour
        prompt = body.get("input")
        pieces = _pieces(f"{behaviour.answer}: {prompt if isinstance(prompt, str) else ''}", behaviour.chunks)
        limit = body.get("max_output_tokens")
        if isinstance(limit, int) and limit < len(pieces):
            pieces, status = pieces[:limit], "incomplete"
        else:
            status = "failed" if failed else "completed"
        text = "".join(pieces)
        response: dict[str, Any] = {"id": "resp_live", "object": "response", "created_at": 1700000001}
        response |= {"status": "in_progress", "error": None, "incomplete_details": None, "model": body.get("model")}
        response |= {"output": [], "usage": None}
        message_id = "msg_live"
        part = {"type": "output_text", "annotations": [], "logprobs": [], "text": text}
        message: dict[str, Any] = {"id": message_id, "type": "message", "status": "completed", "role": "assistant"}
        message["content"] = [part]
        usage = {"input_tokens": 7, "output_tokens": len(pieces), "total_tokens": 7 + len(pieces)}
        done = {**response, "status": status, "output": [message], "usage": usage}
        if status == "incomplete":
            done["incomplete_details"] = {"reason": "max_output_tokens"}
        if status == "failed":
            done["error"] = {"code": "server_error", "message": "the model failed (injected)"}
        if not body.get("stream"):
            self._json(200, done)
            return
        where = {"item_id": message_id, "output_index": 0, "content_index": 0}
        events: list[dict[str, Any]] = [
            {"type": "response.created", "response": response},
            {"type": "response.in_progress", "response": response},
            {
                "type": "response.output_item.added",
                "output_index": 0,
                "item": {**message, "status": "in_progress", "content": []},
            },
            {"type": "response.content_part.added", **where, "part": {**part, "text": ""}},
        ]
        events += [
            {"type": "response.output_text.delta", **where, "delta": piece, "logprobs": [], "obfuscation": "xyz"}
            for piece in pieces
        ]
        if error_event:
            error = {"type": "error", "code": "server_error", "message": "overloaded (injected)", "param": None}
            events.insert(len(events) // 2, error)
        events += [
            {"type": "response.output_text.done", **where, "text": text, "logprobs": []},
            {"type": "response.content_part.done", **where, "part": part},
            {"type": "response.output_item.done", "output_index": 0, "item": message},
            {"type": f"response.{status}", "response": done},
        ]
        for number, event in enumerate(events):
            event["sequence_number"] = number
        self._events([(event["type"], event) for event in events], broken)

    def _openai_chat(self, body: dict[str, Any], broken: bool, error_event: bool) -> None:
        behaviour = self.server.behaviour
        model = body.get("model", "")
        text = f"{behaviour.answer}: {_last_user_text(body)}"
        usage = {"prompt_tokens": 7, "completion_tokens": 5, "total_tokens": 12}
        if not body.get("stream"):
            message = {"role": "assistant", "content": text}
            choice = {"index": 0, "message": message, "finish_reason": "stop", "logprobs": None}
            self._json(
                200,
                {
                    "id": "chatcmpl-live",
                    "object": "chat.completion",
                    "created": 1700000001,
                    "model": model,
                    "choices": [choice],
                    "usage": usage,
                },
            )
            return
        self._start_chunked("text/event-stream")
        pieces = _pieces(text, behaviour.chunks)
        for index, piece in enumerate(pieces):
            delta: dict[str, Any] = {"content": piece}
            if index == 0:
                delta["role"] = "assistant"
            chunk = {
                "id": "chatcmpl-live",
                "object": "chat.completion.chunk",
                "created": 1700000001,
                "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": None}],
                "obfuscation": "xyz",
            }
            self._chunk(f"data: {json.dumps(chunk)}\n\n".encode())
            if broken and index == len(pieces) // 2:
                self._break()
                return
            if error_event and index == len(pieces) // 2:
                self._chunk(b'data: {"error": {"message": "overloaded (injected)"}}\n\n')
                self._end_chunked()
                return
            if behaviour.delay:
                time.sleep(behaviour.delay)
        final = {
            "id": "chatcmpl-live",
            "object": "chat.completion.chunk",
            "created": 1700000001,
            "model": model,
            "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
        }
        self._chunk(f"data: {json.dumps(final)}\n\n".encode())
        if (body.get("stream_options") or {}).get("include_usage"):
            tail = {
                "id": "chatcmpl-live",
                "object": "chat.completion.chunk",
                "created": 1700000001,
                "model": model,
                "choices": [],
                "usage": usage,
            }
            self._chunk(f"data: {json.dumps(tail)}\n\n".encode())
        self._chunk(b"data: [DONE]\n\n")
        self._end_chunked()

    def _openai_completion(self, body: dict[str, Any]) -> None:
        behaviour = self.server.behaviour
        text = f"{behaviour.answer}: {body.get('prompt', '')}"
        item = {
            "id": "cmpl-live",
            "object": "text_completion",
            "created": 1700000001,
            "model": body.get("model"),
            "choices": [{"index": 0, "text": text, "finish_reason": "stop", "logprobs": None}],
        }
        if not body.get("stream"):
            self._json(200, {**item, "usage": {"prompt_tokens": 2, "completion_tokens": 3, "total_tokens": 5}})
            return
        self._start_chunked("text/event-stream")
        for piece in _pieces(text, behaviour.chunks):
            chunk = {**item, "choices": [{"index": 0, "text": piece, "finish_reason": None, "logprobs": None}]}
            self._chunk(f"data: {json.dumps(chunk)}\n\n".encode())
        self._chunk(b"data: [DONE]\n\n")
        self._end_chunked()

    def _ollama(self, path: str, body: dict[str, Any], broken: bool) -> None:
        behaviour = self.server.behaviour
        model = body.get("model", "")
        text = f"{behaviour.answer}: {_last_user_text(body)}"
        chat = path == "/api/chat"
        stamp = "2025-08-01T23:12:53.860911Z"
        done = {
            "model": model,
            "created_at": stamp,
            "done": True,
            "done_reason": "stop",
            "total_duration": 9,
            "load_duration": 1,
            "prompt_eval_count": 4,
            "prompt_eval_duration": 2,
            "eval_count": 5,
            "eval_duration": 3,
        }
        if not body.get("stream", True):
            content = {"message": {"role": "assistant", "content": text}} if chat else {"response": text}
            self._json(200, {**done, **content})
            return
        self._start_chunked("application/x-ndjson")
        pieces = _pieces(text, behaviour.chunks)
        for index, piece in enumerate(pieces):
            content = {"message": {"role": "assistant", "content": piece}} if chat else {"response": piece}
            line = {"model": model, "created_at": stamp, **content, "done": False}
            self._chunk(json.dumps(line).encode() + b"\n")
            if broken and index == len(pieces) // 2:
                self._break()
                return
            if behaviour.delay:
                time.sleep(behaviour.delay)
        last = {"message": {"role": "assistant", "content": ""}} if chat else {"response": ""}
        self._chunk(json.dumps({**done, **last}).encode() + b"\n")
        self._end_chunked()


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, behaviour: Behaviour) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.behaviour = behaviour

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that drops a kept-alive connection is not an error worth a traceback.
        error = sys.exc_info()[1]
        if not isinstance(error, (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


class FakeServer:
    """The server on a background thread: `with FakeServer() as server: server.url ...`."""

    def __init__(self, **behaviour: Any) -> None:
        self.behaviour = Behaviour(**behaviour)
        self._server = Server(self.behaviour)
        # A short poll: `shutdown()` waits for the loop to notice, and the default 0.5 s is paid by every test.
        self._thread = threading.Thread(target=self._server.serve_forever, args=(POLL_SECONDS,), daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def seen(self) -> list[Seen]:
        return self.behaviour.seen

    def fail(self, model: str, kind: FailureKind, times: int | None = None, seconds: float = 2.0) -> None:
        self.behaviour.failures[model] = Failure(kind, times, seconds)

    def answer(self, payload: Any, status: int, body: Any, *, lines: bool | None = None) -> None:
        """Answer a request whose JSON body equals `payload` with `status` and `body`: a JSON value, or (a list
        of strings, unless `lines=False`) the lines of an event stream, sent as they are, each ended by a
        newline."""
        stream = lines if lines is not None else isinstance(body, list) and all(isinstance(x, str) for x in body)
        self.behaviour.canned[payload_key(payload)] = Canned(status, body, stream)

    def __enter__(self) -> FakeServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--chunks", type=int, default=4)
    parser.add_argument("--delay", type=float, default=0.0)
    args = parser.parse_args()
    server = Server(Behaviour(chunks=args.chunks, delay=args.delay, record=False))
    host, port = server.server_address[:2]
    sys.stdout.write(f"http://{host!s}:{port}\n")
    sys.stdout.flush()
    server.serve_forever()


if __name__ == "__main__":
    main()
