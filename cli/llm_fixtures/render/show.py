"""Human output of `fixtures show`: what a recording sent and got, and (`--assemble`) its final message."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from rich.console import Console
from rich.rule import Rule
from rich.text import Text

from llm_fixtures.assembling.final import Choice, FinalMessage, ToolCall
from llm_fixtures.assembling.merging import repair_surrogates
from llm_fixtures.conversation import Message, Part, Shown
from llm_fixtures.humanizing import plural
from llm_fixtures.render.console import stdout_console

LABEL = 10
VALUE_WIDTH = 80
ROLE_STYLES = {"system": "magenta", "user": "green", "assistant": "cyan", "tool": "yellow"}


class _Literal(str):
    """JSON punctuation already written out (not a value to encode)."""


def _members(value: dict[Any, Any] | list[Any] | tuple[Any, ...]) -> Iterator[Any]:
    """The pieces of a container one level down: punctuation, and its values (not descended into)."""
    if isinstance(value, dict):
        yield _Literal("{")
        for index, (key, item) in enumerate(value.items()):
            head = ", " if index else ""
            yield _Literal(head + json.dumps(key if isinstance(key, str) else str(key), ensure_ascii=False) + ": ")
            yield item
        yield _Literal("}")
    else:
        yield _Literal("[")
        for index, item in enumerate(value):
            if index:
                yield _Literal(", ")
            yield item
        yield _Literal("]")


_END = object()


def _compact_json(value: Any, limit: int) -> str:
    """The beginning (at least `limit` characters, when it is that long) of what `json.dumps(value,
    ensure_ascii=False, default=str)` writes; without recursion, so any nesting is fine, and without writing the
    rest of a big value."""
    parts: list[str] = []
    size = 0
    stack: list[Iterator[Any]] = [iter([value])]
    while stack and size < limit:
        item = next(stack[-1], _END)
        if item is _END:
            stack.pop()
            continue
        if isinstance(item, _Literal):
            piece = str(item)
        elif isinstance(item, dict | list | tuple):
            stack.append(_members(item))
            continue
        else:
            try:
                piece = json.dumps(item, ensure_ascii=False, default=str)
            except ValueError:  # an integer past Python's conversion limit
                piece = "…"
        parts.append(piece)
        size += len(piece)
    return "".join(parts)


def _short(value: Any, width: int = VALUE_WIDTH) -> str:
    text = value if isinstance(value, str) else _compact_json(value, width + 1)
    return text if len(text) <= width else text[: width - 1] + "…"


def _print(console: Console, text: Text | Rule) -> None:
    """Print recorded text; a lone UTF-16 surrogate (never valid UTF-8) becomes U+FFFD, never a crash."""
    if isinstance(text, Text):
        text.plain = repair_surrogates(text.plain)
    elif isinstance(text.title, Text):
        text.title.plain = repair_surrogates(text.title.plain)
    console.print(text)


def _row(console: Console, label: str, *value: str | Text | tuple[str, str]) -> None:
    """`label     value`, the value wrapped (long words folded) under itself, never under the label."""
    text = Text.assemble(*value)
    for number, line in enumerate(text.wrap(console, max(20, console.width - LABEL), overflow="fold")):
        line.rstrip()
        head = Text(f"{label:<{LABEL}}", style="bold") if number == 0 else Text(" " * LABEL)
        _print(console, head + line)


def _indent(console: Console, text: Text, level: int = 1) -> None:
    """Print `text` wrapped to the terminal and indented by `level` steps, without trailing blanks."""
    margin = 2 * level
    for line in text.wrap(console, max(20, console.width - margin)):
        line.rstrip()
        _print(console, Text(" " * margin) + line)


def format_usage(usage: Any) -> str:
    """`prompt_tokens=10 completion_tokens=5 …`, nested details flattened, nulls left out."""
    if not isinstance(usage, dict):
        return _short(usage)
    items: list[str] = []
    for key, value in usage.items():
        if isinstance(value, dict):  # details: the zeros say nothing
            items.extend(f"{key}.{sub}={_short(v, 20)}" for sub, v in value.items() if v not in (None, 0))
        elif value is not None and not isinstance(value, list):  # per-modality lists: in --json
            items.append(f"{key}={_short(value, 40)}")
    return " ".join(items)


def _joined(values: Iterable[str | None], sep: str = " · ") -> str:
    return sep.join(value for value in values if value)


# ---------------------------------------------------------------------------------------------------------------
# fixtures show


def _part(console: Console, part: Part) -> None:
    if part.type == "tool_call":
        head = Text.assemble(("→ ", "bold cyan"), (part.name or "(no name)", "bold"))
        if part.call_id:
            head.append(f"  {part.call_id}", "dim")
        _indent(console, head, 2)
        if part.arguments:
            _indent(console, Text(part.arguments), 3)
    elif part.type == "tool_result":
        head = Text.assemble(("← ", "bold yellow"), (part.name or "result", "bold"))
        if part.call_id:
            head.append(f"  {part.call_id}", "dim")
        _indent(console, head, 2)
        _indent(console, Text(part.text or ""), 3)
    else:
        _indent(console, Text(part.text or "", style="dim" if part.type == "other" else ""), 2)


def _message(console: Console, message: Message) -> None:
    _indent(console, Text(message.role, style=f"bold {ROLE_STYLES.get(message.role, 'white')}"))
    for part in message.parts:
        _part(console, part)
    if not message.parts:
        _indent(console, Text("(empty)", style="dim"), 2)


def render_shown(items: Iterable[Shown]) -> None:
    """Each recording: its request (parameters, tools, the conversation) and its response facts."""
    console = stdout_console()
    for item in items:
        _print(console, Rule(Text(item.path), align="left"))
        request = item.request
        if request is not None:
            if request.test_id:
                _row(console, "test", request.test_id)
            where = _joined([request.method, request.endpoint, request.provider, request.model])
            _row(console, "request", where or request.kind)
            if request.url:
                _row(console, "url", request.url)
            if request.parameters:
                params = "  ".join(f"{key}={_short(value, 60)}" for key, value in request.parameters.items())
                _row(console, "params", params)
            if request.tools:
                _row(console, "tools", ", ".join(request.tools))
            if request.messages:
                _row(console, "messages", str(len(request.messages)))
                for message in request.messages:
                    _message(console, message)
        response = item.response
        stream = f"stream, {response.chunks} chunks" if response.streaming else "not streamed"
        status = f"status {response.status}" if response.status is not None else None
        body_type = response.body_type.rsplit(".", 1)[-1] if response.body_type else None
        kind = response.kind if response.kind not in (None, "unknown", "none", "empty") else None
        if not response.streaming and body_type:
            kind = None  # the shape it folds into (`chat.completion.chunk`) would read as if it were streamed
        _row(console, "response", _joined([status, body_type, kind, stream]))
        if response.exception:
            _row(console, "exception", (response.exception, "red"))
        if response.usage is not None:
            _row(console, "usage", format_usage(response.usage))


# ---------------------------------------------------------------------------------------------------------------
# fixtures show --assemble


def _arguments_text(call: ToolCall) -> tuple[str | None, bool]:
    """The arguments as shown: re-indented when they are JSON, else as recorded (and flagged)."""
    valid, parsed = call.parsed_arguments()
    if not valid:
        return str(call.arguments), False
    if parsed is None:
        return None, True
    return json.dumps(parsed, indent=2, ensure_ascii=False), True


def _tool_call(console: Console, call: ToolCall) -> None:
    head = Text.assemble(("tool call ", "bold"), (call.name or "(no name)", "bold cyan"))
    if call.kind != "function" and call.kind != call.name:
        head.append(f" ({call.kind})", "dim")
    if call.call_id:
        head.append(f"  id {call.call_id}", "dim")
    body, valid = _arguments_text(call)
    if not valid:
        head.append("  (arguments are not valid JSON; shown as recorded)", "bold red")
    _indent(console, head)
    if body and call.kind == "function":
        _indent(console, Text(body), 2)


def _other(item: Any) -> str:
    """A block or item no field describes, by its type (`[web_search_call completed]`)."""
    if isinstance(item, dict):
        kind = item.get("type") or next(iter(item), "part")
        status = item.get("status")
        return f"[{kind}{' ' + status if isinstance(status, str) else ''}]"
    return f"[{type(item).__name__}]"


def _choice(console: Console, choice: Choice) -> None:
    head = Text(choice.label, style="bold")
    if choice.role:
        head.append(f" · {choice.role}", ROLE_STYLES.get(choice.role, ""))
    head.append(" · finish: ")
    finish = choice.finish_reason if isinstance(choice.finish_reason, str) else None
    head.append(finish or "(none)", "" if finish else "yellow")
    _print(console, head)
    if choice.reasoning:
        _indent(console, Text("reasoning", style="bold dim"))
        _indent(console, Text(choice.reasoning, style="dim italic"), 2)
    if choice.refusal:
        _indent(console, Text.assemble(("refusal ", "bold red"), choice.refusal))
    if choice.text:
        _indent(console, Text(choice.text))
    elif not choice.tool_calls and not choice.refusal:
        _indent(console, Text("(no content)", style="dim"))
    for call in choice.tool_calls:
        _tool_call(console, call)
    if choice.other:
        _indent(console, Text(" ".join(_other(item) for item in choice.other), style="dim"))


def render_assembled(items: Iterable[tuple[str, FinalMessage]]) -> None:
    """Each final message: per choice its role, content, reasoning, tool calls and finish reason; then usage,
    the stream error and the warnings."""
    console = stdout_console()
    for path, final in items:
        _print(console, Rule(Text(path), align="left"))
        _print(console, Text(_joined([final.kind, plural(final.n_items, "item"), final.model, final.id]), style="dim"))
        for choice in final.choices:
            _choice(console, choice)
        if final.models is not None:
            names = [
                _short(m.get("id") or m.get("model") or m.get("name"), 60) for m in final.models if isinstance(m, dict)
            ]
            _row(console, "models", ", ".join(names) or "(none)")
        if final.usage is not None:
            _row(console, "usage", format_usage(final.usage))
        for warning in final.warnings:
            _print(console, Text.assemble(("warning: ", "bold yellow"), warning))
