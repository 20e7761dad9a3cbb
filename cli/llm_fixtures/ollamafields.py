"""The timing and count fields Ollama's native API adds to every final answer (`/api/chat`, `/api/generate`, ...)."""

from __future__ import annotations

# In the order the ollama-python models declare them. The durations are nanoseconds measured by the server:
# they change on every call (the recorder zeroes them; `diff` sets them aside); the counts are tokens.
METRICS = (
    "total_duration",
    "load_duration",
    "prompt_eval_count",
    "prompt_eval_duration",
    "eval_count",
    "eval_duration",
)
DURATIONS = tuple(name for name in METRICS if name.endswith("_duration"))
