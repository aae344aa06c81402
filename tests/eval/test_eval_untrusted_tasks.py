"""A task file is untrusted (public dumps): nothing it says runs on the host, and it reads no host
directory outside its own (or the one the user names with --repos-root).

- `environment.interpreter`: only an interpreter selfcoder discovered itself (by version); a
  script the task names is refused and never run;
- `environment.requirements`: plain PEP 508 specifiers only — no pip option, path, URL, direct
  reference or file name — fetched as wheels only (no build backend, no setup.py, ever) and
  installed inside a sandbox;
- `repo_path`: inside the task file's directory; an absolute path elsewhere, `..` or a symlink
  leading out is refused, so a private key never reaches the sandbox or `out/`.
Each refusal is one line: the instance is an `error` with the reason (environments), or the line
is a named problem (repositories); never a traceback.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import pytest

from selfcoder.eval.environments import (
    EnvironmentProblem,
    EnvSpec,
    build_venv,
    check_requirement,
    find_interpreter,
    prepare,
)
from selfcoder.eval.tasks import load_task_set

PATCH = "diff --git a/notes.txt b/notes.txt\n--- a/notes.txt\n+++ b/notes.txt\n@@ -1 +1 @@\n-old\n+new\n"
RUN_TESTS = "#!/bin/sh\necho 'ok 1 - notes'\ncat /workspace/* 2>/dev/null\n"
HOST_PYTHON = "%d.%d" % sys.version_info[:2]


def marker_script(path: Path, marker: Path) -> Path:
    """An executable that leaves `marker` on the host when anything runs it."""
    path.write_text(f"#!/bin/sh\ntouch {marker}\nexec /usr/bin/python3 \"$@\"\n")
    path.chmod(0o755)
    return path


def marker_package(root: Path, marker: Path, name: str = "evil") -> Path:
    """A source package whose setup.py leaves `marker` on the host when pip builds it."""
    pkg = root / name
    pkg.mkdir(parents=True)
    (pkg / "setup.py").write_text(f"open({str(marker)!r}, 'w').close()\n"
                                  f"from setuptools import setup\nsetup(name={name!r}, version='1.0')\n")
    return pkg


def wheel(dest: Path, name: str, version: str = "1.0") -> Path:
    """A minimal pure-Python wheel (a module `name` with VALUE = 42)."""
    dist = f"{name}-{version}"
    files = {f"{name}.py": b"VALUE = 42\n",
             f"{dist}.dist-info/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode(),
             f"{dist}.dist-info/WHEEL": b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"}
    record = "".join(f"{p},sha256={base64.urlsafe_b64encode(hashlib.sha256(d).digest()).rstrip(b'=').decode()},{len(d)}\n"
                     for p, d in files.items()) + f"{dist}.dist-info/RECORD,,\n"
    files[f"{dist}.dist-info/RECORD"] = record.encode()
    path = dest / f"{dist}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as z:
        for p, d in files.items():
            z.writestr(p, d)
    return path


@pytest.fixture
def secret_dir():
    """A private directory outside every task file's: a 0600 key in a 0700 directory."""
    root = Path(tempfile.mkdtemp(prefix="selfcoder-test-secret-"))
    root.chmod(0o700)
    key = root / "id_key"
    key.write_text("PRIVATE-KEY-7f3a9c\n")
    key.chmod(0o600)
    yield root
    shutil.rmtree(root, ignore_errors=True)


def selfcoder_eval(tasks: Path, out: Path, sandbox_root: Path, *extra: str, env: dict | None = None):
    environ = dict(os.environ, SELFCODER_SANDBOX_ROOT=str(sandbox_root), SELFCODER_CONFIG=str(out.parent / "none.toml"),
                   COLUMNS="1000", **(env or {}))  # wide: the lines checked below are not folded
    return subprocess.run([sys.executable, "-m", "selfcoder", "eval", str(tasks), "--predictions", "gold",
                           "--out", str(out), *extra], capture_output=True, text=True, env=environ, timeout=300)


def task_line(instance_id: str, repo_path: str, environment=None) -> str:
    data = {"instance_id": instance_id, "problem_statement": "p", "repo_path": repo_path, "patch": PATCH,
            "test_cmd": "./run_tests.sh", "FAIL_TO_PASS": ["notes"], "PASS_TO_PASS": []}
    if environment is not None:
        data["environment"] = environment
    return json.dumps(data)


def make_repo(path: Path) -> Path:
    path.mkdir(parents=True)
    (path / "notes.txt").write_text("old\n")
    (path / "run_tests.sh").write_text(RUN_TESTS)
    (path / "run_tests.sh").chmod(0o755)
    return path


