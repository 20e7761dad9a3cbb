"""Human output of `fixtures show`: what a recording sent and got, and (`--assemble`) its final message."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from rich.console import Console, OverflowMethod
from rich.rule import Rule
from rich.text import Text

from llm_fixtures.assembling.final import Choice, FinalMessage, ToolCall
from llm_fixtures.assembling.merging import repair_surrogates
from llm_fixtures.conversation import Message, Part, Shown
from llm_fixtures.escaping import one_line
from llm_fixtures.humanizing import plural
from llm_fixtures.render.console import stdout_console, write_lines
from llm_fixtures.render.recorded import RecordedText

LABEL = 10
TAB_SIZE = 8  # as rich expands them
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


class _Page:
    """The lines of one item, written in one go when it is done. On a terminal (or with styles) rich lays out one
    text per item rather than one per line; in a pipe without styles, which has no width, nothing is wrapped and
    the lines go to the plain writer as they are."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.terminal = console.is_terminal
        self.plain = not self.terminal and console.color_system is None
        self.lines: list[Text] = []

    def title(self, path: str) -> None:
        """The rule that opens an item (in a pipe, only its title)."""
        if self.terminal:
            self.flush()
            _print(self.console, Rule(RecordedText(one_line(path)), align="left"))
        else:
            self.lines.append(RecordedText(one_line(path)))

    def add(self, text: Text) -> None:
        self.lines.append(text)

    def wrap(self, text: Text, margin: int, overflow: OverflowMethod | None = None) -> list[Text]:
        """`text` wrapped to the terminal less `margin` columns (in a pipe: its lines), tabs expanded, each line
        without its trailing blanks."""
        if self.terminal:
            lines = list(text.wrap(self.console, max(20, self.console.width - margin), overflow=overflow))
        else:
            lines = list(text.split("\n", allow_blank=True))
            for line in lines:
                line.expand_tabs(TAB_SIZE)
        for line in lines:
            line.rstrip()
        return lines

    def flush(self) -> None:
        if not self.lines:
            return
        if self.plain:
            for line in self.lines:
                line.expand_tabs(TAB_SIZE)
            write_lines(repair_surrogates(line.plain) for line in self.lines)
        else:
            _print(self.console, Text("\n").join(self.lines))
        self.lines = []


def _one_line_part(part: str | Text | tuple[str, str]) -> str | Text | tuple[str, str]:
    if isinstance(part, str):
        return one_line(part)
    return (one_line(part[0]), part[1]) if isinstance(part, tuple) else part


def _row(page: _Page, label: str, *value: str | Text | tuple[str, str]) -> None:
    """`label     value`, the value wrapped (long words folded) under itself, never under the label."""
    text = RecordedText.assemble(*(_one_line_part(part) for part in value))
    for number, line in enumerate(page.wrap(text, LABEL, overflow="fold")):
        head = Text(f"{label:<{LABEL}}", style="bold") if number == 0 else Text(" " * LABEL)
        page.add(head + line)


def _indent(page: _Page, text: Text, level: int = 1) -> None:
    """`text` wrapped to the terminal and indented by `level` steps."""
    margin = 2 * level
    for line in page.wrap(text, margin):
        page.add(Text(" " * margin) + line)


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


def _part(page: _Page, part: Part) -> None:
    if part.type == "tool_call":
        head = RecordedText.assemble(("→ ", "bold cyan"), (one_line(part.name or "(no name)"), "bold"))
        if part.call_id:
            head.append(f"  {one_line(part.call_id)}", "dim")
        _indent(page, head, 2)
        if part.arguments:
            _indent(page, RecordedText(part.arguments), 3)
    elif part.type == "tool_result":
        head = RecordedText.assemble(("← ", "bold yellow"), (one_line(part.name or "result"), "bold"))
        if part.call_id:
            head.append(f"  {one_line(part.call_id)}", "dim")
        _indent(page, head, 2)
        _indent(page, RecordedText(part.text or ""), 3)
    else:
        _indent(page, RecordedText(part.text or "", style="dim" if part.type == "other" else ""), 2)


def _message(page: _Page, message: Message) -> None:
    _indent(page, RecordedText(one_line(message.role), style=f"bold {ROLE_STYLES.get(message.role, 'white')}"))
    for part in message.parts:
        _part(page, part)
    if not message.parts:
        _indent(page, RecordedText("(empty)", style="dim"), 2)


