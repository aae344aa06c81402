"""The environment of an official SWE-bench instance that names none, from the official specs for
its (repo, version) — what the official harness builds its image from.

    spec, source = task_environment(task)   # (EnvSpec or None, which spec was used)

A line of an official dump (Verified, Lite, full) carries no environment: the official harness
looks it up in `MAP_REPO_VERSION_TO_SPECS[repo][version]` (`swebench.harness.constants`) and
builds a conda image from it. The table comes from the installed swebench package when it has
one (4.x); swebench 5.x, which selfcoder pins for its grading and log parsers, ships none (its
datasets carry a Dockerfile per instance), so selfcoder ships a copy of swebench 4.1.0's
(data/swebench_specs.json, MIT, written by scripts/gen-swebench-specs; SWEBENCH_LICENSE.txt).
The instance record and every message name the table and the spec used ("selfcoder's copy of
swebench 4.1.0's specs for sympy/sympy 1.7").

A table is data from outside, checked like a task file. selfcoder takes from a spec only what it
can build offline and safely (environments.py: a virtualenv of a discovered Python, wheels
installed in a sandbox):

- `python`: the version, found on this machine, else "needs Python 3.5: not installed";
- `pip_packages`, and `packages` when it is a list of package names (conda packages; the same
  names on PyPI): each a plain PEP 508 specifier (`check_requirement`), else refused by name;
- `eval_commands` that only set variables (`export LANG=...`): run before the tests, in the sandbox.

What it cannot have is one error that names all of it, never a guess: `packages: requirements.txt`
or `environment.yml` (the official harness fetches the repository's file at
environment_setup_commit from GitHub), `pre_install` steps (apt-get, sed on the checkout, run as
root in the image), other `eval_commands`, a Python not installed. The instance is then an
`error` and the evaluation goes on. The spec's `install` (`pip install -e .`) is not run: the
tests import the repository from its working tree, and the record says so. An instance with its
own `environment` uses that; a task of selfcoder's own (no test patch or version) runs with the
sandbox's python3.
"""

from __future__ import annotations

import functools
import json
import re
import shlex
from pathlib import Path
from typing import Any

from selfcoder.eval.env_fields import EnvironmentProblem, check_requirement, shown
from selfcoder.eval.environments import EnvSpec, find_interpreter
from selfcoder.eval.tasks import extra
from selfcoder.core.task import Task

EXAMPLE = '"environment": {"python": "3.9", "requirements": ["mpmath==1.3.0"]}'
EXPORT = re.compile(r"export\s+[A-Za-z_][A-Za-z0-9_]*=[A-Za-z0-9_.:@%+/,=-]*")
SHIPPED = Path(__file__).resolve().parent / "data" / "swebench_specs.json"
SHIPPED_NAME = "selfcoder's copy of swebench 4.1.0's specs"


def installed_table() -> tuple[dict | None, str]:
    """(MAP_REPO_VERSION_TO_SPECS of the installed swebench package, or None; its version)."""
    try:
        from importlib.metadata import version

        installed = version("swebench")
    except Exception:  # noqa: BLE001 - not installed
        return None, ""
    for module, name in (("swebench.harness.constants", "MAP_REPO_VERSION_TO_SPECS"),
                         ("swebench.harness.constants.python", "MAP_REPO_VERSION_TO_SPECS_PY")):
        try:
            table = getattr(__import__(module, fromlist=[name]), name)
        except Exception:  # noqa: BLE001 - this version has no such table
            continue
        if isinstance(table, dict):
            return table, installed
    return None, installed


@functools.lru_cache(maxsize=1)
def shipped_table() -> dict:
    """The specs of selfcoder's copy (data/swebench_specs.json); an `EnvironmentProblem` when the
    file is missing or not such a table (a damaged installation)."""
    try:
        specs = json.loads(SHIPPED.read_text())["specs"]
        if not all(isinstance(v, dict) for v in specs.values()):
            raise TypeError("a repository's entry is not a table of versions")
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:
        raise EnvironmentProblem(f"{SHIPPED_NAME} ({SHIPPED}) cannot be read ({type(e).__name__}: {e}); "
                                 "reinstall selfcoder, or give the instance an `environment`") from None
    return specs


def specs_table() -> tuple[dict, str]:
    """(the per-version specs, what they are — for messages and the record): the installed
    swebench's own table when it has one, else selfcoder's copy of swebench 4.1.0's."""
    table, installed = installed_table()
    if table is not None:
        return table, f"swebench {installed}'s specs"
    return shipped_table(), SHIPPED_NAME


