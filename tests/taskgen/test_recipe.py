"""Recipes (`bench gen --recipe`): several libraries into one task set; a bad recipe is one line
naming the file and what is wrong. The shipped recipe names >= 30 tasks from >= 3 libraries."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from taskgen_cli import selfcoder  # noqa: E402

from selfcoder.core.errors import SelfcoderError  # noqa: E402
from selfcoder.taskgen.recipe import load_recipe  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def test_the_shipped_recipe_names_enough_tasks_and_libraries():
    configs = load_recipe(ROOT / "bench" / "recipes" / "default.toml")
    assert sum(c.count for c in configs) >= 30
    assert len({c.sdist.split("==")[0] for c in configs}) >= 3
    assert all("==" in c.sdist and c.python and c.requirements for c in configs)


def test_a_recipe_builds_one_task_set_from_several_sdists(tmp_path, caches, make_sdist):
    a = make_sdist()
    b = make_sdist(lambda root: (root / "PKG-INFO").write_text((root / "PKG-INFO").read_text().replace(
        "Version: 0.1.0", "Version: 0.2.0")), name="minicalc-0.2.0")
    recipe = tmp_path / "recipe.toml"
    recipe.write_text(f'[defaults]\ncount = 2\n\n[[library]]\nsdist = "{a.name}"\nseed = 1\n\n'
                      f'[[library]]\nsdist = "{b}"\nseed = 2\ncount = 1\n')
    out = tmp_path / "out"
    res = selfcoder("bench", "gen", "--recipe", str(recipe), "--out", str(out))
    assert res.returncode == 0, res.stderr
    tasks = [json.loads(line) for line in (out / "tasks.jsonl").read_text().splitlines()]
    assert [t["version"] for t in tasks] == ["0.1.0", "0.1.0", "0.2.0"]
    assert "3 task(s) from 2 libraries" in res.stderr
    assert all((out / t["repo_path"] / ".git").is_dir() for t in tasks)


@pytest.mark.parametrize("text, needle", [
    ("[[library]]\ncount = 2\n", "library 1 has no sdist"),
    ('[[library]]\nsdist = "x==1"\ncolour = "red"\n', "unknown field(s) colour"),
    ('[defaults]\ncount = 1\n', "names no [[library]]"),
    ('[[library]\nsdist = "x==1"\n', "not valid TOML"),
    ('[extras]\n[[library]]\nsdist = "x==1"\n', "unknown section(s) extras"),
])
def test_a_bad_recipe_is_one_error_naming_it(tmp_path, text, needle):
    recipe = tmp_path / "bad.toml"
    recipe.write_text(text)
    with pytest.raises(SelfcoderError, match="bad.toml") as e:
        load_recipe(recipe)
    assert needle in str(e.value)
    with pytest.raises(SelfcoderError, match="cannot read the recipe"):
        load_recipe(tmp_path / "missing.toml")
