"""The Ray executor (`--executor ray`): each job is a Ray task; results come back as futures.

    RayExecutor(4)                          # ray.init(): a local cluster of 4 CPUs, started quietly
    RayExecutor(4, address="10.0.0.5:6379") # join a running cluster (`ray start --head` there)

How a job runs: `_call` in a Ray worker runs the job in a thread with a fresh `CancelToken`;
`cancel(future)` marks the job on a `CancelBoard` actor that `_call` polls, and `_call` then
cancels the token — the runner stops and removes its sandboxes as it does on Ctrl-C locally,
and the future resolves once that is done (so a shutdown after a cancel does not kill workers
mid-cleanup). A job still running `GRACE_S` later is killed (`ray.cancel(force=True)`); what a
kill leaves on that machine is removed by `selfcoder sandbox gc` there. A job's exception comes
back as itself (pickled), so callers handle `Cancelled`, `BudgetSpent` ... as with threads.
Tasks are never retried by Ray (`max_retries=0`): a retried job would spend the budget twice.

What a cluster user must set up (a local cluster started here needs nothing):
- every node has selfcoder installed (same version), bubblewrap (or Docker for `--sandbox
  docker`), and the model's API key in its own environment (e.g. OPENAI_API_KEY): the driver
  never ships keys — jobs carry the task, the settings (no secrets in them) and paths; the
  worker's gateway reads its key from its environment, as a local run does;
- the task set's repositories, the scaffolds (`--agent` directories, the evolve archive) and the
  output directory (`--out`, the archive) are at the same paths on every node (a shared
  filesystem): workers read the snapshots and write the run directories there; the driver
  writes the result records and the archive;
- a worker's environment is the node's, not the driver's: SELFCODER_SANDBOX_ROOT,
  SELFCODER_ENV_CACHE, selfcoder.toml ... are the node's own.
A local cluster's workers inherit this process's environment at `ray.init`, as threads would.

The shared budget is one Ray actor (`ray_budget.py`), so `--max-usd` bounds the whole run's
spend exactly as with the local executor.
"""

from __future__ import annotations

import logging
import os
import pickle
import signal
import socket
import threading
import concurrent.futures as cf
from concurrent.futures import Future
from typing import Any

from selfcoder.core.cancel import Cancelled, CancelToken
from selfcoder.core.errors import SelfcoderError
from selfcoder.pools.kinds import ExecutorError

RAY_MISSING = "--executor ray needs Ray: pip install 'selfcoder[ray]'"
GRACE_S = 10.0  # a cancelled job's time to stop and clean up before its worker is killed
POLL_S = 0.5  # how often a running job asks whether it was cancelled
CONNECT_TIMEOUT_S = 5.0


def import_ray():
    try:
        import ray
    except ImportError:
        raise ExecutorError(RAY_MISSING) from None
    return ray


def _portable(error: BaseException) -> BaseException:
    """`error` if it survives pickling (to travel back to the driver), else a one-line stand-in."""
    try:
        pickle.loads(pickle.dumps(error))
        return error
    except Exception:  # noqa: BLE001 - any unpicklable exception becomes a plain one
        return SelfcoderError(f"{type(error).__name__}: {error}")


class CancelBoard:
    """The actor (`ray.remote`) through which the driver cancels running jobs: the ids it cancelled.

    Why not `ray.cancel` for a running job: its ObjectRef fails at once, while the worker is still
    stopping its sandboxes; the driver would go on (and shut the cluster down) before they are
    removed. With the board the job ends by itself and its future resolves only then."""

    def __init__(self) -> None:
        self.ids: set[int] = set()

    def cancel(self, key: int) -> None:
        self.ids.add(key)

    def cancelled(self, key: int) -> bool:
        return key in self.ids


