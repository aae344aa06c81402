"""The mutable surface (`evolve --scope`): a child may change only the files its scope names in
the archive root's surface.toml; the check reads every path its diff touches (a rename's old
and new path, quoted names). Real searches with real sandboxes and git; only the model is scripted."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest
import yaml
from conftest import ADMISSION, settings_for
from e2e_replies import search_replace

from selfcoder.core.errors import SelfcoderError
from selfcoder.evolve import surface
from selfcoder.evolve.archive import Archive
from selfcoder.evolve.search import EvolveConfig, Search
from selfcoder.evolve.step import patch_paths_problem
from selfcoder.core.scaffold import SEED_DIR
from selfcoder.core.task import load_tasks

PROMPTS = surface.DEFAULT_SURFACE["prompts"]
POLICIES = surface.DEFAULT_SURFACE["policies"]


def diff(old: str, new: str | None = None, *, rename: bool = False, quoted: bool = False) -> str:
    new = new or old
    a, b = (f'"a/{old}"', f'"b/{new}"') if quoted else (f"a/{old}", f"b/{new}")
    if rename:
        return f"diff --git {a} {b}\nsimilarity index 100%\nrename from {old}\nrename to {new}\n"
    return f"diff --git {a} {b}\n--- {a}\n+++ {b}\n@@ -1 +1 @@\n-x\n+y\n"


def test_the_shipped_manifest_is_the_default_for_a_scaffold_without_one(tmp_path):
    assert surface.load(SEED_DIR) == surface.DEFAULT_SURFACE
    assert surface.load(tmp_path) == surface.DEFAULT_SURFACE
    (tmp_path / surface.MANIFEST).write_text("[scopes]\nprompts = 'prompts/**'\n")
    with pytest.raises(SelfcoderError, match=r"needs a \[scopes\] table"):
        surface.load(tmp_path)
    with pytest.raises(SelfcoderError, match="--scope loop: the scaffold's surface.toml declares config, prompts"):
        surface.patterns(surface.DEFAULT_SURFACE, "loop")


@pytest.mark.parametrize("path, pats, allowed", [
    ("prompts/next.txt", PROMPTS, True),
    ("prompts/deep/er.txt", PROMPTS, True),
    ("prompts.txt", PROMPTS, False),
    ("agent.py", PROMPTS, False),
    ("config.json", PROMPTS, False),
    ("retry_policy.py", POLICIES, True),
    ("tools/retry_policy.py", POLICIES, False),  # `*` stays inside one folder
    ("policies/stall.py", POLICIES, True),
    ("agent.py", POLICIES, False),
    ("tests/test_new.py", ["**"], True),
    ("surface.toml", ["**"], False),  # the manifest is never a child's to change
])
def test_patterns_match_the_whole_path(path, pats, allowed):
    assert surface.allows(path, pats) is allowed


def test_quoted_and_renamed_paths_are_judged_by_old_and_new_path():
    assert surface.scope_problem(diff("prompts/x y.txt", quoted=True), "prompts", PROMPTS) is None
    assert surface.scope_problem(diff("prompts/a.txt", "prompts/b c.txt", rename=True, quoted=True),
                                 "prompts", PROMPTS) is None
    away = surface.scope_problem(diff("prompts/a.txt", "agent.py", rename=True), "prompts", PROMPTS)
    assert away and "'agent.py'" in away and "'prompts/a.txt'" not in away, away
    into = surface.scope_problem(diff("agent.py", "prompts/a.txt", rename=True), "prompts", PROMPTS)
    assert into and "'agent.py'" in into, into
    deleted = "diff --git a/agent.py b/agent.py\ndeleted file mode 100644\n--- a/agent.py\n+++ /dev/null\n"
    assert "'agent.py'" in surface.scope_problem(deleted, "prompts", PROMPTS)
    quoted = surface.scope_problem(diff("agent\tx.py", quoted=True).replace("\t", "\\t"), "prompts", PROMPTS)
    assert quoted and "agent\\tx.py" in quoted, quoted


def test_the_scaffold_check_reads_quoted_and_renamed_paths():
    assert patch_paths_problem(diff("prompts/x y.txt", quoted=True)) is None
    assert "outside the scaffold" in patch_paths_problem(diff("../x y.txt", quoted=True))
    assert "outside the scaffold" in patch_paths_problem(diff("prompts/a.txt", "../../a.txt", rename=True))
    assert "copies a file" in patch_paths_problem(
        "diff --git a/../../etc/passwd b/prompts/p.txt\ncopy from ../../etc/passwd\ncopy to prompts/p.txt\n")
    assert "names no file" in patch_paths_problem("--- a/agent.py\n+++ b/agent.py\n@@ -1 +1 @@\n-x\n+y\n")


# -- a search under --scope prompts -------------------------------------------------------------
ANCHOR = "# scope test: an anchor line"
PROMPT_EDIT = search_replace("prompts/scope_test.txt", "Say what you do.", "Say what you do, briefly.")
WIDENING_EDIT = (PROMPT_EDIT + "\n" + search_replace("surface.toml", 'prompts = ["prompts/**"]', 'prompts = ["**"]')
                 + "\n" + search_replace("agent.py", ANCHOR, ANCHOR + " (changed)"))


def scoped_search(sim, name: str, edit: str, scope: str):
    seed = sim["tmp"] / "seed"
    if not seed.exists():
        shutil.copytree(SEED_DIR, seed, ignore=shutil.ignore_patterns("__pycache__"))
        (seed / "prompts" / "scope_test.txt").write_text("Say what you do.\n")
        (seed / "agent.py").write_text((seed / "agent.py").read_text() + f"\n{ANCHOR}\n")
    script = sim["tmp"] / f"{name}.yaml"
    script.write_text(yaml.safe_dump({"replies": [edit + "\nSUBMIT\n", "SUBMIT"]}))
    sim["tasks"].write_text(sim["tasks"].read_text().splitlines()[0] + "\n")  # calc-mean only: one root run
    config = EvolveConfig(admission_tests=ADMISSION, policy="hgm", max_evals=3, max_nodes=2, workers=1, scope=scope)
    archive = Archive.create(sim["tmp"] / name, seed, {"search": config.to_json()})
    s = Search(archive, load_tasks(sim["tasks"]), settings_for(sim["agent"]), config,
               modify_settings=settings_for(f"scripted/{script}"), diagnosis_settings=settings_for(sim["diagnosis"]))
    s.run()
    return archive


def test_a_child_editing_only_prompts_is_admitted_under_scope_prompts(sim):
    archive = scoped_search(sim, "ok", PROMPT_EDIT, "prompts")
    child = archive.node("n1")
    assert child.status == "valid", child.reason
    assert "briefly" in archive.diff("n1") and "prompts/scope_test.txt" in child.problem  # the scope was told
    archive.close()


def test_a_child_touching_agent_py_and_widening_its_manifest_is_invalid_under_scope_prompts(sim):
    """The child edits surface.toml to let `prompts` cover everything: the root's manifest judges it."""
    archive = scoped_search(sim, "wide", WIDENING_EDIT, "prompts")
    child = archive.node("n1")
    assert child.status == "invalid", child.reason
    assert "'agent.py'" in child.reason and "'surface.toml'" in child.reason and "--scope prompts" in child.reason
    assert "'prompts/scope_test.txt'" not in child.reason
    assert 'prompts = ["**"]' in archive.diff("n1")  # kept for inspection, never a parent
    archive.close()


