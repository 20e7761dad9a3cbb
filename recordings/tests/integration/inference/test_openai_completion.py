"""The legacy completions endpoint (`/v1/completions`), streamed."""

from __future__ import annotations

import pytest
from openai import OpenAI

CASES = {
    "inference:completion:geography": {
        "prompt": "Complete the sentence: The capital of Portugal is",
        "expected": "lisbon",
    },
}


@pytest.mark.parametrize("test_case", ["inference:completion:geography"])
def test_openai_completion_streaming(openai_client: OpenAI, text_model_id: str, test_case: str) -> None:
    case = CASES[test_case]
    stream = openai_client.completions.create(
        model=text_model_id.split("/", 1)[1], prompt=case["prompt"], max_tokens=24, stream=True
    )
    chunks = list(stream)
    text = "".join(chunk.choices[0].text for chunk in chunks)
    assert case["expected"] in text.lower()
    assert chunks[-1].choices[0].finish_reason in ("stop", "length")
