"""The `[tool.fixtures]` settings as pydantic models: a typo in a key fails with the key named."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field


class Section(BaseModel):
    """A table of `[tool.fixtures]`: a typo in a key fails with the key named."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class DiffSettings(Section):
    """`[tool.fixtures.diff]`."""

    volatile: list[str] = Field(default_factory=list, description="extra volatile field names or paths")


class CheckSettings(Section):
    """`[tool.fixtures.check]`."""

    allow_secrets: list[str] = Field(default_factory=list, description="strings or regexes never reported")
    max_file_bytes: int = 1_000_000
    max_image_bytes: int = 200_000


class PruneSettings(Section):
    """`[tool.fixtures.prune]`."""

    collect: list[Annotated[list[str], Field(min_length=1)]] = Field(
        default_factory=list, description="pytest --collect-only commands (each a non-empty list of words)"
    )
    collect_cwd: str | None = Field(
        default=None, description="folder the collect commands run in, relative to the pyproject (default: its folder)"
    )


class RerecordSettings(Section):
    """`[tool.fixtures.rerecord]`: how the pytest runner records (`preset`, or `command` with `{node_ids}` and
    `{python}`, and `env`), and the defaults of the http runner's flags."""

    preset: str | None = Field(default=None, description="ogx, llama-stack or none (default: detected)")
    command: list[str] | None = None
    env: dict[str, str] = Field(default_factory=dict)
    base_url: str | None = None
    api_key_env: str | None = None
    jobs: int = Field(default=4, ge=1)
    timeout: float = Field(default=60.0, gt=0)
    retries: int = Field(default=3, ge=0)


class Settings(Section):
    """The whole `[tool.fixtures]` table."""

    roots: list[str] | None = None
    volatile: list[str] = Field(default_factory=list)
    diff: DiffSettings = Field(default_factory=DiffSettings)
    check: CheckSettings = Field(default_factory=CheckSettings)
    prune: PruneSettings = Field(default_factory=PruneSettings)
    rerecord: RerecordSettings = Field(default_factory=RerecordSettings)
