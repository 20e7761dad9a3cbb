"""What a recording sent and got, projected for `fixtures show`: parameters, tools, the conversation with
images as placeholders, and the response's facts (its answer is read by `assembling.final`)."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, Field

from llm_fixtures.assembling import Assembly
from llm_fixtures.assembling.merging import as_dict
from llm_fixtures.envelopes import parse_envelope
from llm_fixtures.facts import Facts
from llm_fixtures.models import (
    FileProcessorRequest,
    HttpRequest,
    InferenceRequest,
    RecordingFile,
    ToolRequest,
)

# Request keys shown as the conversation or the tools, not among the parameters.
_CONVERSATION_KEYS = frozenset(
    {"messages", "input", "contents", "prompt", "system", "instructions", "tools", "model", "functions"}
)


class Part(BaseModel):
    """One piece of a message: `text` (text, or a placeholder such as `[image/png 34 KB]`), a `tool_call`
    (name, call id, arguments as sent), a `tool_result` (call id, text), or `other` (a short description)."""

    type: str
    text: str | None = None
    name: str | None = None
    call_id: str | None = None
    arguments: str | None = None


class Message(BaseModel):
    role: str
    parts: list[Part] = Field(default_factory=list)


class RequestView(BaseModel):
    kind: str
    method: str | None = None
    endpoint: str | None = None
    provider: str | None = None
    model: str | None = None
    url: str | None = None
    test_id: str | None = None
    parameters: dict[str, Any] = Field(default_factory=dict)
    tools: list[str] = Field(default_factory=list)
    messages: list[Message] = Field(default_factory=list)


class ResponseFacts(BaseModel):
    """`kind` is what the body assembles as (`chat.completion.chunk`, `anthropic`, ..., `unknown`)."""

    status: int | None = None
    exception: str | None = None
    kind: str | None = None
    body_type: str | None = None
    streaming: bool = False
    chunks: int = 0
    usage: Any = None


class Shown(BaseModel):
    """One recording as `fixtures show` presents it (and prints with `--json`)."""

    path: str
    hash: str | None = None
    request: RequestView | None = None
    response: ResponseFacts


# ---------------------------------------------------------------------------------------------------------------
# Media placeholders


def human_size(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{round(size / 1024)} KB"
    return f"{size / 1024 / 1024:.1f} MB"


def _base64_size(data: str) -> int:
    data = data.strip()
    return max(0, len(data) * 3 // 4 - data[-2:].count("="))


def media_placeholder(kind: str, value: Any, mime: str | None = None) -> str:
    """`[image/png 34 KB]` for inline data (a data URL or bare base64), `[image https://...]` for a link."""
    if isinstance(value, str):
        if value.startswith("data:"):
            header, _, data = value.partition(",")
            mime = header[5:].split(";", 1)[0] or mime
            return f"[{mime or kind} {human_size(_base64_size(data))}]"
        if value.startswith(("http://", "https://", "gs://", "file:")):
            return f"[{mime or kind} {value}]"
        return f"[{mime or kind} {human_size(_base64_size(value))}]"
    return f"[{mime or kind}]"


# ---------------------------------------------------------------------------------------------------------------
# Content parts of every dialect


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _arguments(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def _call(name: Any, call_id: Any, arguments: Any) -> Part:
    return Part(
        type="tool_call",
        name=name if isinstance(name, str) else None,
        call_id=call_id if isinstance(call_id, str) else None,
        arguments=_arguments(arguments),
    )


def content_parts(content: Any) -> list[Part]:
    """Parts of a message `content` in any dialect (OpenAI, Responses, Anthropic, Gemini, Ollama)."""
    if content is None:
        return []
    if isinstance(content, str):
        return [Part(type="text", text=content)] if content else []
    if isinstance(content, dict):
        content = [content]
    if not isinstance(content, list):
        return [Part(type="text", text=_text(content))]
    parts: list[Part] = []
    for item in content:
        parts.extend(_part(item))
    return parts


def _part(item: Any) -> list[Part]:
    if isinstance(item, str):
        return [Part(type="text", text=item)]
    if not isinstance(item, dict):
        return [Part(type="text", text=_text(item))]
    kind = item.get("type")
    if isinstance(item.get("text"), str) and kind in (None, "text", "input_text", "output_text"):
        return [Part(type="text", text=item["text"])]
    if kind == "image_url" or "image_url" in item:
        url = item.get("image_url")
        url = url.get("url") if isinstance(url, dict) else url
        return [Part(type="text", text=media_placeholder("image", url))]
    if kind == "input_image":
        return [Part(type="text", text=media_placeholder("image", item.get("image_url") or item.get("file_id")))]
    if kind in ("image", "document") and isinstance(item.get("source"), dict):  # Anthropic
        source = item["source"]
        value = source.get("data") or source.get("url")
        return [Part(type="text", text=media_placeholder(kind, value, source.get("media_type")))]
    if kind == "input_audio":
        audio = as_dict(item.get("input_audio"))
        mime = f"audio/{audio.get('format')}" if audio.get("format") else "audio"
        return [Part(type="text", text=media_placeholder("audio", audio.get("data"), mime))]
    if kind in ("file", "input_file"):
        file = as_dict(item.get("file")) or item
        name = file.get("filename") or file.get("file_id") or "file"
        data = file.get("file_data")
        size = f" {human_size(_base64_size(data.partition(',')[2] or data))}" if isinstance(data, str) else ""
        return [Part(type="text", text=f"[file {name}{size}]")]
    for key in ("inline_data", "inlineData"):  # Gemini
        if isinstance(item.get(key), dict):
            blob = item[key]
            mime = blob.get("mime_type") or blob.get("mimeType")
            return [Part(type="text", text=media_placeholder("data", blob.get("data"), mime))]
    for key in ("function_call", "functionCall"):  # Gemini
        if isinstance(item.get(key), dict):
            call = item[key]
            return [_call(call.get("name"), call.get("id"), call.get("args"))]
    for key in ("function_response", "functionResponse"):
        if isinstance(item.get(key), dict):
            answer = item[key]
            return [
                Part(
                    type="tool_result",
                    name=answer.get("name"),
                    call_id=answer.get("id"),
                    text=_text(answer.get("response")),
                )
            ]
    if kind in ("tool_use", "server_tool_use", "mcp_tool_use"):  # Anthropic
        return [_call(item.get("name"), item.get("id"), item.get("input"))]
    if kind == "tool_result":
        texts = [part.text or "" for part in content_parts(item.get("content"))]
        return [Part(type="tool_result", call_id=item.get("tool_use_id"), text="".join(texts))]
    if kind in ("thinking", "redacted_thinking"):
        return [Part(type="other", text=f"[{kind}] {item.get('thinking') or ''}".rstrip())]
    return [Part(type="other", text=_text(item))]


def _tool_call_parts(calls: Any) -> list[Part]:
    parts: list[Part] = []
    for call in calls if isinstance(calls, list) else []:
        if not isinstance(call, dict):
            continue
        function = as_dict(call.get("function")) or call
        parts.append(
            Part(
                type="tool_call",
                name=function.get("name"),
                call_id=call.get("id"),
                arguments=_arguments(function.get("arguments")),
            )
        )
    return parts


def _message(raw: Any) -> Message:
    """One message of a chat-style list: OpenAI, Ollama, Anthropic, Responses input items, Gemini contents."""
    if not isinstance(raw, dict):
        return Message(role="user", parts=content_parts(raw))
    kind = raw.get("type")
    if kind in ("function_call", "custom_tool_call"):  # Responses input item
        arguments = raw.get("arguments", raw.get("input"))
        return Message(role="assistant", parts=[_call(raw.get("name"), raw.get("call_id"), arguments)])
    if kind in ("function_call_output", "custom_tool_call_output"):
        result = Part(type="tool_result", call_id=raw.get("call_id"), text=_text(raw.get("output")))
        return Message(role="tool", parts=[result])
    role = raw.get("role") if isinstance(raw.get("role"), str) else (kind or "user")
    parts = content_parts(raw.get("content") if "content" in raw else raw.get("parts"))
    if isinstance(raw.get("images"), list):  # Ollama
        parts.extend(Part(type="text", text=media_placeholder("image", image)) for image in raw["images"])
    parts.extend(_tool_call_parts(raw.get("tool_calls")))
    if isinstance(raw.get("function_call"), dict):
        parts.extend(_tool_call_parts([{"function": raw["function_call"]}]))
    if role == "tool" or raw.get("tool_call_id"):
        text = "".join(part.text or "" for part in parts)
        parts = [Part(type="tool_result", call_id=raw.get("tool_call_id"), name=raw.get("name"), text=text)]
    return Message(role=str(role), parts=parts)


def conversation(body: Any) -> list[Message]:
    """The messages a request body sent, in any dialect."""
    if not isinstance(body, dict):
        return [] if body is None else [Message(role="user", parts=content_parts(body))]
    messages: list[Message] = []
    for key in ("system", "instructions"):
        if body.get(key):
            messages.append(Message(role="system", parts=content_parts(body[key])))
    config = body.get("config")
    if isinstance(config, dict):
        for key in ("system_instruction", "systemInstruction"):
            instruction = config.get(key)
            if instruction:
                parts = instruction.get("parts") if isinstance(instruction, dict) else instruction
                messages.append(Message(role="system", parts=content_parts(parts)))
    for key in ("messages", "input", "contents"):
        value = body.get(key)
        if isinstance(value, list) and key == "input" and all(isinstance(raw, str | int) for raw in value):
            messages.extend(Message(role="input", parts=content_parts(str(raw))) for raw in value)  # embeddings
        elif isinstance(value, list):
            messages.extend(_message(raw) for raw in value)
        elif value is not None:
            messages.append(Message(role="user", parts=content_parts(value)))
    prompt = body.get("prompt")
    if prompt is not None:
        messages.append(Message(role="user", parts=content_parts(prompt)))
        if isinstance(body.get("images"), list):
            messages[-1].parts.extend(Part(type="text", text=media_placeholder("image", i)) for i in body["images"])
    return messages


def tool_names(body: Any) -> list[str]:
    """Names of the tools a request offered (OpenAI, Responses, Anthropic, Gemini, Ollama)."""
    if not isinstance(body, dict):
        return []
    tools: list[Any] = list(body["tools"]) if isinstance(body.get("tools"), list) else []
    config = body.get("config")
    if isinstance(config, dict) and isinstance(config.get("tools"), list):
        tools = tools + config["tools"]
    if isinstance(body.get("functions"), list):
        tools = tools + body["functions"]
    names: list[str] = []
    for tool in tools:
        if not isinstance(tool, dict):
            continue
        function = tool.get("function")
        if isinstance(function, dict) and function.get("name"):
            names.append(str(function["name"]))
        elif tool.get("name"):
            names.append(str(tool["name"]))
        else:
            declarations = tool.get("function_declarations") or tool.get("functionDeclarations")
            if isinstance(declarations, list):
                names.extend(str(d.get("name")) for d in declarations if isinstance(d, dict))
            elif tool.get("type"):
                names.append(str(tool["type"]))
            elif tool:
                names.append(next(iter(tool)))
    return names


def parameters(body: Any) -> dict[str, Any]:
    """The request's parameters: every body key but the conversation and the tools (Gemini `config` flattened)."""
    if not isinstance(body, dict):
        return {}
    found = {key: value for key, value in body.items() if key not in _CONVERSATION_KEYS and key != "config"}
    config = body.get("config")
    if isinstance(config, dict):
        skip = {"tools", "system_instruction", "systemInstruction"}
        found.update({key: value for key, value in config.items() if key not in skip and value is not None})
    return found


