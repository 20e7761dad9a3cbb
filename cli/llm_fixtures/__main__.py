"""Entry point for `python -m llm_fixtures`."""

from llm_fixtures.app import main

main()
