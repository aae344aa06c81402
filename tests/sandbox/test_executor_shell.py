"""Which commands the executor runs without a shell (the GNU make fast path) and which go
through bash: only plain words naming a program on PATH skip the shell."""

import importlib.util

import pytest

from selfcoder.sandbox.client import EXECUTOR_SOURCE

spec = importlib.util.spec_from_file_location("sandbox_executor", EXECUTOR_SOURCE)
executor = importlib.util.module_from_spec(spec)
spec.loader.exec_module(executor)
ENV = {"PATH": "/usr/bin:/bin"}


@pytest.mark.parametrize("cmd, argv", [
    ("true", ["/usr/bin/true"]),
    ("python3 -m pytest -q", ["/usr/bin/python3", "-m", "pytest", "-q"]),
    ("git diff --cached", ["/usr/bin/git", "diff", "--cached"]),
])
def test_plain_commands_run_without_a_shell(cmd, argv):
    assert executor.shell_argv(cmd, ENV) == argv


@pytest.mark.parametrize("cmd", [
    "echo hi",            # builtin differs from the program
    "cd /tmp",            # builtin only
    "FOO=1 env",          # assignment
    "ls *.py",            # glob
    "a && b", "a | b", "a; b", "a > f", "echo $HOME", "ls ~",
    "grep 'x y' f",       # quoting
    "./run_tests.sh",     # relative to the command's cwd, not ours
    "nosuchprogram x",    # bash says "command not found", exit 127
])
def test_anything_else_goes_through_bash(cmd):
    assert executor.shell_argv(cmd, ENV) == [executor.SHELL, "-c", cmd]


def test_both_paths_behave_alike_in_a_sandbox(backend, open_sb, tmp_path):
    (tmp_path / "f.txt").write_text("hello\n")
    sb = open_sb(tmp_path)
    direct, shell = sb.run("cat f.txt"), sb.run("cat f.txt | cat")
    assert (direct.exit_code, direct.output) == (shell.exit_code, shell.output) == (0, "hello\n")
    missing = sb.run("nosuchprogram x")
    assert missing.exit_code == 127 and "command not found" in missing.output
    assert sb.run("false").exit_code == 1