# -- the CLI ------------------------------------------------------------------------------------
def evolve(*args: str):
    return subprocess.run([sys.executable, "-m", "selfcoder", "evolve", *args], capture_output=True, text=True,
                          timeout=120)


def test_an_unknown_scope_and_a_resume_with_another_scope_are_refused_in_one_line(sim):
    arch = sim["tmp"] / "arch"
    bad = evolve("--tasks", str(sim["tasks"]), "--archive", str(arch), "--scope", "loop")
    assert bad.returncode != 0 and "--scope loop: the scaffold's surface.toml declares" in bad.stderr, bad.stderr
    assert "Traceback" not in bad.stderr and not (arch / "archive.db").exists()
    made = evolve("--tasks", str(sim["tasks"]), "--archive", str(arch), "--max-evals", "1", "--model", sim["agent"])
    assert made.returncode == 0, made.stderr
    archive = Archive(arch, lock=False)
    assert archive.config["search"]["scope"] == "policies"  # the default, stored at creation
    archive.close()
    other = evolve("--archive", str(arch), "--resume", "--scope", "all", "--max-evals", "2")
    message = " ".join(other.stderr.split())
    assert other.returncode != 0 and "--scope policies, not all" in message and "Traceback" not in message, message
    archive = Archive(arch, lock=False)
    assert len(archive.evaluations()) == 1  # nothing ran
    archive.close()