def _call(fn, args: tuple, kwargs: dict, board: Any, key: int) -> tuple[str, Any]:
    """In the Ray worker: ("ok", value) or ("raise", exception) of `fn(*args, cancel=token, **kwargs)`.

    `fn` runs in a thread; this (main) thread asks the board every `POLL_S` whether the driver
    cancelled the job, and cancels the job's token when it did (or on a KeyboardInterrupt)."""
    import ray

    token = CancelToken()
    box: dict[str, tuple] = {}

    def asked() -> bool:
        try:
            return bool(ray.get(board.cancelled.remote(key), timeout=30))
        except Exception:  # noqa: BLE001 - no answer now: ask again at the next poll
            return False

    if asked():  # cancelled while it waited for a worker
        return ("raise", Cancelled("cancelled"))

    def target() -> None:
        try:
            box["result"] = ("ok", fn(*args, cancel=token, **kwargs))
        except BaseException as e:  # noqa: BLE001 - every outcome goes back to the driver
            box["result"] = ("raise", _portable(e))

    thread = threading.Thread(target=target, name="selfcoder-job", daemon=True)
    thread.start()
    while thread.is_alive():
        try:
            thread.join(POLL_S)
        except KeyboardInterrupt:
            token.cancel("cancelled")
        if thread.is_alive() and not token.cancelled and asked():
            token.cancel("cancelled by the driver")
    return box.get("result", ("raise", Cancelled("cancelled")))


def _check_reachable(address: str, timeout_s: float) -> None:
    """A plain TCP connect first: ray.init on a dead address retries for minutes."""
    if address == "auto":
        return
    hostport = address.split("://", 1)[-1].rstrip("/")
    host, _, port = hostport.rpartition(":")
    if not host or not port.isdigit():
        raise ExecutorError(f"--ray-address {address}: expected HOST:PORT (or ray://HOST:PORT, or auto)")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout_s).close()
    except OSError as e:
        why = e.strerror or str(e) or type(e).__name__
        raise ExecutorError(f"--ray-address {address}: no Ray cluster answers there ({why})") from None


def _signal_handlers() -> dict:
    """SIGINT/SIGTERM handlers set from Python (the CLI's: SIGTERM takes the Ctrl-C path)."""
    if threading.current_thread() is not threading.main_thread():
        return {}
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    return {sig: h for sig, h in handlers.items() if h is not None}


def _restore(saved: dict) -> None:
    """ray.init replaces SIGTERM's handler with one that exits (or aborts) at once, which would skip
    the cancel path: the runs' sandboxes and the cluster itself would be left behind. Put ours back."""
    for sig, handler in saved.items():
        signal.signal(sig, handler)


def preflight(address: str | None, timeout_s: float = CONNECT_TIMEOUT_S) -> None:
    """The one-line errors `RayExecutor` would give (Ray missing, a dead address), without starting anything."""
    import_ray()
    if address:
        _check_reachable(address, timeout_s)


def _private_token() -> None:
    """Ray creates ~/.ray/auth_token with the umask (0644: any local user could read the token and
    run code in the cluster); create it 0600 first, or take others' access off an existing one.
    RAY_AUTH_TOKEN / RAY_AUTH_TOKEN_PATH: the user chose their token themselves."""
    if os.environ.get("RAY_AUTH_TOKEN") or os.environ.get("RAY_AUTH_TOKEN_PATH"):
        return
    from pathlib import Path

    from selfcoder.core.files import make_private, new_secret, write_private

    path = Path.home() / ".ray" / "auth_token"
    if os.path.lexists(path):
        make_private(path)
    else:
        write_private(path, new_secret())