def render_shown(items: Iterable[Shown]) -> None:
    """Each recording: its request (parameters, tools, the conversation) and its response facts."""
    page = _Page(stdout_console())
    for item in items:
        page.title(item.path)
        request = item.request
        if request is not None:
            if request.test_id:
                _row(page, "test", request.test_id)
            where = _joined([request.method, request.endpoint, request.provider, request.model])
            _row(page, "request", where or request.kind)
            if request.url:
                _row(page, "url", request.url)
            if request.parameters:
                params = "  ".join(f"{key}={_short(value, 60)}" for key, value in request.parameters.items())
                _row(page, "params", params)
            if request.tools:
                _row(page, "tools", ", ".join(request.tools))
            if request.messages:
                _row(page, "messages", str(len(request.messages)))
                for message in request.messages:
                    _message(page, message)
        response = item.response
        stream = f"stream, {response.chunks} chunks" if response.streaming else "not streamed"
        status = f"status {response.status}" if response.status is not None else None
        body_type = response.body_type.rsplit(".", 1)[-1] if response.body_type else None
        kind = response.kind if response.kind not in (None, "unknown", "none", "empty") else None
        if not response.streaming and body_type:
            kind = None  # the shape it folds into (`chat.completion.chunk`) would read as if it were streamed
        _row(page, "response", _joined([status, body_type, kind, stream]))
        if response.exception:
            _row(page, "exception", (response.exception, "red"))
        if response.usage is not None:
            _row(page, "usage", format_usage(response.usage))
        page.flush()


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


def _tool_call(page: _Page, call: ToolCall) -> None:
    head = RecordedText.assemble(("tool call ", "bold"), (one_line(call.name or "(no name)"), "bold cyan"))
    if call.kind != "function" and call.kind != call.name:
        head.append(f" ({one_line(call.kind)})", "dim")
    if call.call_id:
        head.append(f"  id {one_line(call.call_id)}", "dim")
    body, valid = _arguments_text(call)
    if not valid:
        head.append("  (arguments are not valid JSON; shown as recorded)", "bold red")
    _indent(page, head)
    if body and call.kind == "function":
        _indent(page, RecordedText(body), 2)


def _other(item: Any) -> str:
    """A block or item no field describes, by its type (`[web_search_call completed]`)."""
    if isinstance(item, dict):
        kind = item.get("type") or next(iter(item), "part")
        status = item.get("status")
        return f"[{kind}{' ' + status if isinstance(status, str) else ''}]"
    return f"[{type(item).__name__}]"


def _choice(page: _Page, choice: Choice) -> None:
    head = RecordedText(one_line(choice.label), style="bold")
    if choice.role:
        head.append(f" · {one_line(choice.role)}", ROLE_STYLES.get(choice.role, ""))
    head.append(" · finish: ")
    finish = choice.finish_reason if isinstance(choice.finish_reason, str) else None
    head.append(one_line(finish or "(none)"), "" if finish else "yellow")
    page.add(head)
    if choice.reasoning:
        _indent(page, RecordedText("reasoning", style="bold dim"))
        _indent(page, RecordedText(choice.reasoning, style="dim italic"), 2)
    if choice.refusal:
        _indent(page, RecordedText.assemble(("refusal ", "bold red"), choice.refusal))
    if choice.text:
        _indent(page, RecordedText(choice.text))
    elif not choice.tool_calls and not choice.refusal:
        _indent(page, RecordedText("(no content)", style="dim"))
    for call in choice.tool_calls:
        _tool_call(page, call)
    if choice.other:
        _indent(page, RecordedText(" ".join(_other(item) for item in choice.other), style="dim"))


def render_assembled(items: Iterable[tuple[str, FinalMessage]]) -> None:
    """Each final message: per choice its role, content, reasoning, tool calls and finish reason; then usage,
    the stream error and the warnings."""
    page = _Page(stdout_console())
    for path, final in items:
        page.title(path)
        page.add(
            RecordedText(
                one_line(_joined([final.kind, plural(final.n_items, "item"), final.model, final.id])), style="dim"
            )
        )
        for choice in final.choices:
            _choice(page, choice)
        if final.models is not None:
            names = [
                _short(m.get("id") or m.get("model") or m.get("name"), 60) for m in final.models if isinstance(m, dict)
            ]
            _row(page, "models", ", ".join(names) or "(none)")
        if final.usage is not None:
            _row(page, "usage", format_usage(final.usage))
        for warning in final.warnings:
            page.add(RecordedText.assemble(("warning: ", "bold yellow"), one_line(warning)))
        page.flush()
