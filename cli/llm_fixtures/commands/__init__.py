"""One module per command; each exposes `run`, registered in `llm_fixtures.app`."""
