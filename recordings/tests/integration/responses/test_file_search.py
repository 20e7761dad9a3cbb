"""file_search over a vector store: the stack runs the search and sends the chunks to the model."""

from __future__ import annotations

from pathlib import Path

import pytest
from openai import OpenAI

HANDBOOK = """New employees accrue 15 vacation days per year, available after 90 days.
Unused vacation days carry over up to a maximum of 5 days into the next calendar year.
"""

CASES = {
    "employee_handbook": ("How many vacation days do new employees get per year?", "15"),
}


@pytest.fixture
def handbook_store(compat_client: OpenAI, tmp_path: Path) -> str:
    path = tmp_path / "employee_handbook.txt"
    path.write_text(HANDBOOK)
    with path.open("rb") as handle:
        uploaded = compat_client.files.create(file=handle, purpose="assistants")
    store = compat_client.vector_stores.create(name="handbook")
    compat_client.vector_stores.files.create_and_poll(
        vector_store_id=store.id, file_id=uploaded.id, attributes={"department": "hr"}
    )
    return store.id


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_response_file_search_non_streaming(
    compat_client: OpenAI, text_model_id: str, handbook_store: str, case: str
) -> None:
    prompt, expected = CASES[case]
    response = compat_client.responses.create(
        model=text_model_id.split("/", 1)[1],
        input=prompt,
        tools=[{"type": "file_search", "vector_store_ids": [handbook_store]}],
        stream=False,
    )
    assert response.output[0].type == "file_search_call"
    assert expected in response.output_text
