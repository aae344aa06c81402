"""Localisation (localize.py) from real pytest runs, and whole-function replies put in place
(function_edit.py): the parts of the localise-first fast path, tested alone."""

import os
import subprocess
import sys

import pytest

import localize
from edits import ActionError
from function_edit import replace_functions, restore
from seed_fake_model import make_repo

SUMMARY = ('"""Summary statistics."""\n\n\ndef median(values):\n    """The median."""\n'
           "    ordered = sorted(values)\n    return ordered[len(ordered) // 2]\n\n\n"
           "def value_range(values):\n    return max(values) - min(values)\n")
SUMMARY_TESTS = ("from summary import median, value_range\n\n\ndef test_range():\n"
                 "    assert value_range([5, 1, 9]) == 8\n\n\ndef test_even_length():\n"
                 "    assert median([4, 1, 3, 2]) == 2.5\n")
PERCENT = ("import json\n\n\ndef percent(done, total):\n    return round(100 * done / total, 1)\n\n\n"
           "def progress_line(done, total):\n    return '%d/%d (%s%%)' % (done, total, percent(done, total))\n\n\n"
           "def load(text):\n    return json.loads(text)\n")
PERCENT_TESTS = ("from lib.progress import load, progress_line\n\n\ndef test_empty():\n"
                 "    assert progress_line(0, 0) == '0/0 (100.0%)'\n\n\ndef test_load():\n"
                 "    assert load('{oops') == {}\n")
PYTEST = "%s -m pytest -q -p no:cacheprovider" % sys.executable


def pytest_output(root):
    proc = subprocess.run(PYTEST, shell=True, cwd=str(root), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert proc.returncode == 1
    return proc.stdout.decode()


def names(found):
    return [(c["path"], c["qualname"]) for c in found]


def test_the_function_under_test_named_by_the_failing_test(tmp_path):
    make_repo(str(tmp_path), {"summary.py": SUMMARY, "test_summary.py": SUMMARY_TESTS})
    out = pytest_output(tmp_path)
    found = localize.candidates(str(tmp_path), {"problem_statement": "median is wrong"}, out, 2, 80)
    assert names(found) == [("summary.py", "median")]  # value_range: its test passes
    assert (found[0]["start"], found[0]["end"]) == (4, 7)


def test_the_frame_in_the_code_comes_first_and_frames_outside_the_repo_are_ignored(tmp_path):
    make_repo(str(tmp_path), {"lib/progress.py": PERCENT, "tests/test_progress.py": PERCENT_TESTS})
    out = pytest_output(tmp_path)
    assert "json/decoder.py" in out or "json" in out  # load() fails inside the standard library
    frames = localize.frames(str(tmp_path), out, ["lib/progress.py", "tests/test_progress.py"])
    assert {path for path, _ in frames} == {"lib/progress.py", "tests/test_progress.py"}
    found = names(localize.candidates(str(tmp_path), {}, out, 3, 80))
    assert sorted(found) == [("lib/progress.py", n) for n in ("load", "percent", "progress_line")]
    assert found.index(("lib/progress.py", "percent")) < found.index(("lib/progress.py", "progress_line"))


def test_hostile_frames_point_nowhere(tmp_path):
    make_repo(str(tmp_path), {"calc.py": "def add(a, b):\n    return a - b\n"})
    os.makedirs(str(tmp_path / "venv" / "lib"))
    (tmp_path / "venv" / "lib" / "add.py").write_text("def add(a, b):\n    return 0\n")
    os.symlink("/etc/hostname", str(tmp_path / "hostname.py"))
    out = ('File "/usr/lib/python3/json/decoder.py", line 1, in add\n'
           'File "/etc/passwd", line 1, in add\n  File "../outside.py", line 2, in add\n'
           "venv/lib/add.py:2: in add\nhostname.py:1: in add\n%s/calc.py:2: AssertionError\n" % tmp_path)
    assert localize.frames(str(tmp_path), out, ["calc.py", "hostname.py"]) == [("calc.py", 2)]


METHODS = ("import os\n\n\nclass Shop:\n    rate = 2\n\n    @staticmethod\n    def price(n):\n"
           "        return n * 3\n\n    def total(self, n):\n        return self.price(n) + 1\n\n\n"
           "def helper():\n    return os.sep\n")


def target(root, path, qualname):
    return [d for d in localize.functions(str(root), path) if d["qualname"] == qualname]


def test_a_whole_function_reply_replaces_only_that_function_keeping_its_indentation(tmp_path):
    make_repo(str(tmp_path), {"shop.py": METHODS})
    reply = ("Here it is:\n```python\nimport math\n\n@staticmethod\ndef price(n):\n"
             "    return math.ceil(n * 2.5)\n```\n")
    report, originals = replace_functions(str(tmp_path), target(tmp_path, "shop.py", "Shop.price"), reply)
    assert "Shop.price" in report and originals == {"shop.py": METHODS}
    assert (tmp_path / "shop.py").read_text() == METHODS.replace("import os\n", "import os\nimport math\n").replace(
        "        return n * 3\n", "        return math.ceil(n * 2.5)\n")
    restore(str(tmp_path), originals)
    assert (tmp_path / "shop.py").read_text() == METHODS


def test_a_whole_module_reply_changes_only_the_functions_asked_for(tmp_path):
    make_repo(str(tmp_path), {"shop.py": METHODS})
    module = METHODS.replace("n * 3", "n * 4").replace("os.sep", "'/'")  # helper() changed too
    replace_functions(str(tmp_path), target(tmp_path, "shop.py", "Shop.price"), "```\n%s```" % module)
    assert (tmp_path / "shop.py").read_text() == METHODS.replace("n * 3", "n * 4")


@pytest.mark.parametrize("reply, error", [
    ("def price(n):\n    return n * 4\n", "no python code block"),
    ("```python\ndef price(n)\n    return n * 4\n```", "not valid Python"),
    ("```python\ndef cost(n):\n    return n * 4\n```", "no function named price"),
    ("```bash\ndef price(n):\n    return n * 4\n```", "no python code block"),
    ("```python\ndef price(n):\n    return n * 3\n```", "nothing changed"),
])
def test_replies_that_cannot_be_used_change_nothing(tmp_path, reply, error):
    make_repo(str(tmp_path), {"shop.py": METHODS})
    with pytest.raises(ActionError, match=error):
        replace_functions(str(tmp_path), target(tmp_path, "shop.py", "Shop.price"), reply)
    assert (tmp_path / "shop.py").read_text() == METHODS
