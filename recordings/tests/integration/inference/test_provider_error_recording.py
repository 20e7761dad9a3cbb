"""Provider errors are recorded like responses and raised again at replay, with the same type and status."""

from __future__ import annotations

import openai
import pytest
from openai import OpenAI


class TestProviderErrorRecording:
    def test_provider_rejects_excessive_max_tokens(self, openai_client: OpenAI, text_model_id: str) -> None:
        with pytest.raises(openai.BadRequestError) as info:
            openai_client.chat.completions.create(
                model=text_model_id.split("/", 1)[1],
                messages=[{"role": "user", "content": "Say hello."}],
                max_tokens=1_000_000,
            )
        assert info.value.status_code == 400
        assert "max_tokens" in str(info.value)
