"""The openai SDK class the recorder names for each object of the Responses API (`POST /v1/responses`), as data.

The recorder stores a streamed answer as one envelope per event, `__type__` being the class the SDK built for it:
the member of its `ResponseStreamEvent` union chosen by the event's `type` field. A non-streamed answer is one
`Response`. Nothing here imports the SDK: the table below is the union's members, written out.

Each row is `type` -> class name; the module is the class name in snake case (`_module`). Where rows come from:
- `_STORED`: the class path is in a stored recording (the sample `test_response_streaming_text` recording).
- `_IN_CORPUS`: the `type` occurs in the corpus (../shared/corpus/streams, raw SSE of real Responses streams);
  the class is the SDK's union member of that `type` (`response.web_search_call.searching` ->
  `ResponseWebSearchCallSearchingEvent`), named from the SDK's `response_stream_event.py`.
- `_INFERRED`: the `type` is in no recording (26 rows); the row is the SDK union member whose `type` literal it
  is, named the same way. Class names do not always follow the `type`: `error` is `ResponseErrorEvent`,
  `response.image_generation_call.*` are `ResponseImageGenCall*Event`, as `response.output_text.*` are
  `ResponseText*Event` (confirmed by `_STORED`)."""

from __future__ import annotations

import re
from typing import Any

PACKAGE = "openai.types.responses"
RESPONSE = f"{PACKAGE}.response.Response"

# How a stream that went to its end finishes: the SDK yields these and the recorder stores them as results.
TERMINAL = frozenset({"response.completed", "response.failed", "response.incomplete"})
# The event the API sends instead of an answer; a stream that has it fails (see httprunner).
ERROR = "error"

_STORED: dict[str, str] = {
    "response.created": "ResponseCreatedEvent",
    "response.in_progress": "ResponseInProgressEvent",
    "response.output_item.added": "ResponseOutputItemAddedEvent",
    "response.output_item.done": "ResponseOutputItemDoneEvent",
    "response.content_part.added": "ResponseContentPartAddedEvent",
    "response.content_part.done": "ResponseContentPartDoneEvent",
    "response.output_text.delta": "ResponseTextDeltaEvent",
    "response.output_text.done": "ResponseTextDoneEvent",
    "response.completed": "ResponseCompletedEvent",
}

_IN_CORPUS: dict[str, str] = {
    "response.queued": "ResponseQueuedEvent",
    "response.incomplete": "ResponseIncompleteEvent",
    "response.function_call_arguments.delta": "ResponseFunctionCallArgumentsDeltaEvent",
    "response.function_call_arguments.done": "ResponseFunctionCallArgumentsDoneEvent",
    "response.reasoning_summary_part.added": "ResponseReasoningSummaryPartAddedEvent",
    "response.reasoning_summary_part.done": "ResponseReasoningSummaryPartDoneEvent",
    "response.reasoning_summary_text.delta": "ResponseReasoningSummaryTextDeltaEvent",
    "response.reasoning_summary_text.done": "ResponseReasoningSummaryTextDoneEvent",
    "response.reasoning_text.delta": "ResponseReasoningTextDeltaEvent",
    "response.reasoning_text.done": "ResponseReasoningTextDoneEvent",
    "response.web_search_call.in_progress": "ResponseWebSearchCallInProgressEvent",
    "response.web_search_call.searching": "ResponseWebSearchCallSearchingEvent",
    "response.web_search_call.completed": "ResponseWebSearchCallCompletedEvent",
    "response.code_interpreter_call.in_progress": "ResponseCodeInterpreterCallInProgressEvent",
    "response.code_interpreter_call.interpreting": "ResponseCodeInterpreterCallInterpretingEvent",
    "response.code_interpreter_call.completed": "ResponseCodeInterpreterCallCompletedEvent",
    "response.code_interpreter_call_code.delta": "ResponseCodeInterpreterCallCodeDeltaEvent",
    "response.code_interpreter_call_code.done": "ResponseCodeInterpreterCallCodeDoneEvent",
    "response.mcp_call.in_progress": "ResponseMcpCallInProgressEvent",
    "response.mcp_call.completed": "ResponseMcpCallCompletedEvent",
    "response.mcp_call_arguments.delta": "ResponseMcpCallArgumentsDeltaEvent",
    "response.mcp_call_arguments.done": "ResponseMcpCallArgumentsDoneEvent",
    "response.mcp_list_tools.in_progress": "ResponseMcpListToolsInProgressEvent",
    "response.mcp_list_tools.completed": "ResponseMcpListToolsCompletedEvent",
}

