"""`fixtures show` of a cassette: each interaction as a recording is shown (request, conversation, response), and each
frame of a WebSocket cassette."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from llm_fixtures.cassettes.answers import fold_interaction
from llm_fixtures.cassettes.bodies import decode, json_of
from llm_fixtures.cassettes.describing import describe_interaction
from llm_fixtures.cassettes.leaks import masked_url
from llm_fixtures.cassettes.model import Cassette, Interaction, Message


@dataclass(frozen=True, slots=True)
class MessageView:
    """One WebSocket frame as `show` prints it: its position, direction, name and data."""

    path: str
    interaction: int
    direction: str | None
    kind: str
    name: str
    data: Any


def show_interaction(path: str, interaction: Interaction) -> Any:
    """The `Shown` of one interaction (the model `show` renders for a recording), its path naming the
    interaction."""
    from llm_fixtures.assembling import Assembly
    from llm_fixtures.conversation import RequestView, ResponseFacts, Shown, conversation, parameters, tool_names
    from llm_fixtures.conversation import usage_of as usage_from

    row = describe_interaction(path, interaction)
    request = interaction.request
    body = json_of(request.body, request.headers)
    kind, result, warnings = fold_interaction(interaction)
    assembly = Assembly.model_construct(kind=kind, result=result, warnings=warnings)
    response_json = decode(interaction.response.body, interaction.response.headers).json
    view = RequestView(
        kind="cassette",
        method=request.method,
        endpoint=row.endpoint or None,
        provider=row.provider,
        model=row.model,
        url=masked_url(row.url) if row.url else None,
        test_id=row.test_id,
        parameters=parameters(body),
        tools=tool_names(body),
        messages=conversation(body),
    )
    return Shown(
        path=path,
        request=view,
        response=ResponseFacts(
            status=interaction.response.status,
            kind=kind,
            body_type=row.content_type,
            streaming=row.streaming,
            chunks=row.chunks,
            usage=usage_from(assembly, response_json),
        ),
    )


def _name(message: Message) -> str:
    if message.kind == "close":
        return f"close {message.code}" + (f" {message.reason}" if message.reason else "")
    data = message.data
    if isinstance(data, dict):
        kind = data.get("type")
        if isinstance(kind, str):
            return kind
        return ", ".join(str(key) for key in data) or "{}"
    return type(data).__name__


def message_views(cassette: Cassette) -> list[MessageView]:
    return [
        MessageView(cassette.path, message.index, message.direction, message.kind, _name(message), message.data)
        for message in cassette.messages
    ]


@dataclass
class ShownCassettes:
    """What `show` prints of some cassettes: per interaction its `Shown` (with the cassette's path and the
    interaction's index), the frames of WebSocket cassettes, and the cassettes that could not be read."""

    shown: list[tuple[str, int, Any]]
    messages: list[MessageView]
    assembled: list[tuple[str, int, str, dict[str, Any], list[str]]]  # (path, interaction, kind, result, warnings)
    problems: list[Any]


def show_cassettes(paths: list[str], *, assemble: bool) -> ShownCassettes:
    """Read each cassette once; `assemble` folds every interaction's answer instead of showing its request."""
    from llm_fixtures.cassettes.reading import read_cassette
    from llm_fixtures.errors import BadRecording

    done = ShownCassettes([], [], [], [])
    for path in paths:
        try:
            cassette, _size = read_cassette(path)
        except BadRecording as problem:
            done.problems.append(problem)
            continue
        if cassette.format == "websocket":
            done.messages.extend(message_views(cassette))
        elif assemble:
            for interaction in cassette.interactions:
                done.assembled.append((path, interaction.index, *fold_interaction(interaction)))
        else:
            done.shown.extend(
                (path, interaction.index, show_interaction(path, interaction)) for interaction in cassette.interactions
            )
    return done
