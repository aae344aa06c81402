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


# Plain tests that take 5 s or more each (whole end-to-end runs: CLI subprocesses, evolve searches, wheel
# builds), measured with `--durations` on the fast set, and the real SWE-bench instance (its snapshot
# is fetched by scripts/test, not by --fast). A new slow test belongs here too.
HEAVY = (
    "tests/bench/test_solve_rate_run.py::test_resume_goes_on_where_a_killed_run_stopped",
    "tests/bench/test_solve_rate_run.py::test_both_systems_solve_one_task_side_by_side",
    "tests/bench/test_solve_rate_run.py::test_mini_is_held_to_the_time_limit_and_its_patch_so_far_counts",
    "tests/e2e/test_all_attacks_at_once.py",
    "tests/e2e/test_demo.py",
    "tests/e2e/test_hostile_repo_config.py",
    "tests/e2e/test_output_escaping.py",
    "tests/e2e/test_packaging.py::test_a_scripted_solve_runs_from_the_installed_wheel",
    "tests/e2e/test_packaging.py::test_the_wheel_carries_the_seed_scaffold",
    "tests/e2e/test_runner_library.py::test_cancel_during_validation_is_cancelled_with_nothing_left",
    "tests/e2e/test_solve_attempts.py::test_the_cli_runs_all_attempts_when_asked",
    "tests/e2e/test_solve_cli.py::test_apply_refuses_an_unvalidated_patch",
    "tests/e2e/test_solve_cli.py::test_apply_writes_only_the_validated_patch",
    "tests/e2e/test_solve_cli.py::test_ctrl_c_or_sigterm_mid_run_records_cancelled_and_leaves_nothing",
    "tests/e2e/test_solve_cli.py::test_unknown_model_is_a_clear_error_and_recorded",
    "tests/e2e/test_solve_cli.py::test_without_apply_the_tree_is_untouched_and_exit_is_0",
    "tests/e2e/test_solve_forged.py",
    "tests/eval/test_eval_environments.py::test_the_named_python_runs_the_tests_and_its_env_is_built_once",
    "tests/eval/test_eval_untrusted_tasks.py::test_requirements_install_as_wheels_in_a_sandbox_and_an_sdist_never_builds",
    "tests/eval/test_official_specs.py::test_the_bundled_sympy_instance_without_its_environment_is_graded_through_the_official_spec",
    "tests/eval/test_real_swebench.py",
    "tests/evolve/test_compare.py::test_compare_on_held_out_tasks_then_resume_with_the_overlap_warning",
    "tests/evolve/test_evolve_cli.py::test_archive_commands_show_the_search",
    "tests/evolve/test_evolve_cli.py::test_kill_9_",  # every kill -9 then --resume test
    "tests/evolve/test_example.py",
    "tests/evolve/test_reward_hacking.py",
    "tests/evolve/test_scope.py::test_an_unknown_scope_and_a_resume_with_another_scope_are_refused_in_one_line",
    "tests/evolve/test_search_sim.py",
    "tests/evolve/test_self_improvement.py",
    "tests/llm/test_llm_import_cost.py::test_a_model_call_does_import_it",
    "tests/llm/test_llm_local_crash.py::test_a_server_busy_reading_a_long_prompt_is_slow_not_dead",
    "tests/lsp/test_apply_links.py::test_apply_refuses_a_path_through_a_symlink_in_the_folder",
    "tests/lsp/test_cancel_concurrency.py",
    "tests/lsp/test_lsp_transport.py::test_tcp_with_the_token_still_takes_the_model_only_from_the_users_config",
    "tests/lsp/test_run_apply.py",
    "tests/sandbox/test_hardening.py::test_memory_limit_holds_for_the_whole_sandbox",
    "tests/taskgen/test_gen.py",
    "tests/taskgen/test_recipe.py::test_a_recipe_builds_one_task_set_from_several_sdists",
    "tests/taskgen/test_sdist_bombs.py::test_bench_gen_refuses_an_sdist_with_too_many_members",
    "tests/taskgen/test_statement.py::test_gen_with_a_model_writes_bug_reports_and_refuses_one_that_quotes_the_fix",
)
# `scripts/test --fast` (the edit-test loop) deselects these with -m; the default run keeps them all.
# Each marker names what its tests need beyond the venv; tests get them here, by path, so one list
# says which tests need what (the `docker` ones are marked where they are: the `backend` fixtures'
# docker parameter and the docker-only modules).
NEEDS = {
    "editors": ("code-server, Chromium, tmux (scripts/ensure-editors.sh) or a real Neovim session",
                ("tests/editors/test_vscode.py", "tests/editors/test_vscode_bad_input.py",
                 "tests/editors/test_nvim_tui.py", "tests/editors/test_nvim_plugin.py", "tests/lsp/test_neovim.py",
                 "tests/lsp/test_apply_links.py::test_neovim_")),
    "ray": ("a local Ray cluster (seconds to start each)",
            ("tests/eval/test_eval_ray.py", "tests/evolve/test_evolve_ray.py", "tests/pools/test_ray_",
             "tests/pools/test_executor_input.py::test_an_unreachable_cluster")),
    "heavy": ("nothing outside the venv, but 5 s or more each (measured with --durations on 2 busy cores): "
              "too long for the fast tier", HEAVY),
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


@pytest.fixture
def env_cache(monkeypatch):
    """A private test-environment cache (SELFCODER_ENV_CACHE), traversable by sandbox uids, removed after."""
    cache = Path(tempfile.mkdtemp(prefix="selfcoder-test-envs-"))
    cache.chmod(0o755)
    monkeypatch.setenv("SELFCODER_ENV_CACHE", str(cache / "envs"))
    yield cache / "envs"
    shutil.rmtree(cache, ignore_errors=True)
