"""Where a scaffold (the agent code run inside the sandbox) comes from.

`seed` is generation 0 in the repository's `archive/seed/`; a path names any scaffold
directory (e.g. a child being evaluated); `ARCHIVE_DIR/NODE_ID` names an evolve archive node.
`copy_scaffold` makes the private copy a run mounts into its sandbox, safely (a scaffold is untrusted).
"""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

from selfcoder.core.errors import SelfcoderError

def _seed_dir() -> Path:
    """The seed scaffold: `selfcoder/seed/` in an installed wheel (package data), else the checkout's
    `archive/seed/` (an editable install or a source tree)."""
    package = Path(__file__).resolve().parents[1]  # selfcoder/
    packaged = package / "seed"
    return packaged if (packaged / "main.py").is_file() else package.parent / "archive" / "seed"


SEED_DIR = _seed_dir()


def resolve_scaffold(node: str | Path) -> Path:
    """The host directory of the scaffold `node` (must contain main.py): `seed`, a scaffold
    directory, an evolve archive node as `ARCHIVE_DIR/NODE_ID`, or a bare `NODE_ID` of the
    archive named by the environment variable SELFCODER_ARCHIVE."""
    path = SEED_DIR if str(node) == "seed" else Path(node).expanduser().resolve()
    if str(node) != "seed" and not path.is_dir():
        path = _archive_node(str(node)) or path
    if not path.is_dir():
        raise SelfcoderError(f"agent '{node}': not an archive node or a scaffold directory")
    if not (path / "main.py").is_file():
        raise SelfcoderError(f"agent '{node}': {path} has no main.py (a scaffold starts with main.py)")
    return path


def _archive_node(node: str) -> Path | None:
    """`ARCHIVE/NODE` (or NODE in $SELFCODER_ARCHIVE) → the node's files `ARCHIVE/nodes/NODE`, when
    archive.db knows the node. Read with sqlite3 alone: this module sits below selfcoder.evolve."""
    import sqlite3

    if "/" in node:
        archive, node_id = Path(node).expanduser().parent, Path(node).name
    elif os.environ.get("SELFCODER_ARCHIVE"):
        archive, node_id = Path(os.environ["SELFCODER_ARCHIVE"]).expanduser(), node
    else:
        return None
    db = archive / "archive.db"
    if not db.is_file():
        return None
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            row = conn.execute("SELECT status, reason FROM nodes WHERE id = ?", (node_id,)).fetchone()
        finally:
            conn.close()
    except sqlite3.Error as e:
        raise SelfcoderError(f"agent '{node}': cannot read {db}: {e}") from None
    if row is None:
        raise SelfcoderError(f"agent '{node}': the archive {archive} has no node '{node_id}'")
    if row[0] != "valid":
        raise SelfcoderError(f"agent '{node}': node '{node_id}' is invalid ({row[1]})")
    return (archive / "nodes" / node_id).resolve()


SKIPPED = frozenset({"__pycache__", ".pytest_cache"})


def copy_scaffold(src: Path, dest: Path) -> Path:
    """Copy the scaffold `src` to the new directory `dest` (made readable: files 0644, dirs
    0755) for the sandbox to mount. A scaffold is untrusted (a child the agent wrote, any
    `--agent DIR`) and we may be root: a link is copied as a link, never followed, and refused
    when it resolves outside the scaffold (a link to /etc/shadow would otherwise put that file
    into the sandbox and the patch); a fifo, socket or device is refused. A kept link is written
    relative to where it sits, so it points to the same file in the copy, wherever that is mounted."""
    root = Path(src).resolve()
    dest = Path(dest)
    dest.mkdir(mode=0o755)
    os.chmod(dest, 0o755)
    _copy_dir(root, root, dest)
    return dest


def _copy_dir(root: Path, src: Path, dest: Path) -> None:
    with os.scandir(src) as entries:
        for entry in sorted(entries, key=lambda e: e.name):
            if entry.name in SKIPPED:
                continue
            path, target = Path(entry.path), dest / entry.name
            mode = os.lstat(path).st_mode
            if stat.S_ISLNK(mode):
                os.symlink(_inside_link(root, path), target)
            elif stat.S_ISDIR(mode):
                target.mkdir()
                os.chmod(target, 0o755)
                _copy_dir(root, path, target)
            elif stat.S_ISREG(mode):
                _copy_file(path, target)
            else:
                raise SelfcoderError(f"agent scaffold: {path} is a special file (fifo, socket or device); "
                                     "a scaffold holds only files, directories and links inside it")


def _inside_link(root: Path, link: Path) -> str:
    """The link's target to write in the copy; SelfcoderError when it leads outside `root`."""
    raw = os.readlink(link)
    resolved = (link.parent / raw).resolve()
    if resolved != root and root not in resolved.parents:
        raise SelfcoderError(f"agent scaffold: the link {link} points outside the scaffold ({raw}): "
                             "refusing to copy it")
    return os.path.relpath(resolved, link.parent)


def _copy_file(path: Path, target: Path) -> None:
    try:  # O_NOFOLLOW: a file swapped for a link after the lstat is not followed either
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as e:
        raise SelfcoderError(f"agent scaffold: cannot read {path}: {e.strerror}") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise SelfcoderError(f"agent scaffold: {path} changed while being copied")
    with os.fdopen(fd, "rb") as f:
        with open(target, "xb") as out:
            shutil.copyfileobj(f, out)
    os.chmod(target, 0o644)
