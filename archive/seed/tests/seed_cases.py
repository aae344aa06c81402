"""The task the loop tests share: calc.py's add() subtracts; test_calc.py shows it."""

import json
import os
import sys

from seed_fake_model import SEED, make_repo

BUGGY = "def add(a, b):\n    return a - b\n\n\ndef mul(a, b):\n    return a * b\n"
FIXED = BUGGY.replace("a - b", "a + b")
TESTS = ("import unittest\nfrom calc import add\n\n\nclass T(unittest.TestCase):\n"
         "    def test_add(self):\n        self.assertEqual(add(2, 3), 5)\n")
FIX = "calc.py\n<<<<<<< SEARCH\n    return a - b\n=======\n    return a + b\n>>>>>>> REPLACE\n"
TEST_CMD = "%s -m unittest test_calc" % sys.executable
FIX_PATCH = ["-    return a - b", "+    return a + b"]


LOOP = {"policies": {"localize_first": {"enabled": False}}}  # the free loop alone, no fast path


def task(**limits):
    return {"instance_id": "t-1", "problem_statement": "add() in calc.py returns a - b instead of a + b.",
            "repo_map": "calc.py: add, mul", "test_cmd": TEST_CMD, "hints": {"files": ["calc.py"]},
            "limits": dict({"max_steps": 5, "time_limit_s": 60, "max_tokens": 100000}, **limits)}


def changes(diff):
    """The removed and added lines of a diff."""
    return [line for line in diff.splitlines() if line[:1] in "+-" and line[:3] not in ("+++", "---")]


def config():
    with open(os.path.join(SEED, "config.json")) as f:
        return json.load(f)


def calc_repo(path):
    """A git repository at `path` (a pathlib.Path) with the buggy calc.py and its test."""
    make_repo(str(path), {"calc.py": BUGGY, "test_calc.py": TESTS})
    return path
