"""What a task's `environment` field may say, checked before anything is built: a task file is
untrusted (public dumps), and pip takes options, paths, URLs and file names where a requirement
is expected — each of those could run code on the host or read its files. Only plain PEP 508
specifiers pass (`check_requirement`); environments.py builds from what passes."""

from __future__ import annotations

import re

from packaging.requirements import InvalidRequirement, Requirement

from selfcoder.errors import SelfcoderError

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
