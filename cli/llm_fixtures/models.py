"""Pydantic models of a recording file, in every format era; they keep unknown keys and key order."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    PrivateAttr,
    SerializationInfo,
    SerializerFunctionWrapHandler,
    Tag,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    model_serializer,
    model_validator,
)

from llm_fixtures.kinds import RequestKind, request_kind


class FileModel(BaseModel):
    """A model of part of an external file: unknown keys survive, and so does the order of the keys.

    A file read and written back in the upstream style must be byte-identical, so the serializer puts
    the keys back in the order they were read.
    """

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    _key_order: tuple[str, ...] | None = PrivateAttr(default=None)

    @model_validator(mode="wrap")
    @classmethod
    def _remember_key_order(cls, data: Any, handler: ValidatorFunctionWrapHandler, info: ValidationInfo) -> Any:
        del info
        model = handler(data)
        if isinstance(data, dict) and isinstance(model, FileModel):
            model._key_order = tuple(data)
        return model

    @model_serializer(mode="wrap")
    def _restore_key_order(self, handler: SerializerFunctionWrapHandler, info: SerializationInfo) -> dict[str, Any]:
        del info
        dumped: dict[str, Any] = handler(self)
        if self._key_order is None:
            return dumped
        ordered = {key: dumped[key] for key in self._key_order if key in dumped}
        ordered.update((key, value) for key, value in dumped.items() if key not in ordered)
        return ordered


class Envelope(FileModel):
    """`{"__type__": "<module>.<QualName>", "__data__": {...}}`: a pydantic object as the recorder stored it.

    `type_name` is only ever read as a string; nothing here imports what it names.
    """

    type_name: str = Field(alias="__type__")
    data: Any = Field(alias="__data__")


class InferenceRequest(FileModel):
    """An SDK call: OpenAI, Ollama or google-genai (`method, url, headers, body, endpoint, model`)."""

    method: str = "POST"
    url: str = ""
    headers: dict[str, Any] | None = None
    body: Any = None
    endpoint: str = ""
    model: str | None = ""
    provider_metadata: dict[str, Any] | None = None


class HttpRequest(FileModel):
    """A raw HTTP passthrough (rerank, Anthropic Messages, Gemini Interactions): `test_id, url, method, payload`."""

    test_id: str | None = None
    url: str
    method: str = "POST"
    payload: Any = None


class ToolRequest(FileModel):
    """A tool runtime call (Tavily web search): `test_id, provider, tool_name, kwargs`."""

    test_id: str | None = None
    provider: str | None = None
    tool_name: str
    # `kwargs` as a field name would shadow pydantic's own `**kwargs` in the generated signature.
    tool_kwargs: Any = Field(default=None, alias="kwargs")


class FileProcessorRequest(FileModel):
    """A historic file-processor call: `test_id, provider, api, file_id`."""

    test_id: str | None = None
    provider: str | None = None
    api: str
    file_id: str | None = None


def _request_kind(value: Any) -> RequestKind:
    if isinstance(value, FileModel):
        value = value.model_dump(by_alias=True, exclude_unset=True)
    return request_kind(value)


AnyRequest = Annotated[
    Annotated[InferenceRequest, Tag("inference")]
    | Annotated[HttpRequest, Tag("http")]
    | Annotated[ToolRequest, Tag("tool")]
    | Annotated[FileProcessorRequest, Tag("file-processor")],
    Discriminator(_request_kind),
]


class Response(FileModel):
    """What came back: a body (envelope, list of envelopes, SSE lines, plain JSON or null) and its flags."""

    body: Any = None
    is_streaming: bool = False
    status: int | None = None
    is_exception: bool | None = None
    exception_data: dict[str, Any] | None = None
    exception_message: str | None = None


class RecordingFile(FileModel):
    """One recording file. The three top-level key sets of every era are all valid:
    `test_id, request, response, id_normalization_mapping`; `test_id, request, response`; `request, response`.
    """

    test_id: str | None = None
    request: AnyRequest
    response: Response
    id_normalization_mapping: dict[str, Any] | None = None