class RayExecutor:
    """The concurrent.futures Executor API over Ray tasks (see the module docstring)."""

    kind = "ray"
    remote = True

    def __init__(self, workers: int, *, address: str | None = None, connect_timeout_s: float | None = None):
        ray = import_ray()
        self.workers = max(1, workers)
        self._lock = threading.Lock()
        self._refs: dict[Future, Any] = {}
        self._budgets: dict[int, tuple[Any, Any]] = {}  # id(driver budget) -> (budget, SharedBudget)
        self._timers: list[threading.Timer] = []
        self._started = False
        if not ray.is_initialized():
            os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # no usage report, no notice about it
            quiet = dict(include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR,
                         configure_logging=True)
            saved = _signal_handlers()
            try:
                if address:
                    _check_reachable(address, connect_timeout_s or CONNECT_TIMEOUT_S)
                    ray.init(address=address, **quiet)
                else:
                    # A local cluster's gRPC ports listen on every interface, and whoever reaches
                    # them runs code here: Ray >= 2.59 (pyproject) requires its token
                    # (~/.ray/auth_token) on local clusters by default; tests/pools/test_ray_auth.py
                    # checks that a client without it is refused. (Setting RAY_AUTH_MODE here,
                    # after `import ray`, breaks the driver's own connection.)
                    _private_token()
                    ray.init(num_cpus=self.workers, **quiet)
            except ExecutorError:
                raise
            except Exception as e:  # noqa: BLE001 - Ray's errors are long; the user gets one line
                first = (str(e).strip().splitlines() or [type(e).__name__])[0]
                where = f"--ray-address {address}" if address else "a local Ray cluster"
                raise ExecutorError(f"--executor ray: could not start/join {where}: {first}") from None
            finally:
                _restore(saved)
            self._started = True
        self._task = ray.remote(num_cpus=1, max_retries=0)(_call)
        self._board = ray.remote(num_cpus=0, max_concurrency=64)(CancelBoard).remote()
        self._keys: dict[Future, int] = {}
        self._next_key = 0

    # -- the Executor API ---------------------------------------------------------------------
    def submit(self, fn, /, *args, **kwargs) -> Future:
        """Run `fn(*args, cancel=token, **kwargs)` as a Ray task; `fn` and its arguments must pickle."""
        with self._lock:
            self._next_key += 1
            key = self._next_key
        ref = self._task.remote(fn, args, kwargs, self._board, key)
        out: Future = Future()
        out.set_running_or_notify_cancel()  # only `cancel()` below stops a job
        with self._lock:
            self._refs[out], self._keys[out] = ref, key
        ref.future().add_done_callback(lambda done: self._settle(out, done))
        return out

    def _settle(self, out: Future, done: Future) -> None:
        from ray.exceptions import RayError, TaskCancelledError, WorkerCrashedError

        with self._lock:
            self._refs.pop(out, None)
            self._keys.pop(out, None)
        try:
            how, value = done.result()
        except (TaskCancelledError, WorkerCrashedError) as e:
            if isinstance(e, WorkerCrashedError) and not getattr(out, "_selfcoder_cancelled", False):
                out.set_exception(ExecutorError("a Ray worker died while running a job"))
            else:
                out.set_exception(Cancelled("cancelled"))
            return
        except RayError as e:
            first = (str(e).strip().splitlines() or [type(e).__name__])[0]
            out.set_exception(ExecutorError(f"a Ray job failed: {first}"))
            return
        except BaseException as e:  # noqa: BLE001 - the future must always end
            out.set_exception(e)
            return
        if how == "ok":
            out.set_result(value)
        else:
            out.set_exception(value)

    def cancel(self, future: Future) -> None:
        """Ask the job to stop (its CancelToken, through the board); kill its worker if it has not
        ended `GRACE_S` later. The future resolves when the job has really ended."""
        ray = import_ray()
        with self._lock:
            ref, key = self._refs.get(future), self._keys.get(future)
        if ref is None or future.done() or getattr(future, "_selfcoder_cancelled", False):
            return
        future._selfcoder_cancelled = True  # type: ignore[attr-defined]
        self._board.cancel.remote(key)

        def force() -> None:
            if not future.done():
                try:
                    ray.cancel(ref, force=True)
                except Exception:  # noqa: BLE001 - it may have just finished
                    pass

        timer = threading.Timer(GRACE_S, force)
        timer.daemon = True
        timer.start()
        with self._lock:
            self._timers.append(timer)

    def share_budget(self, budget: Any) -> Any:
        """The budget every job draws on: one keeper actor per driver budget (None stays None)."""
        from selfcoder.pools.ray_budget import SharedBudget

        if budget is None or isinstance(budget, SharedBudget):
            return budget
        with self._lock:
            if id(budget) not in self._budgets:
                self._budgets[id(budget)] = (budget, SharedBudget.create(budget))
            return self._budgets[id(budget)][1]

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Cancel (if asked) and wait for the jobs, then leave the cluster if this executor started it."""
        with self._lock:
            pending = list(self._refs)
        if cancel_futures:
            for future in pending:
                self.cancel(future)
        if wait and pending:
            cf.wait(pending, timeout=GRACE_S + 30 if cancel_futures else None)
        with self._lock:
            timers, budgets = list(self._timers), list(self._budgets.values())
            self._timers.clear()
            self._budgets.clear()
        for timer in timers:
            timer.cancel()
        for _, shared in budgets:
            shared.close()
        try:
            import_ray().kill(self._board)
        except Exception:  # noqa: BLE001 - the cluster may already be gone
            pass
        if self._started:
            import_ray().shutdown()
            self._started = False
