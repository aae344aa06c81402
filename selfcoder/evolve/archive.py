"""The evolve archive: scaffold versions in git, records in archive.db, ready-to-run copies on disk.

    DIR/archive.db        nodes and evaluations (db.py), the run's config
    DIR/scaffolds.git     a bare git repository: one commit per node (its parent commit = the
                          parent node's), tag = node id; the root node `root` is a copy of the seed
    DIR/nodes/<id>/       the node's files, ready to mount as a scaffold (`--agent DIR/<id>`)
    DIR/runs/...          run dirs of self-modifications and evaluations (logs)
    DIR/lock              held (flock) by the one process that writes the archive

A node is written in this order: git commit + tag, then `nodes/<id>/` (temp dir + rename),
then its database row, which is the commit point. `open()` removes whatever a kill left
before the row (a tag, a directory, a temp dir), so no node is ever half-written.

An archive is made in this order, under its lock: the git repository, then archive.db with the
run's config, the seed and the task set in one transaction, then the root node. A kill before
the config is stored leaves a directory that a new `create` clears and makes again; a kill
after it leaves an archive without a root, which opening it for writing (`--resume`) finishes
(the root from the stored seed) and a new `create` makes again: never an archive that resumes
as empty, nor one that blocks a new one.

Git runs with the hardened environment of selfcoder.core.gitsafe (no system/global config, no
hooks): a child's files are untrusted data, stored, never run on the host.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import stat
import tempfile
import threading
import time
from pathlib import Path

from selfcoder.core.errors import SelfcoderError
from selfcoder.evolve.db import ArchiveDB, EvalRow, NodeRow
from selfcoder.core.gitsafe import git_env
from selfcoder.core.scaffold import copy_scaffold

ROOT = "root"
DB_FILE = "archive.db"
STATUSES = ("valid", "invalid", "failed")
# what a create that was cut off can have left (nothing a user made)
CREATION_LEFTOVERS = {"scaffolds.git", "lock", "nodes", DB_FILE, f"{DB_FILE}-wal", f"{DB_FILE}-shm",
                      f"{DB_FILE}-journal"}


class ArchiveBusy(SelfcoderError):
    pass


def _repo(path: Path):
    import git

    repo = git.Repo(str(path))
    repo.git.update_environment(**git_env({"GIT_DIR": str(path)}))
    return repo


def _take_lock(root: Path) -> int:
    fd = os.open(root / "lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise ArchiveBusy(f"{root}: another selfcoder evolve is using this archive") from None
    return fd


def _unfinished(root: Path) -> bool:
    """Whether `root` holds only what an archive creation cut off by a kill leaves: creation's
    files and no root node row (so nothing a search made)."""
    if not root.is_dir() or not all(p.name in CREATION_LEFTOVERS for p in root.iterdir()):
        return False
    if not (root / DB_FILE).is_file():
        return True
    import sqlite3

    conn = sqlite3.connect(str(root / DB_FILE), timeout=30)  # we hold the archive's lock
    try:
        return conn.execute("SELECT COUNT(*) FROM nodes").fetchone()[0] == 0
    except sqlite3.OperationalError as e:
        if "no such table" in str(e):  # cut off while the schema was made
            return True
        raise SelfcoderError(f"{root / DB_FILE}: {e}") from None
    finally:
        conn.close()


class Archive:
    def __init__(self, root: Path, *, lock: bool = True, _lock_fd: int | None = None):
        self.root = Path(root).expanduser().resolve()
        if not (self.root / DB_FILE).is_file():
            raise SelfcoderError(f"{self.root}: not an evolve archive (no {DB_FILE})")
        self._lock_fd = _lock_fd
        if lock and _lock_fd is None:
            self._lock_fd = _take_lock(self.root)
        try:
            self.db = ArchiveDB(self.root / DB_FILE)
            self._write_lock = threading.Lock()
            self.git_dir = self.root / "scaffolds.git"
            self.repo = _repo(self.git_dir)
            if lock:
                self._recover()
                self._finish_creation()
        except BaseException:
            if getattr(self, "db", None) is not None:
                self.db.close()
            if self._lock_fd is not None:
                os.close(self._lock_fd)
                self._lock_fd = None
            raise

    # -- create / open ----------------------------------------------------------------------------
    @classmethod
    def create(cls, root: Path, seed: Path, config: dict, *, tasks: dict | None = None) -> "Archive":
        """A new archive whose root node is a copy of the scaffold `seed`; `tasks` (the task set's
        file and digests) is stored with the config, for `--resume` to check."""
        import git

        root = Path(root).expanduser().resolve()
        root.mkdir(parents=True, exist_ok=True)
        names = {p.name for p in root.iterdir()}
        if names - CREATION_LEFTOVERS:  # (no lock file is left in a directory that is not ours)
            if DB_FILE in names:
                raise SelfcoderError(f"{root}: already an archive; add --resume to go on with it")
            raise SelfcoderError(f"{root}: exists and is not empty; choose a new directory for the archive")
        fd = _take_lock(root)
        try:
            if _unfinished(root):  # a creation cut off by a kill: nothing of value, make it again
                for entry in root.iterdir():
                    if entry.name != "lock":
                        shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
            else:
                raise SelfcoderError(f"{root}: already an archive; add --resume to go on with it")
            empty = Path(tempfile.mkdtemp(prefix="selfcoder-git-template-"))
            try:
                git.Repo.init(str(root / "scaffolds.git"), bare=True, template=str(empty), allow_unsafe_options=True,
                              env=git_env({"GIT_CEILING_DIRECTORIES": "/"}))
            finally:
                shutil.rmtree(empty, ignore_errors=True)
            db = ArchiveDB(root / DB_FILE)
            meta = {"config": config, "seed": str(seed)}
            if tasks is not None:
                meta["tasks"] = tasks
            db.set_metas(meta)  # one transaction: from here on the archive can be finished
            db.close()
        except BaseException:
            os.close(fd)
            raise
        return cls(root, _lock_fd=fd)  # adds the root node (`_finish_creation`)

    def _finish_creation(self) -> None:
        """Add the root node when the archive has none: a new archive, or one whose creation a
        kill cut off after its config was stored."""
        if self.db.node(ROOT) is not None:
            return
        seed = self.db.get_meta("seed")
        if self.db.get_meta("config") is None or seed is None:
            raise SelfcoderError(f"{self.root}: the archive's creation was cut off before its config was stored; "
                                 "make it again (the same command without --resume)")
        if not (Path(seed) / "main.py").is_file():
            raise SelfcoderError(f"{self.root}: the archive's creation was cut off and its seed {seed} is gone; "
                                 "make it again (the same command without --resume)")
        self.add_node(Path(seed), parent=None, status="valid", origin={"problem": f"copy of the seed scaffold {seed}"})

    def close(self) -> None:
        self.db.close()
        self.repo.close()
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def _recover(self) -> None:
        """Remove what a kill left before a node's row: tags, node dirs, temp dirs."""
        known = {n.id for n in self.db.nodes()}
        for tag in self.repo.tags:
            if tag.name not in known:
                self.repo.git.tag("-d", tag.name)
        for lock in (self.git_dir / "refs" / "tags").glob("*.lock"):
            lock.unlink()  # we hold the archive lock: no git of ours is running
        nodes = self.root / "nodes"
        if nodes.is_dir():
            for entry in nodes.iterdir():
                if entry.name not in known:
                    shutil.rmtree(entry, ignore_errors=True)

    # -- nodes ------------------------------------------------------------------------------------
    def nodes(self) -> list[NodeRow]:
        return self.db.nodes()

    def node(self, node_id: str) -> NodeRow:
        row = self.db.node(node_id)
        if row is None:
            raise SelfcoderError(f"{node_id}: no such node in {self.root}")
        return row

    def node_dir(self, node_id: str) -> Path:
        """The node's files as a scaffold directory (re-made from git when missing)."""
        self.node(node_id)
        path = self.root / "nodes" / node_id
        if not (path / "main.py").is_file():
            tmp = self.root / "nodes" / f".tmp-{node_id}-{os.getpid()}"
            shutil.rmtree(tmp, ignore_errors=True)
            self.export(node_id, tmp)
            shutil.rmtree(path, ignore_errors=True)
            os.rename(tmp, path)
        return path

    def add_node(self, files: Path, *, parent: str | None, status: str, reason: str | None = None,
                 origin: dict | None = None, tokens: int = 0, cost_usd: float = 0.0,
                 log_path: str | None = None, evaluation: EvalRow | None = None) -> NodeRow:
        """Store the scaffold in `files` as a new node (git commit + tag, node dir, then the row);
        `evaluation` (its `node` filled in here) is written with the row, in one transaction."""
        if status not in STATUSES:
            raise ValueError(f"node status {status!r}: one of {', '.join(STATUSES)}")
        origin = origin or {}
        with self._write_lock:  # parallel expansions: one node at a time gets its sequence number
            return self._add_node(Path(files), parent, status, reason, origin, tokens, cost_usd, log_path,
                                  evaluation)

    def _add_node(self, files, parent, status, reason, origin, tokens, cost_usd, log_path, evaluation) -> NodeRow:
        seq = self.db.next_seq()
        node_id = ROOT if parent is None else f"n{seq}"
        nodes = self.root / "nodes"
        nodes.mkdir(exist_ok=True)
        tmp = nodes / f".tmp-{node_id}"
        shutil.rmtree(tmp, ignore_errors=True)
        copy_scaffold(Path(files), tmp)  # no caches, no links leaving it; what git stores is this copy
        sha = self._commit(tmp, parent, node_id, f"{node_id}: {(origin.get('problem') or '')[:200]}")
        shutil.rmtree(nodes / node_id, ignore_errors=True)
        os.rename(tmp, nodes / node_id)
        row = NodeRow(id=node_id, seq=seq, parent=parent, created=time.time(), commit_sha=sha, status=status,
                      reason=reason, target_task=origin.get("task"), diagnosis=origin.get("diagnosis"),
                      problem=origin.get("problem"), tokens=tokens, cost_usd=cost_usd, log_path=log_path)
        if evaluation is not None:
            evaluation.node = node_id
        self.db.add_node(row, evaluation)
        return row

    def _commit(self, files: Path, parent: str | None, node_id: str, message: str) -> str:
        index = Path(tempfile.mkdtemp(prefix="selfcoder-index-")) / "index"
        try:
            with self.repo.git.custom_environment(GIT_INDEX_FILE=str(index), GIT_WORK_TREE=str(files)):
                self.repo.git.add("--all", "--force", ".")
                tree = self.repo.git.write_tree()
            args = [tree, "-m", message]
            if parent is not None:
                args += ["-p", self.node(parent).commit_sha]
            sha = self.repo.git.commit_tree(*args)
        finally:
            shutil.rmtree(index.parent, ignore_errors=True)
        self.repo.git.tag("-f", node_id, sha)
        return sha

    # -- files ------------------------------------------------------------------------------------
    def export(self, node_id: str, dest: Path) -> Path:
        """Write the node's files to the new directory `dest`."""
        commit = self.repo.commit(self.node(node_id).commit_sha)
        dest = Path(dest)
        if dest.exists() and any(dest.iterdir()):
            raise SelfcoderError(f"{dest}: exists and is not empty")
        dest.mkdir(parents=True, exist_ok=True)
        for item in commit.tree.traverse():
            target = dest / item.path
            if item.type == "tree":
                target.mkdir(parents=True, exist_ok=True)
            elif item.mode == 0o120000:
                raise SelfcoderError(f"node {node_id}: {item.path} is a link; archive nodes hold no links")
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(item.data_stream.read())
                target.chmod(0o755 if item.mode & stat.S_IXUSR else 0o644)
        return dest

    def diff(self, a: str, b: str | None = None) -> str:
        """Unified diff from node `a` to `b` (default: from a's parent to a)."""
        if b is None:
            parent = self.node(a).parent
            if parent is None:
                return ""
            a, b = parent, a
        return self.repo.git.diff(self.node(a).commit_sha, self.node(b).commit_sha)

    def invalidate(self, node_id: str, reason: str) -> None:
        """A child found out after its admission (a suspicious evaluation): never a parent again.
        The seed is the user's and stays."""
        if self.node(node_id).parent is not None:
            self.db.invalidate(node_id, reason)

    # -- evaluations ------------------------------------------------------------------------------
    def record_evaluation(self, row: EvalRow) -> bool:
        return self.db.add_evaluation(row)

    def evaluations(self, node: str | None = None) -> list[EvalRow]:
        return self.db.evaluations(node)

    @property
    def config(self) -> dict:
        return self.db.get_meta("config", {})

    @property
    def task_ids(self) -> list[str] | None:
        """The search's task set (the common set nodes are ranked on), when the archive stored it."""
        tasks = self.db.get_meta("tasks")
        return list(tasks["ids"]) if isinstance(tasks, dict) and isinstance(tasks.get("ids"), dict) else None

    def best(self) -> tuple[str | None, float | None]:
        """The best valid node and its score (selfcoder.evolve.stats.best_node): the one notion of
        best that the search, `archive best`, `archive list`, the lineage and compare share."""
        from selfcoder.evolve.stats import best_node

        return best_node(self.nodes(), self.evaluations(), self.task_ids)
