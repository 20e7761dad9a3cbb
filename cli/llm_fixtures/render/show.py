"""Human output of `fixtures show`: what a recording sent and got, and (`--assemble`) its final message."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from rich.console import Console
from rich.rule import Rule
from rich.text import Text

from llm_fixtures.conversation import Answer, AssembledView, Message, Part, Shown, ToolCall
from llm_fixtures.humanizing import plural
from llm_fixtures.render.console import stdout_console

LABEL = 10
VALUE_WIDTH = 80
ROLE_STYLES = {"system": "magenta", "user": "green", "assistant": "cyan", "tool": "yellow"}


def _short(value: Any, width: int = VALUE_WIDTH) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= width else text[: width - 1] + "…"


def _row(console: Console, label: str, *value: str | Text | tuple[str, str]) -> None:
    """`label     value`, the value wrapped (long words folded) under itself, never under the label."""
    text = Text.assemble(*value)
    for number, line in enumerate(text.wrap(console, max(20, console.width - LABEL), overflow="fold")):
        line.rstrip()
        head = Text(f"{label:<{LABEL}}", style="bold") if number == 0 else Text(" " * LABEL)
        console.print(head + line)


def _indent(console: Console, text: Text, level: int = 1) -> None:
    """Print `text` wrapped to the terminal and indented by `level` steps, without trailing blanks."""
    margin = 2 * level
    for line in text.wrap(console, max(20, console.width - margin)):
        line.rstrip()
        console.print(Text(" " * margin) + line)


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


def render_shown(items: Sequence[Shown]) -> None:
    """Each recording: its request (parameters, tools, the conversation) and its response facts."""
    console = stdout_console()
    for item in items:
        console.print(Rule(Text(item.path), align="left"))
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


def _tool_call(console: Console, call: ToolCall) -> None:
    head = Text.assemble(("tool call ", "bold"), (call.name or "(no name)", "bold cyan"))
    if call.call_id:
        head.append(f"  id {call.call_id}", "dim")
    if not call.valid:
        head.append("  (arguments are not valid JSON; shown as recorded)", "bold red")
    _indent(console, head)
    body = call.pretty if call.valid and call.pretty is not None else call.arguments
    if body:
        _indent(console, Text(body), 2)


def _answer(console: Console, answer: Answer) -> None:
    head = Text(answer.label, style="bold")
    if answer.role:
        head.append(f" · {answer.role}", ROLE_STYLES.get(answer.role, ""))
    head.append(" · finish: ")
    head.append(answer.finish_reason or "(none)", "" if answer.finish_reason else "yellow")
    console.print(head)
    if answer.reasoning:
        _indent(console, Text("reasoning", style="bold dim"))
        _indent(console, Text(answer.reasoning, style="dim italic"), 2)
    if answer.refusal:
        _indent(console, Text.assemble(("refusal ", "bold red"), answer.refusal))
    if answer.content:
        _indent(console, Text(answer.content))
    elif not answer.tool_calls and not answer.refusal:
        _indent(console, Text("(no content)", style="dim"))
    for call in answer.tool_calls:
        _tool_call(console, call)
    if answer.other:
        _indent(console, Text(" ".join(answer.other), style="dim"))


def render_assembled(items: Sequence[AssembledView]) -> None:
    """Each final message: per choice its role, content, reasoning, tool calls and finish reason; then usage,
    the stream error and the warnings."""
    console = stdout_console()
    for item in items:
        console.print(Rule(Text(item.path), align="left"))
        console.print(Text(_joined([item.kind, plural(item.n_items, "item"), item.model, item.id]), style="dim"))
        for answer in item.answers:
            _answer(console, answer)
        if item.usage is not None:
            _row(console, "usage", format_usage(item.usage))
        for warning in item.warnings:
            console.print(Text.assemble(("warning: ", "bold yellow"), warning))
