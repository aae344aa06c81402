"""Open the archive an evolve search runs on: a new one made from the seed, or an existing one
(`--resume`) with the options given again on top of what it stored.

A new archive stores the search's config, the run's task file, models and `--max-usd`, and a
digest of each task's JSON line; a resumed one reads them back and refuses a task set whose
digest changed (naming the tasks added, removed or changed) or another `--scope` — scores on
other tasks or under another scope do not compare. The checks come before anything is made, so
a refused start leaves no archive behind. Kept out of the command so that `selfcoder evolve`
only parses options, hands off and prints.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from selfcoder.core.errors import SelfcoderError
from selfcoder.eval.tasks import load_task_set
from selfcoder.evolve import surface
from selfcoder.evolve.diagnosis import VIEWS
from selfcoder.evolve.archive import Archive
from selfcoder.evolve.search import EvolveConfig
from selfcoder.llm.budget import check_max_usd
from selfcoder.core.safe_text import visible
from selfcoder.core.scaffold import resolve_scaffold


@dataclass
class SearchStart:
    """What a search starts from: the open archive, its config and models, the loaded tasks."""

    archive: Archive
    config: EvolveConfig
    models: dict[str, Any]  # model / diagnosis / modify: a name or None (the settings' model)
    task_set: Any  # eval.tasks.TaskSet
    max_usd: float | None


def open_search(archive_dir: Path, *, resume: bool, tasks_file: Path | None, options: dict[str, Any],
                scope: str | None, models: dict[str, Any], seed: str | None, max_usd: float | None,
                repos_root: Path | None) -> SearchStart:
    """The archive of a new search (`resume` False) or of the one to go on with. `options` are the
    search limits given on the command line (None: not given); `models` likewise."""
    given = {k: v for k, v in options.items() if v is not None}
    check_max_usd(max_usd)
    if not resume:
        return _create(archive_dir, tasks_file, given, scope, models, seed, max_usd, repos_root)
    archive = Archive(archive_dir)  # finishes an archive whose creation a kill cut off
    try:
        stored = archive.config
        run = stored.get("run", {})
        view = stored.get("search", {}).get("diagnosis_view", "full")
        if given.get("diagnosis_view", view) != view:
            raise SelfcoderError(f"--resume: this archive's diagnosis view is {view}, not {given['diagnosis_view']}; "
                                 "it is fixed when an archive is made: start a new archive for another")
        config = EvolveConfig(**{**stored.get("search", {}), **given})
        check_modify_time(config.modify_time_limit_s)
        if scope is not None and scope != config.scope:
            raise SelfcoderError(f"--resume: this archive's search lets a child change --scope {config.scope}, not "
                                 f"{scope}; the scope is fixed when an archive is made: start a new archive for another")
        tasks_file = tasks_file or Path(run["tasks"])
        chosen = dict(run.get("models", {}))
        chosen.update({k: v for k, v in models.items() if v is not None})
        max_usd = max_usd if max_usd is not None else run.get("max_usd")
        check_max_usd(max_usd)
        task_set = load_task_set(tasks_file, repos_root)
        known = archive.db.get_meta("tasks")
        now = task_set_meta(tasks_file, task_set)
        if known is None:  # an archive from before the digest: from now on it is checked
            archive.db.set_meta("tasks", now)
        elif known.get("digest") != now["digest"]:
            raise SelfcoderError(task_set_changes(known, now))
    except BaseException:
        archive.close()
        raise
    return SearchStart(archive, config, chosen, task_set, max_usd)


def check_modify_time(value: Any) -> None:
    """The self-modification's seconds: a positive number or none (an archive is data: a bad value
    in one is a one-line error, not a traceback in the middle of a search)."""
    if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < 1e7):
        raise SelfcoderError(f"modify_time_limit_s {value!r}: give a number of seconds (--modify-time-limit)")


def _create(archive_dir, tasks_file, given, scope, models, seed, max_usd, repos_root) -> SearchStart:
    if tasks_file is None:
        raise SelfcoderError("--tasks is required for a new archive")
    if given.get("policy", "hgm") not in ("hgm", "dgm"):
        raise SelfcoderError(f"--policy {given['policy']}: choose hgm or dgm")
    if given.get("diagnosis_view", "full") not in VIEWS:
        raise SelfcoderError(f"--diagnosis-view {given['diagnosis_view']}: choose {' or '.join(VIEWS)}")
    config = EvolveConfig(**given, scope=scope or surface.DEFAULT_SCOPE)
    seed_dir = resolve_scaffold(seed or "seed")
    surface.patterns(surface.load(seed_dir), config.scope)  # an unknown --scope: one line, no archive made
    task_set = load_task_set(tasks_file, repos_root)
    archive = Archive.create(archive_dir, seed_dir, {
        "search": config.to_json(),
        "run": {"tasks": str(tasks_file.resolve()), "models": models, "max_usd": max_usd}},
        tasks=task_set_meta(tasks_file, task_set))
    return SearchStart(archive, config, dict(models), task_set, max_usd)


def task_set_meta(tasks_file: Path, task_set) -> dict:
    """What the archive keeps of its task set: the file, a digest of each task's JSON line (in
    task-set order) and of them all. `--resume` refuses a task set whose digest differs."""
    wanted = {t.instance_id for t in task_set.tasks}
    ids: dict[str, str] = {}
    for line in Path(tasks_file).read_text().splitlines():
        try:
            data = json.loads(line)
        except ValueError:
            continue
        name = data.get("instance_id") if isinstance(data, dict) else None
        if name in wanted and name not in ids:
            ids[name] = hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]
    digest = hashlib.sha256(json.dumps(list(ids.items())).encode()).hexdigest()[:16]
    return {"file": str(Path(tasks_file).resolve()), "digest": digest, "ids": ids}


def task_set_changes(known: dict, now: dict) -> str:
    """The refusal of a changed task set, naming what changed."""
    old, new = known.get("ids") or {}, now["ids"]

    def names(ids: list[str]) -> str:
        return ", ".join(visible(i) for i in ids[:5]) + (", ..." if len(ids) > 5 else "")

    parts = [f"{len(ids)} {what} ({names(ids)})" for what, ids in (
        ("added", [i for i in new if i not in old]), ("removed", [i for i in old if i not in new]),
        ("changed", [i for i in new if i in old and old[i] != new[i]])) if ids]
    if not parts:
        parts = ["the same tasks in another order"]
    return (f"--resume: the task set {visible(now['file'])} is not the one this archive's search used "
            f"({visible(known.get('file') or '?')}): {'; '.join(parts)}. Scores on different task sets do not "
            "compare: give the original task set, or start a new archive")
