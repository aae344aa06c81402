"""Where eval's instances and evolve's heavy steps run: threads here, or tasks on a Ray cluster.

    executor = make_executor("ray", workers=4)                  # or "local"; address= joins a cluster
    budget = executor.share_budget(budget)                      # what every job draws on
    future = executor.submit(fn, *args)                         # a concurrent.futures.Future
    executor.cancel(future)                                     # ask one job to stop
    executor.shutdown(cancel_futures=True)                      # Ctrl-C: stop everything

Both have the `concurrent.futures.Executor` API (submit → Future, shutdown), so
`selfcoder.eval.evaluate` and `selfcoder.evolve.search` keep their submit/wait loops. The
difference callers must know is `remote`:

- `local` (`remote = False`): a thread pool in this process; a job may be any callable (a bound
  method that writes the result store itself), and cancels through its own `CancelToken`.
- `ray` (`remote = True`): `fn` must be a module-level function of picklable plain data
  (a task, settings, paths) returning plain data; it is called with one more keyword,
  `cancel=` — a `CancelToken` the worker sets when the driver cancels the job, so the runner
  stops and its sandboxes are removed exactly as on Ctrl-C locally. Exceptions come back as
  themselves. Everything that must stay on the host — the result store and the archive
  writes, the progress, the stop decision — stays in the caller (the driver).

Ray is imported only when `ray` is chosen (`selfcoder.pools.ray_pool`).
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from selfcoder.pools.kinds import ExecutorError, check_executor

__all__ = ["ExecutorError", "LocalExecutor", "make_executor"]


class LocalExecutor(ThreadPoolExecutor):
    """A pool of `workers` threads in this process (the default)."""

    kind = "local"
    remote = False

    def __init__(self, workers: int, thread_name_prefix: str = "selfcoder"):
        super().__init__(max_workers=max(1, workers), thread_name_prefix=thread_name_prefix)
        self.workers = max(1, workers)

    def share_budget(self, budget: Any) -> Any:
        return budget  # threads share the object itself

    def cancel(self, future: Future) -> None:
        future.cancel()  # a running thread stops through the caller's CancelToken


def make_executor(kind: str, workers: int, *, address: str | None = None, connect_timeout_s: float | None = None):
    """A `LocalExecutor` or a `RayExecutor` (`address`: join that cluster; None: start a local one)."""
    check_executor(kind, address)
    if kind == "local":
        return LocalExecutor(workers)
    from selfcoder.pools.ray_pool import RayExecutor

    return RayExecutor(workers, address=address, connect_timeout_s=connect_timeout_s)
