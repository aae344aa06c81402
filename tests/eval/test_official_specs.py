"""An official instance without `environment`: its environment from swebench's own spec for its
(repo, version), or one line saying what is missing. The specs below are the official ones, copied
from swebench 4.1.0 (swebench/harness/constants/python.py: SPECS_SYMPY, SPECS_SKLEARN,
SPECS_DJANGO, SPECS_MATPLOTLIB); the installed swebench 5.0.2 no longer ships that table."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from selfcoder.eval.environments import EnvironmentProblem, EnvSpec, find_interpreter
from selfcoder.eval.official_specs import environment_from_spec, specs_table, task_environment
from selfcoder.task import Task

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_real_swebench import ID, prepared_instance  # noqa: E402

SYMPY_1_7 = {"python": "3.9", "packages": "mpmath flake8", "pip_packages": ["mpmath==1.3.0", "flake8-comprehensions"],
             "install": "python -m pip install -e .", "test_cmd": "bin/test -C --verbose"}
SKLEARN_0_20 = {"python": "3.6", "packages": "numpy scipy cython pytest pandas matplotlib",
                "install": "python -m pip install -v --no-use-pep517 --no-build-isolation -e .",
                "pip_packages": ["cython", "numpy==1.19.2", "setuptools", "scipy==1.5.2"], "test_cmd": "pytest -rA"}
DJANGO_1_4 = {"python": "3.5", "install": "python setup.py install", "test_cmd": "./tests/runtests.py --verbosity 2"}
DJANGO_3_0 = {"python": "3.6", "packages": "requirements.txt", "install": "python -m pip install -e .",
              "eval_commands": ["sed -i '/en_US.UTF-8/s/^# //g' /etc/locale.gen && locale-gen",
                                "export LANG=en_US.UTF-8"]}
MATPLOTLIB_3_5 = {"python": "3.11", "packages": "environment.yml", "install": "python -m pip install -e .",
                  "pre_install": ["apt-get -y update && apt-get -y upgrade && DEBIAN_FRONTEND=noninteractive "
                                  "apt-get install -y imagemagick ffmpeg"]}


def test_an_official_spec_becomes_a_python_version_and_plain_requirements():
    env, left_out = environment_from_spec(SYMPY_1_7, "swebench 4.1.0 sympy/sympy 1.7")
    assert env == EnvSpec(python="3.9", requirements=("mpmath", "flake8", "mpmath==1.3.0", "flake8-comprehensions"))
    assert "its install step (python -m pip install -e .) is not run" in left_out
    env, _ = environment_from_spec(SKLEARN_0_20, "swebench 4.1.0 scikit-learn/scikit-learn 0.20")
    assert env.python == "3.6" and env.requirements[:2] == ("numpy", "scipy") and "numpy==1.19.2" in env.requirements


def test_what_an_official_spec_needs_and_cannot_have_offline_is_named():
    with pytest.raises(EnvironmentProblem, match=r"installs the repository's requirements.txt .* cannot be had offline"):
        environment_from_spec(DJANGO_3_0, "swebench 4.1.0 django/django 3.0")
    with pytest.raises(EnvironmentProblem, match=r"runs pre-install steps as root .*apt-get.* cannot be had offline"):
        environment_from_spec(MATPLOTLIB_3_5, "swebench 4.1.0 matplotlib/matplotlib 3.5")
    with pytest.raises(EnvironmentProblem, match=r"runs commands before the tests \(sed -i"):
        environment_from_spec({**DJANGO_3_0, "packages": ""}, "swebench 4.1.0 django/django 3.0")
    with pytest.raises(EnvironmentProblem, match=r"needs '--index-url=x', which is no package specifier"):
        environment_from_spec({**SYMPY_1_7, "pip_packages": ["--index-url=x"]}, "s")
    try:
        find_interpreter(EnvSpec(python="3.5"))
    except EnvironmentProblem:
        with pytest.raises(EnvironmentProblem, match=r"\(swebench 4.1.0 django/django 1.4\) needs Python 3.5: not installed"):
            environment_from_spec(DJANGO_1_4, "swebench 4.1.0 django/django 1.4")
    else:  # this machine has Python 3.5
        assert environment_from_spec(DJANGO_1_4, "d")[0] == EnvSpec(python="3.5")


def test_own_tasks_and_instances_with_an_environment_do_not_look_up_a_spec():
    own = Task.model_validate({"instance_id": "a", "problem_statement": "p"})
    assert task_environment(own) == (None, "")
    named = Task.model_validate({"instance_id": "b", "problem_statement": "p", "repo": "sympy/sympy", "version": "1.7",
                                 "test_patch": "diff", "environment": {"python": "3.9"}})
    assert task_environment(named) == (EnvSpec(python="3.9"), "the instance's environment field")


def test_the_bundled_sympy_instance_without_its_environment(tmp_path, sandbox_root):
    """The real instance with `environment` removed, graded by the CLI: built from the official spec
    when the installed swebench has one, else an error that says what to give — never a run with
    whatever python3 the sandbox has."""
    prepared = prepared_instance()
    line = json.loads(prepared.read_text())
    del line["environment"]
    line["repo_path"] = str((prepared.parent / line["repo_path"]).resolve())
    tasks = tmp_path / "no-environment.jsonl"
    tasks.write_text(json.dumps(line) + "\n")
    env = dict(os.environ, SELFCODER_SANDBOX_ROOT=str(sandbox_root), SELFCODER_CONFIG=str(tmp_path / "none.toml"),
               PIP_NO_INDEX="1", PIP_FIND_LINKS=str(prepared.parent / "downloads"), COLUMNS="1000")
    res = subprocess.run([sys.executable, "-m", "selfcoder", "eval", str(tasks), "--predictions", "gold", "--out",
                          str(tmp_path / "out"), "--repos-root", str(prepared.parent)],
                         capture_output=True, text=True, env=env, timeout=600)
    assert "Traceback" not in res.stderr, res.stderr
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    row = report["instances"][ID]
    table, installed = specs_table()
    if table is None:  # swebench 5.x: no per-version specs to derive it from
        assert res.returncode == 1 and report["error_ids"] == [ID]
        assert row["message"].startswith(f"no `environment`, and swebench {installed} (installed) has no per-version "
                                         "environment specs (MAP_REPO_VERSION_TO_SPECS, in swebench 4.x) to derive it "
                                         "from for sympy/sympy 1.7; give the instance an `environment`"), row
    else:  # the official spec for sympy 1.7 (Python 3.9 and its packages): fetched offline only where they are
        assert row["environment"].startswith(f"swebench {installed} sympy/sympy 1.7: Python 3.9") or \
            "sympy/sympy 1.7" in row["message"], row
