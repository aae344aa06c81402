"""archive.db: the evolve archive's records (SQLite, WAL), written so a kill -9 loses nothing finished.

    meta         key → JSON value: the run's config, the seed's origin, the task set's digest
                 (written together, in one transaction, when the archive is made)
    nodes        one row per expansion: parent, created, origin (target task, diagnosis, problem
                 statement), status + reason, what making it cost. `valid`: admitted;
                 `invalid`: made and rejected (its files are kept for inspection); `failed`: no
                 child could be made (the diagnosis or the model failed; the parent's files)
    evaluations  one row per (node, task): resolved, outcome, tokens, cost, time, log path
    spend        the ledger: one row per model call of the search (its job, what it used),
                 written when the call's usage is known and before its reply is used, so the
                 spend of work that a kill or a stop cut off is counted too (`--max-usd`)

Every write is one transaction; a node row is written only after its files are in git and in
`nodes/<id>/` (the row is the commit point of a node; a child's first evaluation, its smoke
run, is written in the same transaction), an evaluation row only after its run finished.
(node, task) is the primary key, so an evaluation can never be recorded twice. A row either
exists whole or not at all: that is what `--resume` relies on.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS nodes (
    id TEXT PRIMARY KEY, seq INTEGER NOT NULL UNIQUE, parent TEXT, created REAL NOT NULL,
    commit_sha TEXT NOT NULL, status TEXT NOT NULL CHECK (status IN ('valid', 'invalid', 'failed')), reason TEXT,
    target_task TEXT, diagnosis TEXT, problem TEXT, tokens INTEGER DEFAULT 0, cost_usd REAL DEFAULT 0,
    log_path TEXT);
CREATE TABLE IF NOT EXISTS evaluations (
    node TEXT NOT NULL, task TEXT NOT NULL, resolved INTEGER NOT NULL, outcome TEXT, tokens INTEGER DEFAULT 0,
    cost_usd REAL DEFAULT 0, time_s REAL DEFAULT 0, log_path TEXT, created REAL NOT NULL, seq INTEGER NOT NULL,
    PRIMARY KEY (node, task));
CREATE TABLE IF NOT EXISTS spend (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, created REAL NOT NULL, job TEXT NOT NULL, kind TEXT NOT NULL,
    node TEXT, task TEXT, tokens INTEGER NOT NULL DEFAULT 0, cost_usd REAL NOT NULL DEFAULT 0);
"""
VERSION = 2  # 1: no `spend` table, no `failed` status


@dataclass
class NodeRow:
    id: str
    seq: int
    parent: str | None
    created: float
    commit_sha: str
    status: str
    reason: str | None = None
    target_task: str | None = None
    diagnosis: str | None = None
    problem: str | None = None
    tokens: int = 0
    cost_usd: float = 0.0
    log_path: str | None = None

    @property
    def valid(self) -> bool:
        return self.status == "valid"


@dataclass
class EvalRow:
    node: str
    task: str
    resolved: bool
    outcome: str = ""
    tokens: int = 0
    cost_usd: float = 0.0
    time_s: float = 0.0
    log_path: str = ""
    created: float = 0.0
    seq: int = 0


