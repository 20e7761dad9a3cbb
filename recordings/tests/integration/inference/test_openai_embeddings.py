"""Embeddings through the OpenAI-compatible API."""

from __future__ import annotations

import math

from openai import OpenAI


def test_openai_embeddings_with_dimensions(openai_client: OpenAI, embedding_model_id: str) -> None:
    response = openai_client.embeddings.create(
        model=embedding_model_id.split("/", 1)[1],
        input=["The quick brown fox", "jumps over the lazy dog"],
        encoding_format="float",
        dimensions=8,
    )
    assert [item.index for item in response.data] == [0, 1]
    for item in response.data:
        assert len(item.embedding) == 8
        assert math.isclose(math.sqrt(sum(x * x for x in item.embedding)), 1.0, rel_tol=1e-2)
    assert response.usage.prompt_tokens > 0