# ---------------------------------------------------------------------------------------------------------------
# The whole recording


def usage_of(assembly: Assembly | None, body: Any) -> Any:
    """The usage a response reported, from its answer when it assembles into one, else from the body."""
    if assembly is not None:
        from llm_fixtures.assembling.final import final_message

        usage = final_message(assembly.kind, assembly.result).usage
        if usage is not None:
            return usage
    _, data = parse_envelope(body)
    return data.get("usage") if isinstance(data, dict) else None


def _exception(file: RecordingFile) -> str | None:
    response = file.response
    if not response.is_exception and not response.exception_message:
        return None
    message = response.exception_message or ""
    data = response.exception_data or {}
    kind = data.get("type") or data.get("exception_type") or data.get("class") if isinstance(data, dict) else None
    return f"{kind}: {message}" if kind and message else (message or str(kind or "exception"))


def request_view(file: RecordingFile, facts: Facts) -> RequestView:
    request = file.request
    view = RequestView(
        kind=facts.kind,
        endpoint=facts.endpoint or None,
        provider=facts.provider,
        model=facts.model,
        url=facts.url,
        test_id=file.test_id if file.test_id is not None else getattr(request, "test_id", None),
    )
    if isinstance(request, InferenceRequest):
        view.method = request.method
        body = request.body
    elif isinstance(request, HttpRequest):
        view.method = request.method
        body = request.payload
    elif isinstance(request, ToolRequest):
        view.tools = [request.tool_name]
        kwargs = request.tool_kwargs
        view.parameters = kwargs if isinstance(kwargs, dict) else {"kwargs": kwargs}
        return view
    elif isinstance(request, FileProcessorRequest):
        view.parameters = {"api": request.api, "file_id": request.file_id}
        return view
    else:
        body = None
    view.parameters = parameters(body)
    view.tools = tool_names(body)
    view.messages = conversation(body)
    return view


def show_recording(path: str, file: RecordingFile, facts: Facts, assembly: Assembly | None) -> Shown:
    """What `fixtures show` says about one recording. `assembly` (of its body) gives the usage."""
    response = file.response
    return Shown(
        path=path,
        hash=facts.hash,
        request=request_view(file, facts),
        response=ResponseFacts(
            status=response.status,
            exception=_exception(file),
            kind=assembly.kind if assembly is not None else None,
            body_type=facts.body_type,
            streaming=response.is_streaming,
            chunks=facts.chunks,
            usage=usage_of(assembly, response.body),
        ),
    )


def show_sse(path: str, assembly: Assembly) -> Shown:
    """A raw `.sse` capture: no request is stored, only the stream."""
    return Shown(
        path=path,
        response=ResponseFacts(
            kind=assembly.kind,
            body_type="event stream",
            streaming=True,
            chunks=int(assembly.result.get("n_items") or 0),
            usage=usage_of(assembly, None),
        ),
    )
