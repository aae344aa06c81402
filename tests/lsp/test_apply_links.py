"""The editor's apply refuses a patch path that goes through a symlink in the user's folder, as
`solve --apply` does: one check (selfcoder/core/patch_paths.py) for both. The attack: a git-ignored
`docs -> /outside` link and a resolved run that creates `docs/authorized_keys`."""

from __future__ import annotations

import json
import subprocess

import pytest
from pygls.exceptions import JsonRpcException

from selfcoder.core.errors import SelfcoderError
from selfcoder.lsp.patch_files import resolve_changes

from conftest import CALC_FIX, write_script

PLANT = "docs/authorized_keys\n<<<<<<< SEARCH\n=======\nssh-ed25519 AAAA attacker\n>>>>>>> REPLACE\n"


@pytest.mark.asyncio
async def test_apply_refuses_a_path_through_a_symlink_in_the_folder(start_editor, repo, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    (repo / ".git" / "info" / "exclude").write_text("docs\n")
    (repo / "docs").symlink_to(outside)  # the user's own link, ignored by git
    editor = await start_editor("vscode", model=write_script(tmp_path, CALC_FIX + "\n" + PLANT),
                                init_options={"review": "none"})
    run_id = await editor.run()
    status = await editor.wait_finished(run_id)
    assert status["status"] == "resolved", status
    assert "docs/authorized_keys" in status["touchedFiles"], editor.logs()
    with pytest.raises(JsonRpcException, match=r"docs/authorized_keys: .*symlink"):
        await editor.command("selfcoder.apply", {"runId": run_id})
    assert not editor.edits and list(outside.iterdir()) == []


PATCH = ("diff --git a/docs/authorized_keys b/docs/authorized_keys\nnew file mode 100644\n--- /dev/null\n"
         "+++ b/docs/authorized_keys\n@@ -0,0 +1 @@\n+ssh-ed25519 AAAA attacker\n")


def test_solve_apply_refuses_the_same_patch_with_the_same_check(tmp_path):
    from selfcoder.core.fingerprint import fingerprint_tree
    from selfcoder.core.worktree_apply import apply_run

    repo, outside, run_dir = tmp_path / "repo", tmp_path / "outside", tmp_path / "run"
    for d in (repo, outside, run_dir):
        d.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    (repo / ".gitignore").write_text("docs\n")
    (repo / "docs").symlink_to(outside)
    (run_dir / "result.json").write_text(json.dumps({"run_id": "r1", "status": "resolved"}))
    (run_dir / "patch.diff").write_text(PATCH)
    (run_dir / "snapshot.json").write_text(json.dumps(fingerprint_tree(repo)))
    with pytest.raises(SelfcoderError, match="docs is a symlink in your folder"):
        apply_run(run_dir, repo)
    assert list(outside.iterdir()) == []


def test_creating_a_file_over_a_dangling_link_is_refused(tmp_path):
    (tmp_path / "notes.txt").symlink_to(tmp_path.parent / "nowhere" / "notes.txt")
    patch = PATCH.replace("docs/authorized_keys", "notes.txt")
    with pytest.raises(SelfcoderError, match="notes.txt: already exists"):
        resolve_changes(tmp_path, patch)


def test_neovim_apply_through_the_server_refuses_it_too(repo, tmp_path, sandbox_env):
    """The same attack through a real client: headless Neovim asks the server to apply the run."""
    from test_neovim import run_in_neovim

    outside = tmp_path / "outside"
    outside.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    (repo / ".git" / "info" / "exclude").write_text("docs\n")
    (repo / "docs").symlink_to(outside)
    out = run_in_neovim(repo, tmp_path, sandbox_env, CALC_FIX + "\n" + PLANT, problem="calc.mean is wrong")
    assert out.get("status") == "resolved", out
    assert "selfcoder.apply" in out.get("error", "") and "docs/authorized_keys" in out["error"], out
    assert "symlink" in out["error"] and list(outside.iterdir()) == []
