"""Carrying out actions: search/replace, whole-file writes, shell commands."""

import time

import pytest

from actions import ActionError, apply_search_replace, run_shell, write_file

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
    assert "Edited calc.py" in msg
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
    with pytest.raises(ActionError, match="matches 2 places"):
        apply_search_replace(str(repo), "calc.py", ["        return a - b"], ["        return 0"])
    assert read(repo) == CALC


def test_no_match_error_shows_the_closest_lines(repo):
    with pytest.raises(ActionError) as e:
        apply_search_replace(str(repo), "calc.py", ["    def add(self, a, c):", "        return a + c"], ["x"])
    assert "not found" in str(e.value) and "2      def add(self, a, b):" in str(e.value)
    assert read(repo) == CALC


def test_empty_search_creates_a_new_file_but_not_over_an_existing_one(repo):
    assert "Created" in apply_search_replace(str(repo), "pkg/new.py", [], ["X = 1"])
    assert read(repo, "pkg/new.py") == "X = 1\n"
    with pytest.raises(ActionError, match="empty"):
        apply_search_replace(str(repo), "calc.py", [], ["X = 1"])


def test_paths_outside_the_repository_are_refused(repo):
    with pytest.raises(ActionError, match="outside"):
        apply_search_replace(str(repo), "../evil.py", [], ["x"])
    with pytest.raises(ActionError, match="outside"):
        write_file(str(repo), "/etc/evil.py", "x\n")
    with pytest.raises(ActionError, match="does not exist"):
        apply_search_replace(str(repo), "missing.py", ["a"], ["b"])


def test_crlf_files_keep_their_line_endings(repo):
    (repo / "win.py").write_bytes(b"a = 1\r\nb = 2\r\n")
    apply_search_replace(str(repo), "win.py", ["b = 2"], ["b = 3"])
    assert (repo / "win.py").read_bytes() == b"a = 1\r\nb = 3\r\n"


def test_whole_file_rewrite(repo):
    new = CALC.replace("return a - b", "return a + b", 1)
    assert "Wrote calc.py" in write_file(str(repo), "calc.py", new)
    assert read(repo) == new
    with pytest.raises(ActionError, match="identical"):
        write_file(str(repo), "calc.py", new)


def test_whole_file_rewrite_refuses_fragments_and_placeholders(repo):
    big = "".join("def f%d():\n    return %d\n" % (i, i) for i in range(20))
    (repo / "big.py").write_text(big)
    with pytest.raises(ActionError, match="fragment"):
        write_file(str(repo), "big.py", "def f0():\n    return 1\n")
    with pytest.raises(ActionError, match="placeholder"):
        write_file(str(repo), "calc.py", "class Calc:\n    # ... rest of the class unchanged\n")
    with pytest.raises(ActionError, match="lacks sub"):
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
