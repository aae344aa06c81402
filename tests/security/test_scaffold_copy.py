"""The scaffold copy a run mounts into its sandbox (issue 8, finding 3): a scaffold is untrusted
and we may be root, so a link that leads out of it must not bring a host file into the sandbox
(or the patch); links inside it stay links; special files are refused."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from selfcoder.core.errors import SelfcoderError
from selfcoder.core.scaffold import SEED_DIR, copy_scaffold


@pytest.fixture
def scaffold(tmp_path) -> Path:
    src = tmp_path / "scaffold"
    (src / "prompts").mkdir(parents=True)
    (src / "main.py").write_text("print('agent')\n")
    (src / "prompts" / "system.md").write_text("be brief\n")
    (src / "private.txt").write_text("p\n")
    (src / "private.txt").chmod(0o600)
    (src / "__pycache__").mkdir()
    (src / "__pycache__" / "main.cpython-311.pyc").write_bytes(b"\0")
    return src


def test_a_link_to_a_host_file_is_refused(tmp_path, scaffold):
    shadow = tmp_path / "shadow"  # stands in for /etc/shadow
    shadow.write_text("root:$6$secret\n")
    os.symlink(shadow, scaffold / "prompts" / "leak.md")
    with pytest.raises(SelfcoderError, match=r"leak\.md points outside the scaffold"):
        copy_scaffold(scaffold, tmp_path / "copy")
    copied = [p.read_text() for p in (tmp_path / "copy").rglob("*") if p.is_file()]
    assert not any("secret" in text for text in copied)


def test_a_relative_link_climbing_out_and_a_chain_out_are_refused(tmp_path, scaffold):
    (tmp_path / "outside.txt").write_text("host\n")
    os.symlink("../outside.txt", scaffold / "up.txt")
    with pytest.raises(SelfcoderError, match="up.txt"):
        copy_scaffold(scaffold, tmp_path / "copy1")
    os.unlink(scaffold / "up.txt")
    os.symlink(tmp_path / "outside.txt", scaffold / "zz-hop")
    os.symlink("zz-hop", scaffold / "aa-first")  # inside → inside → outside
    with pytest.raises(SelfcoderError, match="aa-first"):
        copy_scaffold(scaffold, tmp_path / "copy2")


def test_links_inside_are_kept_as_links_and_modes_are_readable(tmp_path, scaffold):
    os.symlink("prompts/system.md", scaffold / "rel-link.md")
    os.symlink(scaffold / "prompts", scaffold / "abs-dir-link")  # absolute, but inside
    copy = copy_scaffold(scaffold, tmp_path / "copy")
    assert os.readlink(copy / "rel-link.md") == "prompts/system.md"
    assert os.readlink(copy / "abs-dir-link") == "prompts", "an inside link must point inside the copy"
    assert (copy / "abs-dir-link" / "system.md").read_text() == "be brief\n"
    assert not (copy / "__pycache__").exists()
    assert stat.S_IMODE(os.stat(copy / "private.txt").st_mode) == 0o644
    assert stat.S_IMODE(os.stat(copy / "prompts").st_mode) == 0o755
    assert stat.S_IMODE(os.stat(copy).st_mode) == 0o755


def test_a_fifo_is_refused(tmp_path, scaffold):
    os.mkfifo(scaffold / "prompts" / "pipe")
    with pytest.raises(SelfcoderError, match="pipe is a special file"):
        copy_scaffold(scaffold, tmp_path / "copy")


def test_the_seed_copies(tmp_path):
    copy = copy_scaffold(SEED_DIR, tmp_path / "copy")
    assert (copy / "main.py").read_bytes() == (SEED_DIR / "main.py").read_bytes()