def is_official(task: Task) -> bool:
    """An instance of an official dump: a repository, a version and a test patch."""
    return bool(task.repo and str(extra(task, "version") or "").strip() and (task.test_patch or "").strip())


def environment_from_spec(spec: dict[str, Any], where: str) -> tuple[EnvSpec, str]:
    """(the environment, what was left out) of one official spec; an `EnvironmentProblem` naming
    all it needs and cannot have. `where` names the spec in messages ("selfcoder's copy of
    swebench 4.1.0's specs for sympy/sympy 1.7")."""
    def missing(what: str) -> EnvironmentProblem:
        return EnvironmentProblem(f"the official environment ({where}) {what}; give the instance an "
                                  f"`environment` ({EXAMPLE})")

    if not isinstance(spec, dict):
        raise missing(f"is not a table of fields ({shown(spec)})")
    python = spec.get("python")
    if not isinstance(python, str) or not re.fullmatch(r"\d+\.\d+(\.\d+)?", python):
        raise missing(f"names no Python version ({shown(python)})")
    cannot = []  # everything it needs and cannot have, said at once

    def strings(name: str) -> list[str]:
        value = spec.get(name) or []
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return value
        cannot.append(f"has a malformed {name} ({shown(value)}: not a list of strings)")
        return []

    try:
        find_interpreter(EnvSpec(python=python))
    except EnvironmentProblem:
        cannot.append(f"needs Python {python}: not installed on this machine (pyenv, /usr/bin, /usr/local/bin)")
    pre_install, pip_packages, exports = strings("pre_install"), strings("pip_packages"), strings("eval_commands")
    if pre_install:
        cannot.append(f"runs pre-install steps as root in its image ({'; '.join(pre_install)[:160]}): apt packages "
                      "and edits of the checkout cannot be had offline, and selfcoder runs no task's commands on the host")
    packages = spec.get("packages") or ""
    if packages in ("requirements.txt", "environment.yml"):
        cannot.append(f"installs the repository's {packages} at environment_setup_commit, which the official "
                      "harness fetches from GitHub: that cannot be had offline")
        packages = ""
    try:
        names = shlex.split(packages) if isinstance(packages, str) else None
    except ValueError:
        names = None
    if names is None:
        cannot.append(f"has a malformed packages field ({shown(packages)}: not a list of package names)")
    requirements = []
    for raw in [*(names or []), *pip_packages]:
        try:
            requirements.append(check_requirement(raw))
        except EnvironmentProblem:
            cannot.append(f"needs {shown(raw)}, which is no package specifier pip can fetch (a conda-only package?)")
    odd = [c for c in exports if not EXPORT.fullmatch(c.strip())]
    if odd:
        cannot.append(f"runs commands before the tests ({'; '.join(odd)[:160]}) that cannot be had offline")
    if cannot:
        raise missing("; it ".join(cannot))
    install = spec.get("install")
    left_out = f"; its install step ({shown(install)}) is not run: the tests import the working tree" \
        if install else ""
    env = EnvSpec(python=python, requirements=tuple(dict.fromkeys(requirements)),
                  install="; ".join(c.strip() for c in exports) or None)
    return env, left_out


def task_environment(task: Task) -> tuple[EnvSpec | None, str]:
    """(the environment the instance's tests run in, which spec that is): its own `environment`;
    else, for an official instance, the official spec of its (repo, version); else None (the
    sandbox's python3). An `EnvironmentProblem` when the instance needs one that cannot be had."""
    own = extra(task, "environment")
    if own:
        return EnvSpec.from_task_field(own), "the instance's environment field"
    if not is_official(task):
        return None, ""
    version = str(extra(task, "version")).strip()
    table, source = specs_table()
    versions = table.get(task.repo)
    spec = versions.get(version) if isinstance(versions, dict) else None
    if spec is None:
        held = "" if source != SHIPPED_NAME else " (it holds SWE-bench's Python repositories)"
        raise EnvironmentProblem(f"no `environment`, and {source} have no spec for {task.repo} {version}{held}; "
                                 f"give the instance an `environment` ({EXAMPLE})")
    where = f"{source} for {task.repo} {version}"
    env, left_out = environment_from_spec(spec, where)
    described = f"{where}: Python {env.python}" + (f", {' '.join(env.requirements)}" if env.requirements else "")
    return env, described + left_out