def test_a_hostile_task_file_runs_nothing_on_the_host_and_reads_no_outside_directory(
        tmp_path, sandbox_root, env_cache, secret_dir):
    work = tmp_path / "dump"  # what a user downloaded
    make_repo(work / "repo")
    marker = tmp_path / "MARKER"  # anything that ran on the host leaves it
    evil_python = marker_script(work / "python3", marker)
    pkg = marker_package(work / "pkgs", marker)
    (work / "escape").symlink_to(secret_dir)
    lines = {
        "interpreter": {"python": HOST_PYTHON, "interpreter": str(evil_python)},
        "interpreter-no-version": {"interpreter": str(evil_python)},
        "no-build-isolation": {"python": HOST_PYTHON, "requirements": ["--no-build-isolation", str(pkg)]},
        "local-path": {"requirements": [str(pkg)]},
        "relative-path": {"requirements": ["./pkgs/evil"]},
        "direct-reference": {"requirements": [f"evil @ file://{pkg}"]},
        "url": {"requirements": ["https://example.invalid/evil-1.0.tar.gz"]},
        "file-name": {"requirements": ["evil-1.0-py3-none-any.whl"]},
        "option-in-a-string": {"requirements": "mpmath --index-url=http://example.invalid/simple"},
        "editable": {"requirements": ["-e", str(pkg)]},
    }
    text = [task_line(name, "repo", env) for name, env in lines.items()]
    text += [task_line("absolute-outside", str(secret_dir)), task_line("dot-dot", f"../../../../../..{secret_dir}"),
             task_line("symlink-out", "escape")]
    tasks = work / "tasks.jsonl"
    tasks.write_text("\n".join(text) + "\n")
    out = tmp_path / "out"
    res = selfcoder_eval(tasks, out, sandbox_root, "--workers", "4")

    assert "Traceback" not in res.stderr + res.stdout, res.stderr
    assert res.returncode == 1, res.stderr  # some instances are errors
    assert not marker.exists(), "a task file ran code on the host"
    report = json.loads((out / "report.json").read_text())
    assert sorted(report["error_ids"]) == sorted(lines), report["instances"]
    for name in lines:
        message = report["instances"][name]["message"]
        assert "refused" in message and "\n" not in message, (name, message)
    assert "interpreter" in report["instances"]["interpreter"]["message"]
    assert "'--no-build-isolation' refused: a pip option" in report["instances"]["no-build-isolation"]["message"]
    assert "direct reference" in report["instances"]["direct-reference"]["message"]
    # the repositories outside the task file's directory: named on their line, never snapshotted
    for n, name in ((len(lines) + 1, "absolute-outside"), (len(lines) + 2, "dot-dot"), (len(lines) + 3, "symlink-out")):
        assert f"{tasks}:{n}: instance {name}: repo_path" in " ".join(res.stderr.split()), res.stderr
        assert name not in report["instances"]
    assert f"it leads to {secret_dir.resolve()}" in " ".join(res.stderr.split())
    assert len(report["problems"]) == 3 and all("repo_path" in p and "refused" in p for p in report["problems"])
    for path in out.rglob("*"):
        if path.is_file():
            assert "PRIVATE-KEY-7f3a9c" not in path.read_text(errors="replace"), path
    assert not env_cache.exists() or not list(env_cache.glob("*/.complete"))  # nothing was built


def test_repos_root_names_where_outside_repositories_may_lie(tmp_path, secret_dir):
    make_repo(secret_dir / "repo")
    tasks = tmp_path / "tasks.jsonl"
    tasks.write_text(task_line("a", str(secret_dir / "repo")) + "\n" + task_line("b", "here") + "\n")
    refused = load_task_set(tasks)
    assert [t.instance_id for t in refused.tasks] == ["b"] and "--repos-root" in refused.problems[0]
    allowed = load_task_set(tasks, secret_dir)
    assert [t.instance_id for t in allowed.tasks] == ["a", "b"]  # the file's own directory stays allowed
    assert allowed.tasks[0].repo_path == (secret_dir / "repo").resolve()
    assert allowed.tasks[1].repo_path == (tmp_path / "here").resolve()
    (tmp_path / "link").symlink_to(secret_dir / "repo")
    tasks.write_text(task_line("c", "link") + "\n")
    assert load_task_set(tasks, secret_dir).tasks[0].repo_path == (secret_dir / "repo").resolve()
    assert load_task_set(tasks).tasks == []


