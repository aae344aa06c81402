"""The repository map: ranking evidence, signature rendering, budget, skipped files."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from selfcoder.code import build_repo_map

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def write_tree(root: Path, files: dict[str, str | bytes]) -> Path:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    return root


SHOP = {
    "shop/__init__.py": "",
    "shop/cart.py": "from shop.prices import apply_discount\n\nclass Cart:\n    def total(self):\n        return 0\n",
    "shop/prices.py": "def apply_discount(price, percent):\n    return price - percent\n\n\ndef round_price(p):\n    return p\n",
    "shop/users.py": "class User:\n    def __init__(self, name):\n        self.name = name\n",
    "shop/reports/summary.py": "def summarize(rows):\n    return len(rows)\n",
    "tests/test_cart.py": "from shop.cart import Cart\n\ndef test_total():\n    assert Cart().total() == 0\n",
    "tests/test_prices.py": "from shop.prices import apply_discount\n\ndef test_discount():\n"
                            "    assert apply_discount(100, 10) == 90\n",
    "README.md": "# shop\n",
}


def test_the_file_defining_the_named_function_comes_first(tmp_path: Path):
    root = write_tree(tmp_path, SHOP)
    m = build_repo_map(root, "apply_discount() subtracts the percentage as an absolute amount: 100 at 10% gives 90 "
                             "only by accident, 50 at 10% gives 40.")
    assert m.ranked_files[0] == "shop/prices.py"
    assert "defines apply_discount" in m.reasons["shop/prices.py"]
    assert m.text.startswith("shop/prices.py\n  def apply_discount(price, percent):\n  def round_price(p):\n")
    assert set(m.ranked_files) == set(SHOP)  # every file is listed, README included


def test_traceback_files_are_boosted(tmp_path: Path):
    root = write_tree(tmp_path, SHOP)
    output = (
        "Traceback (most recent call last):\n"
        '  File "/workspace/tests/test_cart.py", line 4, in test_total\n'
        "    assert Cart().total() == 0\n"
        '  File "/workspace/shop/reports/summary.py", line 2, in summarize\n'
        "    return len(rows)\n"
        "TypeError: object of type 'NoneType' has no len()\n"
    )
    m = build_repo_map(root, "The report crashes.", failing_output=output)
    assert m.ranked_files[:2] == ["shop/reports/summary.py", "tests/test_cart.py"]
    assert "in the failing output" in m.reasons["shop/reports/summary.py"]


def test_failing_pytest_output_on_the_calc_fixture(tmp_path: Path):
    root = tmp_path / "calc"
    shutil.copytree(FIXTURES / "repos/calc_py", root)
    output = ("FAILED tests/test_ops.py::test_mean_of_three - assert 3.0 == 2\n"
              "tests/test_ops.py:20: AssertionError\n")
    m = build_repo_map(root, "calc.mean([1, 2, 3]) returns 3.0 instead of 2.0", output)
    assert m.ranked_files[:2] == ["calc/ops.py", "tests/test_ops.py"]
    assert "failing test file" in m.reasons["tests/test_ops.py"]
    assert "defines mean" in m.reasons["calc/ops.py"]


def test_python_signatures(tmp_path: Path):
    root = write_tree(tmp_path, {"geo/shapes.py": '''
import math

class Shape(Base, metaclass=Registry):
    """A shape."""

    def area(self) -> float:
        def helper():  # a local function: not part of the map
            return 1
        return helper()

    @property
    def label(self,
              prefix: str = "shape",  # trailing comment
              *args, **kwargs,
              ) -> str:
        return prefix

    class Meta:
        async def load(self, key, default=None):
            return None


def distance(a: tuple[float, float], b: tuple[float, float] = (0.0, 0.0)) -> float:
    return math.dist(a, b)
'''})
    m = build_repo_map(root, "")
    assert m.text == "\n".join([
        "geo/shapes.py",
        "  class Shape(Base, metaclass=Registry):",
        "    def area(self) -> float:",
        '    def label(self, prefix: str = "shape", *args, **kwargs) -> str:',
        "    class Meta:",
        "      async def load(self, key, default=None):",
        "  def distance(a: tuple[float, float], b: tuple[float, float] = (0.0, 0.0)) -> float:",
    ])


def test_budget_keeps_the_most_relevant_first(tmp_path: Path):
    files = {f"pkg/mod{i:02d}.py": "".join(f"def function_{i}_{j}(a, b=1):\n    pass\n" for j in range(8))
             for i in range(30)}
    files["pkg/target.py"] = "def parse_header(raw: bytes) -> dict:\n    return {}\n"
    root = write_tree(tmp_path, files)
    m = build_repo_map(root, "parse_header drops the last field", max_chars=600)
    assert len(m.text) <= 600 and m.truncated
    assert m.text.startswith("pkg/target.py\n  def parse_header(raw: bytes) -> dict:\n")
    assert m.text.splitlines()[-1].startswith("... ") and m.text.endswith("more files")
    assert len(m.ranked_files) == 31


def test_skips_vcs_venvs_node_modules_binaries_and_big_files(tmp_path: Path):
    root = write_tree(tmp_path, {
        "app.py": "def main():\n    pass\n",
        ".git/config": "[core]\n",
        "env/pyvenv.cfg": "home = /usr/bin\n",  # a virtualenv, whatever its name
        "env/lib/site.py": "def main():\n    pass\n",
        ".venv/lib/x.py": "def main():\n    pass\n",
        "node_modules/left-pad/index.js": "function leftPad() {}\n",
        "src/__pycache__/app.cpython-311.pyc": b"\x00\x01binary",
        "assets/logo.png": b"\x89PNG\r\n\x1a\n\x00\x00\x00",
        "data/huge.py": "x = 1\n" * 200_000,
        "build/lib/app.py": "def main():\n    pass\n",
    })
    m = build_repo_map(root, "main")
    assert m.ranked_files == ["app.py"]


def test_git_repository_lists_tracked_and_untracked_not_ignored(tmp_path: Path):
    import subprocess

    root = write_tree(tmp_path, {"a.py": "def a():\n    pass\n", "gen/out.py": "def generated():\n    pass\n",
                                 ".gitignore": "gen/\n", "new.py": "def new():\n    pass\n"})
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    subprocess.run(["git", "add", "a.py", ".gitignore"], cwd=root, check=True)
    m = build_repo_map(root, "")
    assert sorted(m.ranked_files) == [".gitignore", "a.py", "new.py"]


def test_module_path_and_qualified_name_in_the_problem(tmp_path: Path):
    root = write_tree(tmp_path, {
        "lib/encoding/__init__.py": "def dumps(obj):\n    pass\n",
        "lib/pickling.py": "def dumps(obj):\n    pass\n",
        "lib/marshal.py": "def dumps(obj):\n    pass\n",
    })
    m = build_repo_map(root, "lib.encoding.dumps raises TypeError for sets")
    assert m.ranked_files[0] == "lib/encoding/__init__.py"


@pytest.mark.parametrize("max_chars", [0, 10, 40])
def test_tiny_budgets_never_overflow(tmp_path: Path, max_chars: int):
    root = write_tree(tmp_path, SHOP)
    m = build_repo_map(root, "apply_discount", max_chars=max_chars)
    assert len(m.text) <= max_chars
