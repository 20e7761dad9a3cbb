"""fixtures: look after recorded LLM API fixtures (list, assemble, diff, check, prune, re-record)."""

__version__ = "0.1.0"
