"""The arguments of `selfcoder.*` commands: one JSON object each, checked here so a malformed
request is a clear `BadArguments` error rather than a traceback."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from lsprotocol import types

from selfcoder.lsp.runs import BadArguments

MAX_PROBLEM_CHARS = 100_000


def one_object(command: str, args: tuple) -> dict[str, Any]:
    """The single object argument of `command` (LSP commands take a list of arguments)."""
    if len(args) != 1 or not isinstance(args[0], dict):
        raise BadArguments(f"{command}: expected one object argument, e.g. {{\"runId\": ...}}; got {list(args)!r:.200}")
    return args[0]


def string(obj: dict, key: str, command: str, *, required: bool = True) -> str | None:
    value = obj.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise BadArguments(f"{command}: '{key}' must be a non-empty string")
    return value


def path_of_uri(uri: str, key: str, command: str) -> Path:
    parsed = urlparse(uri)
    if parsed.scheme != "file":
        raise BadArguments(f"{command}: '{key}' must be a file:// URI, got {uri!r:.200}")
    return Path(unquote(parsed.path)).resolve()


@dataclass
class RunArgs:
    problem: str
    folder: Path
    uri: str | None = None
    range: types.Range | None = None
    agent: str | None = None


def run_args(args: tuple, converter) -> RunArgs:
    command = "selfcoder.run"
    obj = one_object(command, args)
    problem = string(obj, "problem", command)
    if len(problem) > MAX_PROBLEM_CHARS:
        raise BadArguments(f"{command}: 'problem' is longer than {MAX_PROBLEM_CHARS} characters")
    folder = path_of_uri(string(obj, "folderUri", command), "folderUri", command)
    uri = string(obj, "uri", command, required=False)
    if uri is not None:
        path_of_uri(uri, "uri", command)
    rng = None
    if obj.get("range") is not None:
        try:
            rng = converter.structure(obj["range"], types.Range)
        except Exception:  # noqa: BLE001 - cattrs raises several kinds
            raise BadArguments(f"{command}: 'range' must be an LSP Range {{start: {{line, character}}, end: ...}}") from None
    return RunArgs(problem=problem, folder=folder, uri=uri, range=rng,
                   agent=string(obj, "agent", command, required=False))


def run_id_arg(command: str, args: tuple) -> tuple[str, dict]:
    obj = one_object(command, args)
    return string(obj, "runId", command), obj


def files_arg(command: str, obj: dict) -> list[str] | None:
    files = obj.get("files")
    if files is None:
        return None
    if not isinstance(files, list) or not files or not all(isinstance(f, str) and f for f in files):
        raise BadArguments(f"{command}: 'files' must be a non-empty list of folder-relative paths")
    return files
