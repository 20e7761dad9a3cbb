"""Responses that use built-in tools; the web search results come from the tool runtime (Tavily)."""

from __future__ import annotations

import pytest
from openai import OpenAI

WEB_SEARCH_CASES = {
    "python_release": ("When was Python 3.13 released? Search the web.", "2024"),
}


@pytest.mark.parametrize("case", list(WEB_SEARCH_CASES), ids=list(WEB_SEARCH_CASES))
def test_response_non_streaming_web_search(compat_client: OpenAI, text_model_id: str, case: str) -> None:
    prompt, expected = WEB_SEARCH_CASES[case]
    response = compat_client.responses.create(
        model=text_model_id.split("/", 1)[1], input=prompt, tools=[{"type": "web_search"}], stream=False
    )
    assert response.output[0].type == "web_search_call"
    assert response.output[0].status == "completed"
    assert expected in response.output_text