_INFERRED: dict[str, str] = {
    ERROR: "ResponseErrorEvent",
    "response.failed": "ResponseFailedEvent",
    "response.refusal.delta": "ResponseRefusalDeltaEvent",
    "response.refusal.done": "ResponseRefusalDoneEvent",
    "response.output_text.annotation.added": "ResponseOutputTextAnnotationAddedEvent",
    "response.audio.delta": "ResponseAudioDeltaEvent",
    "response.audio.done": "ResponseAudioDoneEvent",
    "response.audio.transcript.delta": "ResponseAudioTranscriptDeltaEvent",
    "response.audio.transcript.done": "ResponseAudioTranscriptDoneEvent",
    "response.file_search_call.in_progress": "ResponseFileSearchCallInProgressEvent",
    "response.file_search_call.searching": "ResponseFileSearchCallSearchingEvent",
    "response.file_search_call.completed": "ResponseFileSearchCallCompletedEvent",
    "response.image_generation_call.in_progress": "ResponseImageGenCallInProgressEvent",
    "response.image_generation_call.generating": "ResponseImageGenCallGeneratingEvent",
    "response.image_generation_call.partial_image": "ResponseImageGenCallPartialImageEvent",
    "response.image_generation_call.completed": "ResponseImageGenCallCompletedEvent",
    "response.mcp_call.failed": "ResponseMcpCallFailedEvent",
    "response.mcp_list_tools.failed": "ResponseMcpListToolsFailedEvent",
    "response.custom_tool_call_input.delta": "ResponseCustomToolCallInputDeltaEvent",
    "response.custom_tool_call_input.done": "ResponseCustomToolCallInputDoneEvent",
    "response.shell_call_command.added": "ResponseShellCallCommandAddedEvent",
    "response.shell_call_command.delta": "ResponseShellCallCommandDeltaEvent",
    "response.shell_call_command.done": "ResponseShellCallCommandDoneEvent",
    "response.shell_call_output_content.delta": "ResponseShellCallOutputContentDeltaEvent",
    "response.shell_call_output_content.done": "ResponseShellCallOutputContentDoneEvent",
    "response.compaction.compacting": "ResponseCompactionCompactingEvent",
}


def _module(name: str) -> str:
    """The SDK's module of a generated class: its name in snake case (`ResponseTextDeltaEvent` is in
    `response_text_delta_event`), true of every member its `response_stream_event.py` imports."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


# `type` -> `__type__`: every member of the SDK's ResponseStreamEvent union.
EVENT_CLASSES: dict[str, str] = {
    kind: f"{PACKAGE}.{_module(name)}.{name}" for kind, name in {**_STORED, **_IN_CORPUS, **_INFERRED}.items()
}
# The rows no recording confirms (the type is in no recording): named by the SDK's convention only.
INFERRED = frozenset(_INFERRED)


def event_kind(item: Any) -> str | None:
    """The `type` of one decoded stream event, or None when it has none."""
    kind = item.get("type") if isinstance(item, dict) else None
    return kind if isinstance(kind, str) else None


def event_class(item: Any) -> str:
    """The `__type__` the recorder writes for one decoded stream event. An event type the table lacks fails with
    a clear reason rather than a guessed class (the SDK itself would fall back to the first member of its union,
    naming an unrelated class): the answer is not stored."""
    kind = event_kind(item)
    if kind is None:
        raise ValueError("a Responses stream event has no `type`")
    try:
        return EVENT_CLASSES[kind]
    except KeyError:
        raise ValueError(
            f"a Responses stream event of type {kind!r} that no openai SDK class is known for "
            "(rerecording/responses_types.py); re-record this file with --runner pytest"
        ) from None
