"""Helpers for the diff tests: git repositories in tmp_path and known perturbations of real corpus recordings."""

from __future__ import annotations

import copy
import hashlib
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

GIT_ENV_ARGS = ["-c", "user.name=Fixtures Test", "-c", "user.email=test@example.invalid", "-c", "commit.gpgsign=false"]

SUITE = "tests/integration/responses/recordings"
# Real corpus files (relative to corpus/llama-stack) with the shapes the perturbations need.
TEXT_STREAM = f"{SUITE}/c060e0e12e3bf077546d9eec6d4e9d2e080e661291ca9b52e2e4d2721811efc8.json"
TOOL_STREAM = f"{SUITE}/3448d4d96f9c2cdb4e4e32a1df6dc919657d1f901340dcc8e539b8571cf3e118.json"
REQUEST_STREAM = f"{SUITE}/2443581bf4a71f7b26e3aef9715a65a1cb5ab62249e691e77dcfec2e00be302b.json"
CHURN_STREAM = f"{SUITE}/a8e25167a1543430eb201749330c9aba1cab1eb554f0230d51bb1753d7aa88be.json"
RECHUNK_STREAM = f"{SUITE}/d2e9459ccd646150cb97ab250840a24e9e68f98fa35c3f7f651f4fc221a210bc.json"
DELETED = f"{SUITE}/fc363b1fa0ee8042c43c667369d8da36e92cf6ba3d49a8ef3b983ab664c95395.json"
UNTOUCHED = f"{SUITE}/09f38b94a0c7291d59d96ded055659fd913c84b596ffdd88acf9ae4254d7c7b8.json"
NS_TOOLS = (
    "tests/integration/inference/recordings/12b4c92fd0d85cf140cb3ae3c1f79a6f684b20f57519011742a8b9088e92130a.json"
)
ALL = (TEXT_STREAM, TOOL_STREAM, REQUEST_STREAM, CHURN_STREAM, RECHUNK_STREAM, DELETED, UNTOUCHED, NS_TOOLS)


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", *GIT_ENV_ARGS, *args], cwd=repo, capture_output=True, text=True, check=True)
    return done.stdout


def init_repo(repo: Path) -> None:
    repo.mkdir(parents=True, exist_ok=True)
    git(repo, "init", "-q", "-b", "main")
    (repo / "pyproject.toml").write_text('[project]\nname = "demo"\nversion = "0"\n')


def commit_all(repo: Path, message: str) -> str:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD").strip()


def copy_corpus_files(corpus: Path, repo: Path, relpaths: tuple[str, ...] = ALL) -> None:
    for rel in relpaths:
        target = repo / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(corpus / "llama-stack" / rel, target)


def read(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def _data(item: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = item["__data__"]
    return data


def rechunk(raw: dict[str, Any]) -> dict[str, Any]:
    """Split every chunk whose content is longer than one character into two; the assembled message is the
    same."""
    out = copy.deepcopy(raw)
    chunks: list[dict[str, Any]] = []
    for item in out["response"]["body"]:
        data = _data(item)
        choices = data.get("choices") or []
        content = (choices[0].get("delta") or {}).get("content") if choices else None
        if not isinstance(content, str) or len(content) < 2:
            chunks.append(item)
            continue
        first = copy.deepcopy(item)
        first_choice = _data(first)["choices"][0]
        # the first half carries only text: tool-call fragments, reasoning and the rest stay in the second
        role = first_choice["delta"].get("role")
        first_choice["delta"] = dict.fromkeys(first_choice["delta"])
        first_choice["delta"].update(role=role, content=content[: len(content) // 2])
        first_choice["finish_reason"] = None
        first_choice["logprobs"] = None
        _data(first)["usage"] = None
        choices[0]["delta"]["content"] = content[len(content) // 2 :]
        choices[0]["delta"]["role"] = None
        chunks.extend([first, item])
    out["response"]["body"] = chunks
    return out


def churn(raw: dict[str, Any]) -> dict[str, Any]:
    """New ids, obfuscation strings, fingerprints and timestamps, as a re-record produces."""
    out = copy.deepcopy(raw)
    for number, item in enumerate(out["response"]["body"]):
        data = _data(item)
        data["id"] = "chatcmpl-NEW"
        data["created"] = 1_700_000_000
        data["system_fingerprint"] = "fp_new"
        if "obfuscation" in data:
            data["obfuscation"] = f"x{number}y"
        for choice in data.get("choices") or []:
            for call in (choice.get("delta") or {}).get("tool_calls") or []:
                if call.get("id"):
                    call["id"] = "call_NEW"
    return out


def edit_text(raw: dict[str, Any], old: str, new: str) -> dict[str, Any]:
    """Replace a word in the first content delta that contains it."""
    out = copy.deepcopy(raw)
    for item in out["response"]["body"]:
        for choice in _data(item).get("choices") or []:
            delta = choice.get("delta") or {}
            if isinstance(delta.get("content"), str) and old in delta["content"]:
                delta["content"] = delta["content"].replace(old, new, 1)
                return out
    raise AssertionError(f"{old!r} not found in any content delta")


def stream_arguments(raw: dict[str, Any]) -> str:
    parts = [
        call["function"]["arguments"]
        for item in raw["response"]["body"]
        for choice in _data(item).get("choices") or []
        for call in (choice.get("delta") or {}).get("tool_calls") or []
        if (call.get("function") or {}).get("arguments")
    ]
    return "".join(parts)


def edit_stream_arguments(raw: dict[str, Any], key: str, value: Any) -> dict[str, Any]:
    """Set one argument of the streamed tool call: the whole new JSON goes into the first fragment."""
    out = copy.deepcopy(raw)
    arguments = json.loads(stream_arguments(out))
    arguments[key] = value
    first = True
    for item in out["response"]["body"]:
        for choice in _data(item).get("choices") or []:
            for call in (choice.get("delta") or {}).get("tool_calls") or []:
                function = call.get("function") or {}
                if function.get("arguments"):
                    function["arguments"] = json.dumps(arguments) if first else ""
                    first = False
    return out


def edit_request(raw: dict[str, Any], suffix: str) -> dict[str, Any]:
    """Append to the last user message: the request (and so the file name) changes."""
    out = copy.deepcopy(raw)
    messages = out["request"]["body"]["messages"]
    for message in reversed(messages):
        if message.get("role") == "user" and isinstance(message.get("content"), str):
            message["content"] += suffix
            return out
    raise AssertionError("no user message with string content")


def new_name(path: Path, salt: str) -> Path:
    return path.with_name(hashlib.sha256((path.name + salt).encode()).hexdigest() + ".json")


def edit_message_arguments(raw: dict[str, Any], key: str, value: Any) -> dict[str, Any]:
    """Set one argument of the first tool call of a non-streamed answer, and give the call a new id."""
    out = copy.deepcopy(raw)
    call = out["response"]["body"]["__data__"]["choices"][0]["message"]["tool_calls"][0]
    arguments = json.loads(call["function"]["arguments"])
    arguments[key] = value
    call["function"]["arguments"] = json.dumps(arguments)
    call["id"] = "call_new"
    return out
