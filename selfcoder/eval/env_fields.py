"""What a task's `environment` field may say, checked before anything is built: a task file is
untrusted (public dumps), and pip takes options, paths, URLs and file names where a requirement
is expected — each of those could run code on the host or read its files. Only plain PEP 508
specifiers pass (`check_requirement`); `EnvSpec.from_task_field` is the field once checked, and
environments.py builds from it."""

from __future__ import annotations

import re
from dataclasses import dataclass

from packaging.requirements import InvalidRequirement, Requirement

from selfcoder.core.errors import SelfcoderError

MAX_REQUIREMENT = 300
# pip takes a "requirement" with an archive's suffix for a file (in its working directory)
ARCHIVE_SUFFIX = re.compile(r"\.(whl|zip|tar|tgz|tbz2?|txz|tlz|tar\.(gz|bz2|xz|lz|lzma|zst))$", re.IGNORECASE)


class EnvironmentProblem(SelfcoderError):
    """The environment cannot be had: missing interpreter, failed build, a refused field. An
    error for the instances that need it, never a crash of the evaluation."""


def shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def check_requirement(value: object) -> str:
    """`value` as a plain PEP 508 requirement (name, extras, version specifiers, markers), in its
    canonical form; an `EnvironmentProblem` for anything pip would take as an option, a path, a
    file or a URL."""
    why = None
    text = value.strip() if isinstance(value, str) else ""
    if not isinstance(value, str):
        why = f"not a string but {type(value).__name__}"
    elif not text:
        why = "empty"
    elif len(text) > MAX_REQUIREMENT:
        why = f"longer than {MAX_REQUIREMENT} characters"
    elif text.startswith("-"):
        why = "a pip option"
    else:
        try:
            req = Requirement(text)
        except InvalidRequirement:
            why = "not a requirement specifier"
        else:
            if req.url:
                why = "a direct reference (name @ url)"
            elif ARCHIVE_SUFFIX.search(req.name):
                why = "a file name"
    if why:
        raise EnvironmentProblem(f"environment requirement {shown(value)} refused: {why}; a task may only name "
                                 "packages as PEP 508 specifiers such as mpmath==1.3.0 (no pip options, paths or URLs)")
    return str(req)


@dataclass(frozen=True)
class EnvSpec:
    python: str | None = None  # "3.9" or "3.9.18"
    requirements: tuple[str, ...] = ()
    install: str | None = None  # run in the sandbox before the tests
    interpreter: str | None = None  # must be one selfcoder discovered (`find_interpreter`)

    @classmethod
    def from_task_field(cls, value) -> "EnvSpec | None":
        """The spec of a task's `environment` field; an `EnvironmentProblem` (one line) for a
        malformed or refused one (see `check_requirement`, `find_interpreter`)."""
        if not value:
            return None
        if isinstance(value, str):
            value = {"python": value}
        if not isinstance(value, dict):
            raise EnvironmentProblem(f"environment must be an object, not {type(value).__name__}")
        reqs = value.get("requirements") or ()
        if isinstance(reqs, str):
            reqs = reqs.split()
        if not isinstance(reqs, (list, tuple)):
            raise EnvironmentProblem(f"environment requirements must be a list, not {type(reqs).__name__}")
        for key in ("install", "interpreter"):
            if value.get(key) and not isinstance(value[key], str):
                raise EnvironmentProblem(f"environment {key} must be a string, not {type(value[key]).__name__}")
        python = str(value["python"]) if value.get("python") else None
        interpreter = value.get("interpreter") or None
        if interpreter and not python:
            raise EnvironmentProblem(f"environment interpreter {shown(interpreter)} refused: name the Python version "
                                     "(`python`) instead; selfcoder finds the interpreter itself")
        return cls(python=python, requirements=tuple(check_requirement(r) for r in reqs),
                   install=value.get("install") or None, interpreter=interpreter)
