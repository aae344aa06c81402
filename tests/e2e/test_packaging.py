"""`pip install .` (not editable) gives a working `selfcoder solve`: the seed scaffold ships inside
the wheel, and nothing reaches back into the checkout (issue 7, item 5).

The wheel is built from this checkout and installed into a fresh venv; its third-party
dependencies come from the project's venv through a plain path entry (installing litellm & co.
again would only test PyPI). The scripted solve runs from a directory outside the checkout."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import sysconfig
import tomllib
from pathlib import Path

import pytest
from e2e_replies import CALC_FIX, CALC_PROBLEM

ROOT = Path(__file__).resolve().parents[2]


def test_every_subpackage_is_listed_for_the_wheel():
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "selfcoder").rglob("__init__.py")
             if "demo_repo" not in p.parts}
    assert found <= listed, f"add to [tool.setuptools] packages: {sorted(found - listed)}"


@pytest.fixture(scope="module")
def wheel_venv(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("wheel")
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp / "dist"), str(ROOT)],
                           capture_output=True, text=True, timeout=600)
    assert build.returncode == 0, build.stderr[-3000:]
    wheel = next((tmp / "dist").glob("selfcoder-*.whl"))
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    py = venv / "bin" / "python"
    install = subprocess.run([str(py), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)],
                             capture_output=True, text=True, timeout=300)
    assert install.returncode == 0, install.stderr[-3000:]
    site = Path(subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    deps = Path(sysconfig.get_paths()["purelib"])  # the project's venv: litellm, rich, ... (not selfcoder)
    (site / "zz_deps.pth").write_text(f"{deps}\n")
    assert (venv / "bin" / "selfcoder").is_file(), "the wheel installed no `selfcoder` command"
    return venv


def test_the_wheel_carries_the_seed_scaffold(wheel_venv):
    py = wheel_venv / "bin" / "python"
    out = subprocess.run([str(py), "-c", "import selfcoder, selfcoder.core.scaffold as s; print(selfcoder.__file__); "
                          "print(s.resolve_scaffold('seed'))"], capture_output=True, text=True, cwd="/", timeout=60)
    assert out.returncode == 0, out.stderr
    module, seed = out.stdout.split()
    assert not module.startswith(str(ROOT)), "selfcoder was imported from the checkout, not the wheel"
    assert not seed.startswith(str(ROOT)) and Path(seed, "main.py").is_file() and Path(seed, "prompts").is_dir()
    ast.parse(Path(seed, "main.py").read_text())


def test_a_scripted_solve_runs_from_the_installed_wheel(wheel_venv, repo_copy, script, tmp_path, sandbox_root):
    repo = repo_copy("calc_py")
    env = {**os.environ, "SELFCODER_CONFIG": str(tmp_path / "none.toml"), "SELFCODER_SANDBOX_ROOT": str(sandbox_root),
           "PYTHONPATH": ""}
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    proc = subprocess.run([str(wheel_venv / "bin" / "selfcoder"), "solve", str(repo), "-p",
                           CALC_PROBLEM, "--model", script(CALC_FIX), "--json"], cwd=outside, env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    data = json.loads(proc.stdout)
    assert data["status"] == "resolved"
