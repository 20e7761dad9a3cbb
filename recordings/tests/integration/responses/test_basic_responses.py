"""The Responses API, streamed: lifecycle events, text deltas and the final response."""

from __future__ import annotations

import pytest
from openai import OpenAI

CASES = {
    "moon_landing": (
        "In one sentence, who was the first person to walk on the Moon, and when?",
        "armstrong",
    ),
}


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_response_streaming_text(compat_client: OpenAI, text_model_id: str, case: str) -> None:
    prompt, expected = CASES[case]
    events = list(compat_client.responses.create(model=text_model_id.split("/", 1)[1], input=prompt, stream=True))
    types = [event.type for event in events]
    assert types[0] == "response.created"
    assert types[-1] == "response.completed"
    deltas = "".join(event.delta for event in events if event.type == "response.output_text.delta")
    final = events[-1].response
    assert final.output_text == deltas
    assert expected in deltas.lower()
