"""Vision models: an image sent inline as a base64 data URL."""

from __future__ import annotations

import base64
import struct
import zlib

from openai import OpenAI


def _solid_png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A small PNG of one colour, built without an imaging library."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    row = b"\x00" + bytes(rgb) * width
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(row * height)) + chunk(b"IEND", b"")


def test_openai_chat_completion_image_data_url(openai_client: OpenAI, vision_model_id: str) -> None:
    image = base64.b64encode(_solid_png(16, 16, (220, 30, 30))).decode()
    response = openai_client.chat.completions.create(
        model=vision_model_id.split("/", 1)[1],
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "What color is this square? Answer with one word."},
                    {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{image}"}},
                ],
            }
        ],
        stream=False,
    )
    assert "red" in (response.choices[0].message.content or "").lower()
