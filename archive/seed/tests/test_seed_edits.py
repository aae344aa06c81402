"""Carrying out actions: search/replace, whole-file writes, shell commands; the edit policies
(lenient_search, rewrite_guard) switched on and off. Error messages are for the model, so
the tests check what they must hold (the file's real lines, the lost name), not their wording."""

import time

import pytest

from edits import ActionError, apply_search_replace, write_file
from policies import Policies
from shell import run_shell

CALC = "class Calc:\n    def add(self, a, b):\n        return a - b\n\n    def sub(self, a, b):\n        return a - b\n"


@pytest.fixture
def repo(tmp_path):
    (tmp_path / "calc.py").write_text(CALC)
    return tmp_path


def read(repo, name="calc.py"):
    return (repo / name).read_text()


def test_exact_match_replaced(repo):
    msg = apply_search_replace(str(repo), "calc.py", ["    def add(self, a, b):", "        return a - b"],
                               ["    def add(self, a, b):", "        return a + b"])
    assert "calc.py" in msg
    assert read(repo) == CALC.replace("return a - b", "return a + b", 1)


def test_trailing_whitespace_and_blank_edges_tolerated(repo):
    apply_search_replace(str(repo), "calc.py", ["", "    def add(self, a, b):   ", ""],
                         ["", "    def add(self, x, y):", ""])
    assert "def add(self, x, y):\n        return a - b" in read(repo)


def test_indentation_tolerant_match_reindents_replacement(repo):
    apply_search_replace(str(repo), "calc.py", ["def add(self, a, b):", "    return a - b"],
                         ["def add(self, a, b):", "    total = a + b", "    return total"])
    assert "    def add(self, a, b):\n        total = a + b\n        return total\n" in read(repo)


def test_ambiguous_match_is_an_error_and_changes_nothing(repo):
    with pytest.raises(ActionError):
        apply_search_replace(str(repo), "calc.py", ["        return a - b"], ["        return 0"])
    assert read(repo) == CALC


def test_no_match_error_shows_the_closest_lines(repo):
    with pytest.raises(ActionError) as e:
        apply_search_replace(str(repo), "calc.py", ["    def add(self, a, c):", "        return a + c"], ["x"])
    assert "def add(self, a, b):" in str(e.value)  # the file's real lines, to copy
    assert read(repo) == CALC


def test_empty_search_creates_a_new_file_but_not_over_an_existing_one(repo):
    apply_search_replace(str(repo), "pkg/new.py", [], ["X = 1"])
    assert read(repo, "pkg/new.py") == "X = 1\n"
    with pytest.raises(ActionError):
        apply_search_replace(str(repo), "calc.py", [], ["X = 1"])


def test_paths_outside_the_repository_are_refused(repo):
    with pytest.raises(ActionError):
        apply_search_replace(str(repo), "../evil.py", [], ["x"])
    with pytest.raises(ActionError):
        write_file(str(repo), "/etc/evil.py", "x\n")
    with pytest.raises(ActionError):
        apply_search_replace(str(repo), "missing.py", ["a"], ["b"])
    assert not (repo.parent / "evil.py").exists() and not (repo / "missing.py").exists()


def test_crlf_files_keep_their_line_endings(repo):
    (repo / "win.py").write_bytes(b"a = 1\r\nb = 2\r\n")
    apply_search_replace(str(repo), "win.py", ["b = 2"], ["b = 3"])
    assert (repo / "win.py").read_bytes() == b"a = 1\r\nb = 3\r\n"


def test_whole_file_rewrite(repo):
    new = CALC.replace("return a - b", "return a + b", 1)
    write_file(str(repo), "calc.py", new)
    assert read(repo) == new
    with pytest.raises(ActionError):  # identical: "nothing changed" is an error for the model
        write_file(str(repo), "calc.py", new)


def test_whole_file_rewrite_refuses_fragments_and_placeholders(repo):
    big = "".join("def f%d():\n    return %d\n" % (i, i) for i in range(20))
    (repo / "big.py").write_text(big)
    with pytest.raises(ActionError):  # a fragment of a long file
        write_file(str(repo), "big.py", "\n".join(big.splitlines()[:8]) + "\n")
    with pytest.raises(ActionError):  # a placeholder comment
        write_file(str(repo), "calc.py", CALC.replace("        return a - b\n", "        # ... rest unchanged\n", 1))
    with pytest.raises(ActionError, match="sub"):  # sub() would be lost: the message names it
        write_file(str(repo), "calc.py", "class Calc:\n    def add(self, a, b):\n        return a + b\n")
    assert read(repo, "big.py") == big and read(repo) == CALC


def test_shell_output_exit_code_and_truncation(tmp_path):
    code, out = run_shell("echo hello; exit 3", str(tmp_path), 10, 1000)
    assert (code, out) == (3, "hello\n")
    code, out = run_shell("seq 1 100000", str(tmp_path), 10, 200)
    assert code == 0 and out.startswith("1\n2\n") and out.endswith("100000\n") and "omitted" in out
    assert len(out) < 300


def test_shell_timeout_kills_background_children(tmp_path):
    start = time.monotonic()
    code, out = run_shell("sleep 30 & echo started; sleep 30", str(tmp_path), 1, 1000)
    assert code == 124 and "started" in out and "timed out" in out
    assert time.monotonic() - start < 10


def test_lenient_search_policy(repo):
    strict = Policies({"lenient_search": {"enabled": False}}).lenient_search
    with pytest.raises(ActionError):
        apply_search_replace(str(repo), "calc.py", ["def add(self, a, b):", "    return a - b"],
                             ["def add(self, a, b):", "    return a + b"], strict)
    assert read(repo) == CALC


def test_rewrite_guard_policy(repo):
    big = "".join("def f%d():\n    return %d\n" % (i, i) for i in range(20))
    (repo / "big.py").write_text(big)
    off = Policies({"rewrite_guard": {"enabled": False}}).rewrite_guard
    write_file(str(repo), "big.py", "def f0():\n    return 1\n", off)
    assert read(repo, "big.py") == "def f0():\n    return 1\n"
    keep_defs = Policies({"rewrite_guard": {"lost_definitions": False}}).rewrite_guard
    write_file(str(repo), "calc.py", "class Calc:\n    def add(self, a, b):\n        return a + b\n", keep_defs)
    assert "sub" not in read(repo)
    longer = Policies({"rewrite_guard": {"min_lines": 2, "min_kept": 0.9}}).rewrite_guard
    with pytest.raises(ActionError):
        write_file(str(repo), "big.py", "def f0(): return 2\n", longer)  # 1 line of 2: a fragment
    assert read(repo, "big.py") == "def f0():\n    return 1\n"