def test_a_task_file_saved_in_the_home_directory_cannot_name_it_or_its_hidden_directories(tmp_path, monkeypatch):
    home = tmp_path / "home"
    make_repo(home / ".ssh")  # a repository there or not: what matters is where it is
    make_repo(home / "projects" / "calc")
    monkeypatch.setenv("HOME", str(home))
    tasks = home / "tasks.jsonl"
    tasks.write_text("\n".join(task_line(i, path) for i, path in
                               (("keys", ".ssh"), ("home", "."), ("up", ".."), ("fine", "projects/calc"))) + "\n")
    loaded = load_task_set(tasks)
    assert [t.instance_id for t in loaded.tasks] == ["fine"]
    assert "hidden directory .ssh" in loaded.problems[0] and "home directory" in loaded.problems[1]
    assert "home directory" in loaded.problems[2] or "outside" in loaded.problems[2]


@pytest.mark.parametrize("text,why", [
    ("--no-build-isolation", "a pip option"), ("-e.", "a pip option"), ("-r/etc/requirements.txt", "a pip option"),
    ("/tmp/pkg", "not a requirement specifier"), ("./pkg", "not a requirement specifier"),
    ("..", "not a requirement specifier"), ("~/pkg", "not a requirement specifier"),
    ("git+https://example.invalid/x.git", "not a requirement specifier"),
    ("https://example.invalid/x-1.0.tar.gz", "not a requirement specifier"),
    ("x @ https://example.invalid/x-1.0.tar.gz", "direct reference"), ("x@file:///tmp/x", "direct reference"),
    ("x-1.0.tar.gz", "a file name"), ("x.zip", "a file name"), ("x-1.0-py3-none-any.whl", "a file name"),
    ("mpmath==1.3.0 --hash=sha256:00", "not a requirement specifier"), ("", "empty"), (3, "not a string"),
])
def test_only_plain_requirement_specifiers_pass(text, why):
    with pytest.raises(EnvironmentProblem, match=why):
        check_requirement(text)


def test_plain_specifiers_pass_in_their_canonical_form():
    assert check_requirement(" mpmath==1.3.0 ") == "mpmath==1.3.0"
    assert check_requirement('pytest[testing]>=8,<9; python_version >= "3.8"') == \
        'pytest[testing]<9,>=8; python_version >= "3.8"'


def test_an_interpreter_is_only_one_selfcoder_discovered(tmp_path):
    marker = tmp_path / "MARKER"
    evil = marker_script(tmp_path / "python3", marker)
    with pytest.raises(EnvironmentProblem, match="refused: not a Python"):
        find_interpreter(EnvSpec(python=HOST_PYTHON, interpreter=str(evil)))
    with pytest.raises(EnvironmentProblem, match="name the Python version"):
        EnvSpec.from_task_field({"interpreter": str(evil)})
    assert not marker.exists()
    python, version = find_interpreter(EnvSpec(python=HOST_PYTHON))
    (tmp_path / "same").symlink_to(python)  # the same file under another name: the discovered one runs
    assert find_interpreter(EnvSpec(python=HOST_PYTHON, interpreter=str(tmp_path / "same"))) == (python, version)


def test_requirements_install_as_wheels_in_a_sandbox_and_an_sdist_never_builds(tmp_path, env_cache, monkeypatch):
    """From the user's own index (here a find-links directory): a wheel is installed (in a sandbox,
    the venv handed back to us, no set-id bit); a package with only an sdist is an error, and its
    setup.py never ran — the name is a plain specifier, the index is the user's."""
    index = tmp_path / "index"
    index.mkdir()
    wheel(index, "sctestgood")
    marker = tmp_path / "MARKER"
    pkg = marker_package(tmp_path / "src", marker, "sctestsdist")
    shutil.make_archive(str(index / "sctestsdist-1.0"), "gztar", pkg.parent, pkg.name)
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(index))
    lines: list[str] = []
    env = prepare(EnvSpec.from_task_field({"requirements": ["sctestgood==1.0"]}), "local", log=lines.append)
    assert any("pip install (in a sandbox)" in line for line in lines), lines
    res = subprocess.run([str(env.venv / "bin" / "python"), "-c", "import sctestgood; print(sctestgood.VALUE)"],
                         capture_output=True, text=True)
    assert res.stdout.strip() == "42", res.stderr
    for path in [env.venv, *env.venv.rglob("*")]:
        st = path.lstat()
        assert (st.st_uid, st.st_gid) == (os.getuid(), os.getgid()), path
        assert not st.st_mode & 0o6000, path

    with pytest.raises(EnvironmentProblem, match="environment failed"):
        prepare(EnvSpec.from_task_field({"requirements": ["sctestsdist==1.0"]}), "local")
    assert not marker.exists(), "an sdist's setup.py ran on the host"
    with pytest.raises(EnvironmentProblem, match="a pip option"):  # any caller of the builder, not only task files
        build_venv(EnvSpec(python=HOST_PYTHON, requirements=("--no-build-isolation",)))
