"""VCR cassettes (vcrpy, pytest-recording, pytest-vcr, pydantic-ai's serializer, realtime WebSocket sessions):
read by content, described, assembled, checked for secrets and scrubbed in place."""
