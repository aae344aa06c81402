"""The language server's parts without a server: the patch as editor edits, the trust rule for
folder settings, and test results as diagnostics (with hostile input where it can come)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from lsprotocol import types

from edit_apply import apply_text_edits
from selfcoder.core.errors import SelfcoderError
from selfcoder.lsp.diagnostics import verdict_diagnostics
from selfcoder.lsp.folder_settings import folder_settings
from selfcoder.lsp.patch_files import parse_changes, resolve_changes
from selfcoder.lsp.workspace_edit import EditCapabilities, build_edit, text_edits
from selfcoder.validate.verdict import TestRun as JunitRun
from selfcoder.validate.verdict import Verdict


@pytest.mark.parametrize("old,new", [
    ("a\nb\nc\n", "a\nB\nc\n"),
    ("a\nb\nc", "a\nb\nc\nd"),  # no newline at the end
    ("", "new file\n"),
    ("x = 1\n", ""),
    ("ünïcode 😀\nline\n", "ünïcode 😀\nline two\n"),
])
def test_text_edits_turn_old_into_new(old, new):
    assert apply_text_edits(old, text_edits(old, new, types.PositionEncodingKind.Utf32)) == new


def git_diff(tmp_path: Path, before: dict[str, str], after: dict[str, str]) -> tuple[Path, str]:
    """A folder holding `before`, and the git diff that turns it into `after`."""
    repo = tmp_path / "repo"
    repo.mkdir()
    for rel, text in before.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(text)
    work = tmp_path / "work"
    subprocess.run(["cp", "-a", str(repo), str(work)], check=True)
    subprocess.run(["git", "init", "-q"], cwd=work, check=True)
    subprocess.run(["git", "add", "-A"], cwd=work, check=True)
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "base"], cwd=work, check=True)
    for rel in before:
        if rel not in after:
            (work / rel).unlink()
    for rel, text in after.items():
        (work / rel).parent.mkdir(parents=True, exist_ok=True)
        (work / rel).write_text(text)
    subprocess.run(["git", "add", "-A"], cwd=work, check=True)
    diff = subprocess.run(["git", "diff", "--cached", "-M"], cwd=work, capture_output=True, text=True, check=True)
    return repo, diff.stdout


def test_create_rename_delete_become_resource_operations(tmp_path):
    body = "".join(f"line {i}\n" for i in range(20))
    repo, patch = git_diff(tmp_path, {"a.py": "x = 1\n", "old.py": body, "gone.py": "bye\n"},
                           {"a.py": "x = 2\n", "new.py": body, "made.py": "hello\n"})
    changes = {c.path: c for c in resolve_changes(repo, patch)}
    assert {p: c.kind for p, c in changes.items()} == {"a.py": "modify", "new.py": "rename", "made.py": "create",
                                                       "gone.py": "delete"}
    assert changes["made.py"].new_text == "hello\n" and changes["new.py"].old_path == "old.py"
    caps = EditCapabilities(types.ClientCapabilities(workspace=types.WorkspaceClientCapabilities(
        workspace_edit=types.WorkspaceEditClientCapabilities(
            document_changes=True, resource_operations=[types.ResourceOperationKind.Create,
                                                        types.ResourceOperationKind.Rename,
                                                        types.ResourceOperationKind.Delete]))))
    edit = build_edit(repo, list(changes.values()), caps, versions={(repo / "a.py").as_uri(): 4}, label="l",
                      description="d")
    kinds = [type(c).__name__ for c in edit.document_changes]
    assert {"CreateFile", "RenameFile", "DeleteFile", "TextDocumentEdit"} <= set(kinds)
    versioned = [c for c in edit.document_changes if isinstance(c, types.TextDocumentEdit)
                 and c.text_document.uri.endswith("/a.py")]
    assert versioned[0].text_document.version == 4
    assert edit.change_annotations is None  # the client did not announce annotation support
    # a client without resource operations: refused, naming what it cannot do
    plain = EditCapabilities(types.ClientCapabilities())
    with pytest.raises(SelfcoderError, match=r"gone.py \(delete\), made.py \(create\), new.py \(rename\)"):
        build_edit(repo, list(changes.values()), plain, versions={}, label="l", description="d")


@pytest.mark.parametrize("path", ["../outside.py", "/etc/passwd", ".git/hooks/post-checkout", "a/../../x.py"])
def test_a_patch_naming_a_path_outside_the_folder_is_refused(path):
    patch = (f"diff --git a/{path} b/{path}\nnew file mode 100644\n--- /dev/null\n+++ b/{path}\n"
             "@@ -0,0 +1 @@\n+boom\n")
    with pytest.raises(SelfcoderError, match="outside the folder or in its metadata"):
        parse_changes(patch)


def test_a_binary_change_is_refused_by_name(tmp_path):
    patch = "diff --git a/logo.png b/logo.png\nindex 1..2 100644\nBinary files a/logo.png and b/logo.png differ\n"
    with pytest.raises(SelfcoderError, match=r"binary files \(logo.png\)"):
        resolve_changes(tmp_path, patch)


def test_folder_settings_may_only_lower_limits(tmp_path, monkeypatch):
    monkeypatch.setenv("SELFCODER_CONFIG", str(tmp_path / "none.toml"))
    user = {"model": {"name": "scripted/mine.yaml"}, "budget": {"max_calls": 20}, "agent": {"node": "seed"}}
    hostile = {"model": {"name": "gpt-4o", "api_base": "http://attacker.example"}, "agent": {"node": "/tmp/evil"},
               "sandbox": {"backend": "docker"}, "budget": {"max_calls": 10_000, "max_tokens": 1000},
               "run": {"runs_dir": "/etc"}, "testCmd": "python3 -m pytest -x"}
    got = folder_settings(tmp_path, user, hostile)
    s = got.settings
    assert (s.model.name, s.model.api_base, s.agent.node, s.sandbox.backend) == ("scripted/mine.yaml", None, "seed", "local")
    assert (s.budget.max_calls, s.budget.max_tokens) == (20, 1000)  # raised: refused; lowered: applied
    assert str(s.run.runs_dir) == ".selfcoder/runs"
    assert got.test_cmd == "python3 -m pytest -x"  # runs only inside the sandbox, like the repo's tests
    refused = "\n".join(got.warnings)
    for key in ("model.name", "model.api_base", "agent.node", "sandbox.backend", "budget.max_calls", "run.runs_dir"):
        assert f"ignored {key}" in refused
    assert folder_settings(tmp_path, None, "not an object").warnings  # refused, not raised


def test_diagnostics_stay_in_the_folder_and_show_control_characters(tmp_path):
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_x.py").write_text("def test_a():\n    assert f() == 1\n")
    log = ("tests/test_x.py:2: AssertionError\n"
           '  File "/etc/passwd", line 1, in <module>\n'
           "FAILED tests/test_x.py::test_a - assert 2 == 1\x1b[2K\u202e\n")
    verdict = Verdict(status="unresolved", runs=[JunitRun(phase="after", command="pytest", parser="pytest", exit_code=1,
                                                          duration_s=1.0, tests={"tests/test_x.py::test_a": "failed",
                                                                                "../escape.py::test_b": "failed"},
                                                         log_tail=log)])
    found = verdict_diagnostics(tmp_path, verdict)
    assert list(found) == ["tests/test_x.py"]
    [first] = [d for d in found["tests/test_x.py"] if d.code]
    assert first.range.start.line == 1 and first.source == "selfcoder"
    assert "\x1b" not in first.message and "\\x1b" in first.message and "\\u202e" in first.message
