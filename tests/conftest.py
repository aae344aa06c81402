"""Fixtures shared by every suite.

`backend` runs a test once per sandbox backend: `local` always (bubblewrap is a requirement,
so a broken bubblewrap fails loudly), `docker` only when the engine answers and the base image
exists (`scripts/test` provides both); otherwise it is skipped and the skip says why.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

# Under CI=true (what .ci/run sees) a skipped test is a failure: scripts/test installs everything
# the suite needs (Docker, the model, the editors, Ray, swebench, the SWE-bench snapshot), so a skip
# there means a missing install step that a green run would hide. The only exceptions, with why:
CI_MAY_SKIP = {
    # tree-sitter-language-pack 1.x downloads grammars on first use; none can be on disk in CI
    "tests/code/test_code_languages.py::test_language_pack_grammars_when_cached_on_disk",
}


def _skip_is_failure(nodeid: str) -> bool:
    return os.environ.get("CI") == "true" and nodeid not in CI_MAY_SKIP


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    report = (yield).get_result()
    if report.skipped and not hasattr(report, "wasxfail") and _skip_is_failure(item.nodeid):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome, report.longrepr = "failed", f"skipped under CI=true (every test must run in CI): {reason}"


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    report = (yield).get_result()
    if report.skipped and _skip_is_failure(report.nodeid):  # a module-level skip or importorskip
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome, report.longrepr = "failed", f"skipped under CI=true (every test must run in CI): {reason}"


# `scripts/test --fast` (the edit-test loop) deselects these with -m; the default run keeps them all.
# Each marker names what its tests need beyond the venv; tests get them here, by path, so one list
# says which tests need what (the `docker` ones are marked where they are: the `backend` fixtures'
# docker parameter and the docker-only modules).
NEEDS = {
    "editors": ("code-server, Chromium, tmux (scripts/ensure-editors.sh) or a real Neovim session",
                ("tests/editors/test_vscode.py", "tests/editors/test_vscode_bad_input.py",
                 "tests/editors/test_nvim_tui.py", "tests/editors/test_nvim_plugin.py", "tests/lsp/test_neovim.py")),
    "ray": ("a local Ray cluster (seconds to start each)",
            ("tests/eval/test_eval_ray.py", "tests/evolve/test_evolve_ray.py", "tests/executors/test_ray_",
             "tests/executors/test_executor_input.py::test_an_unreachable_cluster")),
    "heavy": ("tens of seconds of plain work each: too long for the fast tier", ()),
}


def pytest_configure(config):
    for name, (why, _) in NEEDS.items():
        config.addinivalue_line("markers", f"{name}: needs {why}; left out by scripts/test --fast")


@pytest.hookimpl(tryfirst=True)  # before -m deselects by marker
def pytest_collection_modifyitems(config, items):
    for item in items:
        for name, (_, prefixes) in NEEDS.items():
            if prefixes and item.nodeid.startswith(prefixes):
                item.add_marker(name)


def docker_skip_reason() -> str | None:
    from selfcoder.sandbox.docker_backend import docker_available

    return docker_available()


@pytest.fixture(params=["local", pytest.param("docker", marks=pytest.mark.docker)])
def backend(request) -> str:
    if request.param == "docker":
        reason = docker_skip_reason()
        if reason:
            pytest.skip(f"docker sandbox unavailable: {reason}")
    else:
        from selfcoder.sandbox.local import bwrap_problem

        problem = bwrap_problem()
        if problem:
            pytest.fail(f"the local sandbox does not work here: {problem}")
    return request.param


@pytest.fixture
def sandbox_root(monkeypatch):
    """A private sandbox root (traversable by the sandbox uids, unlike pytest's 0700 tmp dirs), so a
    test sees exactly what its own sandboxes left behind."""
    root = Path(tempfile.mkdtemp(prefix="selfcoder-test-sandboxes-"))
    root.chmod(0o755)
    monkeypatch.setenv("SELFCODER_SANDBOX_ROOT", str(root))
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def local_sandbox_works():
    """Fail loudly (never skip) when bubblewrap does not work: it is a requirement."""
    from selfcoder.sandbox.local import bwrap_problem

    problem = bwrap_problem()
    if problem:
        pytest.fail(f"the local sandbox does not work here: {problem}")
