"""The kinds of request a recording holds (inference, http, tool, file-processor), and which one a raw request is."""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class RequestKind(StrEnum):
    """The request families of the recorder, each hashed and modelled its own way. A StrEnum: a member equals
    its value (`RequestKind.http == "http"`), so a kind read back from a cache compares as one made fresh, and
    Typer offers the values as the choices of `--kind`."""

    inference = "inference"
    http = "http"
    tool = "tool"
    file_processor = "file-processor"


def request_kind(value: Any) -> RequestKind:
    """Which request family a raw `request` object belongs to, by its keys."""
    if not isinstance(value, dict):
        return RequestKind.inference
    if "tool_name" in value:
        return RequestKind.tool
    if "api" in value and "file_id" in value:
        return RequestKind.file_processor
    if "payload" in value and "body" not in value:
        return RequestKind.http
    return RequestKind.inference
