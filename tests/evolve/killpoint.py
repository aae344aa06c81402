"""`python killpoint.py POINT MARKER selfcoder-args...`: `selfcoder ...` as `python -m selfcoder` runs
it, except that the first time the search reaches POINT the thread there writes MARKER and waits.
The test waits for MARKER and kills the process group with SIGKILL: a real `kill -9` at a chosen
moment, from outside, with nothing in selfcoder itself that a test switches on. The points:

    create      the archive's config is stored, its root node not yet (Archive._add_node of the root)
    evaluation  an evaluation's agent run has made its first model call (its sandbox is alive)
    recording   an evaluation is graded and its record written, its row not yet
    diagnosis   the diagnosis call has answered (its spend is in the ledger), nothing else done
    child       the self-modification run has made its first model call (its sandbox is alive)
    admission   the child's files are made, its admission tests not yet run
    node        the child is admitted and its smoke run graded, its row not yet written
"""

from __future__ import annotations

import functools
import os
import sys
import threading
from pathlib import Path

_hit = threading.Lock()


def _hold(marker: Path) -> None:
    if not _hit.acquire(blocking=False):  # only the first thread that gets here
        threading.Event().wait()
    marker.write_text(str(os.getpid()))
    threading.Event().wait()  # until the kill


def _wrap(owner, name: str, marker: Path, *, when=lambda *a, **k: True, after: bool = False) -> None:
    original = getattr(owner, name)

    @functools.wraps(original)
    def stop_here(*args, **kwargs):
        if not after and when(*args, **kwargs):
            _hold(marker)
        result = original(*args, **kwargs)
        if after and when(*args, **kwargs):
            _hold(marker)
        return result

    setattr(owner, name, stop_here)


def _trajectory(gateway) -> str:
    return str(getattr(gateway.trajectory, "path", ""))


def install(point: str, marker: Path) -> None:
    from selfcoder.evolve import db, diagnosis, step
    from selfcoder.evolve.archive import Archive
    from selfcoder.llm.gateway import Gateway

    if point == "create":
        _wrap(Archive, "_add_node", marker, when=lambda self, files, parent, *a: parent is None)
    elif point == "evaluation":
        _wrap(Gateway, "complete", marker, after=True, when=lambda self, *a, **k: "/runs/eval/" in _trajectory(self))
    elif point == "recording":
        _wrap(Archive, "record_evaluation", marker)
    elif point == "diagnosis":
        _wrap(diagnosis, "diagnose", marker, after=True)
    elif point == "child":
        _wrap(Gateway, "complete", marker, after=True,
              when=lambda self, *a, **k: "/runs/expand/" in _trajectory(self) and "/run/" in _trajectory(self))
    elif point == "admission":
        _wrap(step, "self_check", marker)
    elif point == "node":
        _wrap(db.ArchiveDB, "add_node", marker, when=lambda self, node, evaluation=None: evaluation is not None)
    else:
        raise SystemExit(f"killpoint: unknown point {point}")


if __name__ == "__main__":
    install(sys.argv[1], Path(sys.argv[2]))
    sys.argv = ["selfcoder", *sys.argv[3:]]
    from selfcoder.cli import main

    main()
