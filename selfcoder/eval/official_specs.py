"""The environment of an official SWE-bench instance that names none, from the swebench package's
own specs for its (repo, version) — what the official harness builds its image from.

    spec, source = task_environment(task)   # (EnvSpec or None, which spec was used)

A line of an official dump (Verified, Lite, full) carries no environment: the official harness
looks it up in `MAP_REPO_VERSION_TO_SPECS[repo][version]` (swebench 4.x:
`swebench.harness.constants`) and builds a conda image from it. selfcoder takes from such a spec
only what it can build offline and safely (environments.py: a virtualenv of a discovered Python,
wheels installed in a sandbox):

- `python`: the version, found on this machine or an error naming it ("needs Python 3.6: not
  installed");
- `pip_packages`, and `packages` when it is a list of package names (conda packages; the same
  names on PyPI): each a plain PEP 508 specifier (`check_requirement`), else an error naming it;
- `eval_commands` that only set variables (`export LANG=...`): run before the tests, in the sandbox.

What it cannot have is an error that says so, never a guess: `packages: requirements.txt` or
`environment.yml` (the official harness fetches the repository's file at environment_setup_commit
from GitHub), `pre_install` steps (apt-get, sed on the checkout, run as root in the image), other
`eval_commands`. The spec's `install` (`pip install -e .`) is not run: the tests import the
repository from its working tree, and the record says so. An instance with its own `environment`
uses that; a task of selfcoder's own (no test patch or version) runs with the sandbox's python3.

swebench 5.x ships no such table (its datasets carry a Dockerfile per instance): with it installed,
an official instance without `environment` is an error that says what to give.
"""

from __future__ import annotations

import re
import shlex
from typing import Any

from selfcoder.eval.env_fields import EnvironmentProblem, check_requirement
from selfcoder.eval.environments import EnvSpec, find_interpreter
from selfcoder.eval.tasks import extra
from selfcoder.task import Task

EXAMPLE = '"environment": {"python": "3.9", "requirements": ["mpmath==1.3.0"]}'
EXPORT = re.compile(r"export\s+[A-Za-z_][A-Za-z0-9_]*=[A-Za-z0-9_.:@%+/,=-]*")


def specs_table() -> tuple[dict | None, str]:
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


def is_official(task: Task) -> bool:
    """An instance of an official dump: a repository, a version and a test patch."""
    return bool(task.repo and str(extra(task, "version") or "").strip() and (task.test_patch or "").strip())


def environment_from_spec(spec: dict[str, Any], where: str) -> tuple[EnvSpec, str]:
    """(the environment, what was left out) of one official spec; an `EnvironmentProblem` naming
    what cannot be had. `where` names the spec in messages ("swebench 4.1.0 sympy/sympy 1.7")."""
    def missing(what: str) -> EnvironmentProblem:
        return EnvironmentProblem(f"the official environment ({where}) {what}; give the instance an "
                                  f"`environment` ({EXAMPLE})")

    python = str(spec.get("python") or "")
    if not re.fullmatch(r"\d+\.\d+(\.\d+)?", python):
        raise missing(f"names no Python version ({python!r})")
    packages = spec.get("packages") or ""
    cannot = []  # everything it needs and cannot have, said at once
    if spec.get("pre_install"):
        steps = "; ".join(map(str, spec["pre_install"]))
        cannot.append(f"runs pre-install steps as root in its image ({steps[:160]}): apt packages and edits of the "
                      "checkout cannot be had offline, and selfcoder runs no task's commands on the host")
    if packages in ("requirements.txt", "environment.yml"):
        cannot.append(f"installs the repository's {packages} at environment_setup_commit, which the official "
                      "harness fetches from GitHub: that cannot be had offline")
        packages = ""
    requirements = []
    for raw in [*shlex.split(str(packages)), *(spec.get("pip_packages") or [])]:
        try:
            requirements.append(check_requirement(raw))
        except EnvironmentProblem:
            cannot.append(f"needs {raw!r}, which is no package specifier pip can fetch (a conda-only package?)")
    exports = [str(c) for c in spec.get("eval_commands") or []]
    odd = [c for c in exports if not EXPORT.fullmatch(c.strip())]
    if odd:
        cannot.append(f"runs commands before the tests ({'; '.join(odd)[:160]}) that cannot be had offline")
    if cannot:
        raise missing("; it ".join(cannot))
    left_out = f"; its install step ({spec['install']}) is not run: the tests import the working tree" \
        if spec.get("install") else ""
    env = EnvSpec(python=python, requirements=tuple(dict.fromkeys(requirements)),
                  install="; ".join(exports) or None)
    try:
        find_interpreter(env)
    except EnvironmentProblem:
        raise EnvironmentProblem(f"the official environment ({where}) needs Python {python}: not installed on this "
                                 "machine (pyenv, /usr/bin, /usr/local/bin)") from None
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
    table, installed = specs_table()
    if table is None:
        package = f"swebench {installed} (installed)" if installed else "the swebench package (not installed)"
        raise EnvironmentProblem(f"no `environment`, and {package} has no per-version environment specs "
                                 f"(MAP_REPO_VERSION_TO_SPECS, in swebench 4.x) to derive it from for {task.repo} "
                                 f"{version}; give the instance an `environment` ({EXAMPLE})")
    spec = (table.get(task.repo) or {}).get(version)
    if not isinstance(spec, dict):
        raise EnvironmentProblem(f"no `environment`, and swebench {installed} has no spec for {task.repo} {version}; "
                                 f"give the instance an `environment` ({EXAMPLE})")
    where = f"swebench {installed} {task.repo} {version}"
    env, left_out = environment_from_spec(spec, where)
    described = f"{where}: Python {env.python}" + (f", {' '.join(env.requirements)}" if env.requirements else "")
    return env, described + left_out
