"""How a repository's tests are put in record mode, and why: the preset (OGX, llama-stack) read from what the suite's
conftest does with the recorder's mode variable, or named in `[tool.fixtures.rerecord] preset`.

Each era needs its own form. Before September 2025 the llama-stack recorder read `LLAMA_STACK_TEST_INFERENCE_MODE`
alone; from then on (and in OGX, with `OGX_TEST_INFERENCE_MODE`) the conftest writes the variable from
`--inference-mode`, whose default is `replay`, so the variable alone replays: the option must be passed. What the
conftest does decides; the presets' names only fill in when it cannot be read."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from llm_fixtures.errors import ConfigError
from llm_fixtures.rerecording.suitedefs import MODE_OPTION, Conftest
from llm_fixtures.settings import RerecordSettings

RECORD = "record"
# Preset name -> the recorder's mode variable.
PRESET_VARIABLES = {"ogx": "OGX_TEST_INFERENCE_MODE", "llama-stack": "LLAMA_STACK_TEST_INFERENCE_MODE"}
# Package folders that name the recorder when no conftest says (the recorder's own module is there).
_PACKAGES = {"ogx": ("src/ogx/testing",), "llama-stack": ("llama_stack/testing", "src/llama_stack/testing")}


@dataclass(frozen=True, slots=True)
class Preset:
    """What every record run gets: environment additions and options (before the node ids), and why."""

    name: str
    env: dict[str, str]
    args: tuple[str, ...] = ()
    why: list[str] = field(default_factory=list)

    @property
    def config_variable(self) -> str | None:
        """The variable that names the stack config in this era (`OGX_CONFIG`), by the mode variable's prefix."""
        for variable in self.env:
            if variable.endswith("_TEST_INFERENCE_MODE"):
                return variable.removesuffix("_TEST_INFERENCE_MODE") + "_CONFIG"
        return None


def _name_of(variable: str) -> str:
    for name, known in PRESET_VARIABLES.items():
        if known == variable:
            return name
    return variable.removesuffix("_TEST_INFERENCE_MODE").lower().replace("_", "-")


def _from_conftest(name: str, variable: str, conftest: Conftest, told: str) -> Preset:
    where = conftest.path
    if conftest.writes_mode_from_option:
        default = conftest.options.get(MODE_OPTION)
        why = (
            f"preset {name}{told}: {where} sets {variable} from {MODE_OPTION} (default {default!r}), so the "
            f"variable alone would replay: each run passes {MODE_OPTION}={RECORD} (and sets the variable too, for "
            "a stack server it starts)"
        )
        return Preset(name, {variable: RECORD}, (f"{MODE_OPTION}={RECORD}",), [why])
    if conftest.has_mode_option:
        why = f"preset {name}{told}: {where} reads {variable} and has a {MODE_OPTION} option: each run sets both"
        return Preset(name, {variable: RECORD}, (f"{MODE_OPTION}={RECORD}",), [why])
    why = (
        f"preset {name}{told}: {where} reads {variable} and has no {MODE_OPTION} option: each run sets the "
        "variable to record"
    )
    return Preset(name, {variable: RECORD}, (), [why])


def choose_preset(settings: RerecordSettings, conftest: Conftest | None, root: Path) -> Preset | None:
    """The preset in force: `[tool.fixtures.rerecord] preset` when set (`none`: no preset), else the one the
    conftest shows (or the recorder's package, when there is no conftest to read). ConfigError for an unknown
    name."""
    named = settings.preset
    if named is not None and named not in PRESET_VARIABLES and named != "none":
        choices = ", ".join([*PRESET_VARIABLES, "none"])
        raise ConfigError(f"[tool.fixtures.rerecord] preset {named!r} is not one of {choices}")
    if named == "none":
        return None
    if named is not None:
        variable = PRESET_VARIABLES[named]
        told = " ([tool.fixtures.rerecord] preset)"
        if conftest is not None and conftest.mode_variable == variable:
            return _from_conftest(named, variable, conftest, told)
        args = (f"{MODE_OPTION}={RECORD}",) if named == "ogx" else ()
        why = f"preset {named}{told}: sets {variable}=record" + (f" and passes {args[0]}" if args else "")
        return Preset(named, {variable: RECORD}, args, [why])
    if conftest is not None and conftest.mode_variable is not None:
        variable = conftest.mode_variable
        return _from_conftest(_name_of(variable), variable, conftest, "")
    for name, folders in _PACKAGES.items():
        for folder in folders:
            if (root / folder).is_dir():
                variable = PRESET_VARIABLES[name]
                args = (f"{MODE_OPTION}={RECORD}",) if name == "ogx" else ()
                why = f"preset {name}: {folder} is the recorder; no conftest says more: sets {variable}=record"
                return Preset(name, {variable: RECORD}, args, [why + (f" and passes {args[0]}" if args else "")])
    return None