class ArchiveDB:
    """One connection shared by the search's threads behind a lock; each write is a transaction."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None, timeout=30)
        self._conn.row_factory = sqlite3.Row
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=FULL")
        with self._lock, self._conn:
            self._conn.executescript(SCHEMA)
        if self._read("PRAGMA user_version")[0][0] < VERSION:
            self._migrate()

    def _migrate(self) -> None:
        """An archive made before the ledger: `failed` nodes allowed, and what its rows spent
        becomes the ledger's first row (so `--max-usd` still counts it)."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                if self._conn.execute("PRAGMA user_version").fetchone()[0] < VERSION:
                    sql = self._conn.execute("SELECT sql FROM sqlite_master WHERE name = 'nodes'").fetchone()[0]
                    if "'failed'" not in sql:
                        self._conn.execute("ALTER TABLE nodes RENAME TO nodes_v1")
                        self._conn.execute(SCHEMA.split(";")[1])  # CREATE TABLE nodes
                        self._conn.execute("INSERT INTO nodes SELECT * FROM nodes_v1")
                        self._conn.execute("DROP TABLE nodes_v1")
                    ledger = self._conn.execute("SELECT COUNT(*) FROM spend").fetchone()[0]
                    rows = self._conn.execute(
                        "SELECT (SELECT COALESCE(SUM(cost_usd), 0) FROM nodes) + (SELECT COALESCE(SUM(cost_usd), 0)"
                        " FROM evaluations), (SELECT COALESCE(SUM(tokens), 0) FROM nodes) + (SELECT"
                        " COALESCE(SUM(tokens), 0) FROM evaluations)").fetchone()
                    if not ledger and (rows[0] or rows[1]):
                        self._conn.execute("INSERT INTO spend (created, job, kind, tokens, cost_usd) VALUES (?, ?, ?, ?, ?)",
                                           (time.time(), "before-ledger", "carried", int(rows[1]), float(rows[0])))
                    self._conn.execute(f"PRAGMA user_version = {VERSION}")
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def _write(self, sql: str, args: tuple) -> int:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                cur = self._conn.execute(sql, args)
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            return cur.rowcount

    def _read(self, sql: str, args: tuple = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._conn.execute(sql, args).fetchall()

    # -- meta -------------------------------------------------------------------------------------
    def set_meta(self, key: str, value: Any) -> None:
        self.set_metas({key: value})

    def set_metas(self, items: dict[str, Any]) -> None:
        """Several meta keys in one transaction (an archive's config, seed and task set together)."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                for key, value in items.items():
                    self._conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, json.dumps(value)))
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise

    def get_meta(self, key: str, default: Any = None) -> Any:
        rows = self._read("SELECT value FROM meta WHERE key = ?", (key,))
        return json.loads(rows[0]["value"]) if rows else default

    # -- nodes ------------------------------------------------------------------------------------
    def next_seq(self) -> int:
        rows = self._read("SELECT COALESCE(MAX(seq), -1) + 1 AS n FROM nodes")
        return int(rows[0]["n"])

    def add_node(self, node: NodeRow, evaluation: "EvalRow | None" = None) -> None:
        """The node's row and, in the same transaction, its first evaluation (a child's smoke run)."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                self._conn.execute(
                    "INSERT INTO nodes (id, seq, parent, created, commit_sha, status, reason, target_task, diagnosis,"
                    " problem, tokens, cost_usd, log_path) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (node.id, node.seq, node.parent, node.created, node.commit_sha, node.status, node.reason,
                     node.target_task, node.diagnosis, node.problem, node.tokens, node.cost_usd, node.log_path))
                if evaluation is not None:
                    self._insert_evaluation(evaluation)
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise

    def invalidate(self, node_id: str, reason: str) -> None:
        self._write("UPDATE nodes SET status = 'invalid', reason = ? WHERE id = ?", (reason, node_id))

    def nodes(self) -> list[NodeRow]:
        return [NodeRow(**dict(r)) for r in self._read("SELECT * FROM nodes ORDER BY seq")]

    def node(self, node_id: str) -> NodeRow | None:
        rows = self._read("SELECT * FROM nodes WHERE id = ?", (node_id,))
        return NodeRow(**dict(rows[0])) if rows else None

    # -- evaluations ------------------------------------------------------------------------------
    def add_evaluation(self, row: EvalRow) -> bool:
        """Record one finished evaluation; False when (node, task) was already recorded."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                added = self._insert_evaluation(row)
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            return added

    def _insert_evaluation(self, row: EvalRow) -> bool:
        seq = self._conn.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM evaluations").fetchone()[0]
        cur = self._conn.execute(
            "INSERT OR IGNORE INTO evaluations (node, task, resolved, outcome, tokens, cost_usd, time_s,"
            " log_path, created, seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (row.node, row.task, int(row.resolved), row.outcome, row.tokens, row.cost_usd, row.time_s,
             row.log_path, row.created or time.time(), seq))
        return cur.rowcount == 1

    def evaluations(self, node: str | None = None) -> list[EvalRow]:
        sql, args = "SELECT * FROM evaluations", ()
        if node is not None:
            sql, args = sql + " WHERE node = ?", (node,)
        return [EvalRow(**{**dict(r), "resolved": bool(r["resolved"])}) for r in self._read(sql + " ORDER BY seq", args)]

    # -- the spend ledger -------------------------------------------------------------------------
    def add_spend(self, job: str, kind: str, tokens: int, cost_usd: float, *, node: str | None = None,
                  task: str | None = None) -> None:
        """One model call's usage (or, where calls are not seen one by one, one job's)."""
        self._write("INSERT INTO spend (created, job, kind, node, task, tokens, cost_usd) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (time.time(), job, kind, node, task, int(tokens), float(cost_usd)))

    def ledger(self) -> list[dict]:
        return [dict(r) for r in self._read("SELECT * FROM spend ORDER BY seq")]

    def spend(self) -> dict:
        """What the search has spent: the ledger (every call, finished or cut off by a kill or a
        stop), what the finished records hold (nodes made + evaluations), and the difference."""
        led = self._read("SELECT COALESCE(SUM(cost_usd), 0) AS c, COALESCE(SUM(tokens), 0) AS t FROM spend")[0]
        n = self._read("SELECT COALESCE(SUM(cost_usd), 0) AS c, COALESCE(SUM(tokens), 0) AS t FROM nodes")[0]
        e = self._read("SELECT COALESCE(SUM(cost_usd), 0) AS c, COALESCE(SUM(tokens), 0) AS t, COUNT(*) AS k"
                       " FROM evaluations")[0]
        kept_cost, kept_tokens = n["c"] + e["c"], int(n["t"] + e["t"])
        cost, tokens = max(led["c"], kept_cost), max(int(led["t"]), kept_tokens)
        return {"cost_usd": round(cost, 6), "tokens": tokens, "evaluations": int(e["k"]),
                "kept_cost_usd": round(kept_cost, 6), "lost_cost_usd": round(max(0.0, cost - kept_cost), 6)}
