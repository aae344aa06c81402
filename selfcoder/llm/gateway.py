"""The LLM gateway: every model call of a run goes through one `Gateway`.

It calls `litellm.completion` (`num_retries=0`) and does its own retries with exponential
backoff and jitter on rate limits, timeouts, stalls, connection and server errors; it never
retries auth or bad-request errors. It counts tokens and cost (a model litellm cannot price
counts 0 and is noted as unpriced), and appends each request, retry, response and error to the
run's trajectory as it happens.

Budget: before a call is sent its worst case (estimated prompt tokens + max_tokens, and their
price when known) is reserved in the `Budget` (budget.py), which many gateways may share;
`max_tokens` is cut to what the budget has left, and the reply's real usage replaces the
reservation. So concurrent calls can no longer overshoot the budget together; a reply whose
reported usage took the budget past a limit anyway (the provider counted far more than the
estimate) ends the run with budget_exceeded at once.

Two ways to wait for a reply:
- the local model (llama.cpp on this machine) is *streamed* and given up on only after
  `stall_timeout_s` without progress (streaming.py): on a busy machine a long prompt may take
  minutes before its first token, and a total timeout there abandoned requests the server kept
  computing. A local server that died is reported as what it is (killed by SIGILL, out of
  memory, exit code; local_state.crash_message), at once and without retries.
- hosted and scripted models keep one non-streamed request with the total timeout
  `model.timeout_s`: a hosted provider answers in seconds, its own overload shows as rate-limit
  or server errors that the retries handle, and litellm prices a non-streamed reply exactly.

Sandboxed agents reach the same gateway through `serve(socket_path)`, an OpenAI-compatible
endpoint on a unix socket (see socket_server.py); the API key stays on the host. A run's
`Sampling` (sampling.py) sets the seed of every call, whoever asked, and its temperature: the
attempt's, or a higher one the call asked for up to `agent.max_temperature`.

`status` is what the run records: "budget_exceeded" once a call was refused for budget
(sticky), else "model_error" if the latest call failed, else "ok".
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

from selfcoder.core.config import Settings
from selfcoder.core.errors import BudgetExceeded, ModelError
from selfcoder.llm.budget import Budget, Reservation, estimate_prompt_tokens, price_per_token
from selfcoder.llm.call_errors import error_kind, one_line, retryable
from selfcoder.llm.models import ModelChoice, resolve
from selfcoder.llm.sampling import Sampling
from selfcoder.llm.trajectory import TrajectoryLog
from selfcoder.llm.usage import CallUsage, Usage

# Parameters a caller (or a sandboxed agent) may set per call; anything else is dropped.
CALL_PARAMS = ("temperature", "max_tokens", "stop", "top_p", "seed", "tools", "tool_choice", "response_format")

STATUS_OK, STATUS_BUDGET, STATUS_MODEL_ERROR = "ok", "budget_exceeded", "model_error"
DEFAULT_STALL_TIMEOUT_S = 120.0  # a local reply with no token (and an idle server) this long is given up
PROGRESS_EVERY_S = 5.0  # how often a streamed reply's token count is written to the trajectory


@dataclass
class Completion:
    """One model reply: its text, what it used, and litellm's full response (`raw`)."""

    text: str
    usage: CallUsage
    raw: Any
    model: str
    finish_reason: str | None = None
    call: int = 0


class Gateway:
    """All model calls of one run: retries, accounting, budget, trajectory, unix-socket endpoint."""

    def __init__(
        self,
        settings: Settings,
        run_id: str,
        trajectory: TrajectoryLog | None = None,
        *,
        retry_base_delay_s: float = 1.0,
        retry_max_delay_s: float = 30.0,
        budget: Budget | None = None,
        stall_timeout_s: float | None = None,
        on_progress: Callable[[int, dict[str, Any]], None] | None = None,
        sampling: Sampling | None = None,
    ):
        """`budget`: shared with other gateways on purpose (default: a new one from settings.budget).
        `stall_timeout_s`: how long a streamed local reply may make no progress (default:
        settings.model.stall_timeout_s, else 120 s). `on_progress(call, stats)` hears a streamed
        reply's token count as it grows. `sampling`: the attempt's temperature and seed, for every call."""
        self.settings, self.run_id, self.trajectory, self.sampling = settings, run_id, trajectory, sampling
        self.budget = budget if budget is not None else Budget.from_settings(settings.budget)
        self.stall_timeout_s = float(stall_timeout_s or getattr(settings.model, "stall_timeout_s", None)
                                     or DEFAULT_STALL_TIMEOUT_S)  # fmt: skip
        self.on_progress = on_progress
        self.usage = Usage()
        self.last_error: str | None = None
        self.retry_base_delay_s, self.retry_max_delay_s = retry_base_delay_s, retry_max_delay_s
        self._status, self._budget_hit = STATUS_OK, False
        self._lock, self._prepare_lock = threading.Lock(), threading.Lock()
        self._closed = threading.Event()
        self._choice: ModelChoice | None = None
        self._lease = None
        self._endpoints: list = []
        self._unpriced: set[str] = set()  # models litellm could not price in this run
        self._prices: dict[str, tuple[float, float] | None] = {}
        self._metadata = {"selfcoder_session": f"{run_id}-{uuid.uuid4().hex[:8]}"}

    # -- state ------------------------------------------------------------------------
    @property
    def status(self) -> str:
        return self._status

    @property
    def model_name(self) -> str:
        return self._choice.name if self._choice else self.settings.model.name

    def _log(self, record: dict[str, Any]) -> None:
        if self.trajectory is not None:
            self.trajectory.append(record)

    def _fail(self, message: str, **fields: Any) -> ModelError:
        with self._lock:
            self.last_error = message
            if not self._budget_hit:
                self._status = STATUS_MODEL_ERROR
        self._log({"type": "llm_error", "error": message, **fields})
        return ModelError(message)

    # -- model ------------------------------------------------------------------------
    def prepare(self) -> ModelChoice:
        """Resolve the model and, for `local`, make sure its server runs. Called by the first
        `complete`; call it early to fail fast. A mistake is one `ModelError` line (and status)."""
        with self._prepare_lock:
            if self._choice is not None:
                return self._choice
            if self._closed.is_set():
                raise ModelError("the gateway is closed")
            try:
                choice = resolve(self.settings.model.name, self.settings.model.api_base)
                if choice.kind == "local":
                    from selfcoder.llm import local_server

                    self._lease = local_server.acquire(self.settings.local_model)
                    choice = ModelChoice(name=choice.name, kind="local", litellm_model=choice.litellm_model,
                                         api_base=self._lease.state.api_base,
                                         api_key=self._lease.state.api_key or "x")  # fmt: skip
                elif choice.kind == "scripted":
                    from selfcoder.llm import scripted

                    scripted.register_pricing(scripted.load_script(choice.script))  # type: ignore[arg-type]
            except ModelError as e:
                raise self._fail(str(e)) from None
            self._choice = choice
            return choice

    def _params(self, overrides: dict[str, Any]) -> dict[str, Any]:
        m = self.settings.model
        params: dict[str, Any] = {"temperature": m.temperature, "max_tokens": m.max_tokens}
        params.update({k: v for k, v in overrides.items() if k in CALL_PARAMS and v is not None})
        params["max_tokens"] = max(1, min(int(params["max_tokens"]), m.max_tokens))
        return self.sampling.enforce(params, overrides.get("temperature")) if self.sampling else params

    def _refuse(self, reason: str) -> BudgetExceeded:
        """Record a refusal (the status stays budget_exceeded from now on) and return its error."""
        message = reason if reason.startswith("budget exceeded") else f"budget exceeded: {reason}"
        with self._lock:
            self._budget_hit = True
            self._status = STATUS_BUDGET
            self.last_error = message
        self._log({"type": "budget_exceeded", "reason": message.removeprefix("budget exceeded: "),
                   "usage": self.usage.to_dict(), "budget": self.budget.to_dict()})  # fmt: skip
        return BudgetExceeded(message)

    def check_budget(self) -> None:
        """Raise (and record) `BudgetExceeded` when the budget is already spent; the socket endpoint
        asks before it reads a request's body."""
        reason = self.budget.exceeded()
        if reason:
            raise self._refuse(reason)

    def _reserve(self, litellm, choice: ModelChoice, messages: list[dict[str, Any]], params: dict[str, Any]) -> tuple[int, Reservation]:
        """Hold the call's worst case in the budget (may wait for calls in flight); cut max_tokens
        to the grant. Returns (call number, reservation)."""
        prompt = estimate_prompt_tokens(messages, params.get("tools"))
        try:
            price = (0.0, 0.0) if choice.kind == "local" else price_per_token(litellm, choice.litellm_model, self._prices)
            reservation = self.budget.reserve(prompt, params["max_tokens"], price, gave_up=self._closed.is_set)
        except BudgetExceeded as e:
            raise self._refuse(str(e)) from None
        if reservation is None:
            raise self._fail("the gateway was closed while the call waited for budget")
        params["max_tokens"] = reservation.max_tokens
        with self._lock:
            self.usage.calls += 1
            return self.usage.calls, reservation

    def _cost(self, litellm, choice: ModelChoice, raw: Any) -> tuple[float, bool]:
        """(cost in USD, priced?). litellm has usually priced the response already; a model it
        cannot price counts as free (never a crash) and is not asked about again in this run."""
        if choice.kind == "local" or choice.litellm_model in self._unpriced:
            return 0.0, choice.kind == "local"
        known = (getattr(raw, "_hidden_params", None) or {}).get("response_cost")
        if known is not None:
            return float(known), True
        try:
            return float(litellm.completion_cost(completion_response=raw, model=choice.litellm_model) or 0.0), True
        except Exception:
            self._unpriced.add(choice.litellm_model)
            return 0.0, False

    def complete(
        self, messages: list[dict[str, Any]], *, source: str = "host", meta: dict[str, Any] | None = None, **overrides: Any
    ) -> Completion:
        """One model call with retries. Raises `BudgetExceeded` or `ModelError` (one line).

        `overrides` may set temperature, max_tokens (capped by the settings and the token budget
        left), stop, top_p, seed, tools, tool_choice, response_format; `meta` is added to the
        request's trajectory record."""
        if not isinstance(messages, list) or not messages or not all(isinstance(m, dict) and "role" in m for m in messages):
            raise ModelError("messages must be a non-empty list of {role, content} objects")
        choice = self.prepare()
        params = self._params(overrides)
        from selfcoder.llm.litellm_setup import import_litellm

        litellm = import_litellm()
        call, reservation = self._reserve(litellm, choice, messages, params)
        spent, reported = (0, 0.0), None
        try:
            completion = self._call(litellm, choice, call, messages, params, source, meta)
            spent, reported = (completion.usage.total_tokens, completion.usage.cost_usd), completion.usage.prompt_tokens
        finally:
            self.budget.settle(reservation, *spent, prompt_tokens=reported)
        past = self.budget.overrun()  # the provider counted more than was reserved: stop here
        if past:
            raise self._refuse(f"call {call} reported {spent[0]} tokens (~{reservation.estimate} estimated for "
                               f"its prompt): {past}")  # fmt: skip
        return completion

    def _call(self, litellm, choice: ModelChoice, call: int, messages: list[dict[str, Any]], params: dict[str, Any],
              source: str, meta: dict[str, Any] | None) -> Completion:
        self._log({"type": "llm_request", "call": call, "source": source, "model": choice.name, "params": params,
                   "messages": messages, **(meta or {})})  # fmt: skip
        retries = self.settings.model.max_retries
        started = time.monotonic()
        stats = None
        for attempt in range(retries + 1):
            if self._closed.is_set():
                raise self._count_failed(call, "the gateway was closed during the call")
            try:
                if choice.kind == "local":
                    raw, stats = self._stream_local(litellm, choice, call, messages, params)
                else:
                    raw = litellm.completion(
                        model=choice.litellm_model, messages=messages, timeout=self.settings.model.timeout_s,
                        num_retries=0, api_base=choice.api_base, api_key=choice.api_key, metadata=self._metadata, **params,
                    )  # fmt: skip
                break
            except Exception as e:
                crash = self._local_crash() if choice.kind == "local" else None
                if crash:
                    raise self._count_failed(call, crash) from None
                if self._closed.is_set():
                    raise self._count_failed(call, "the gateway was closed during the call") from None
                where = f" at {choice.api_base}" if choice.api_base and choice.kind != "local" else ""
                msg = f"model {choice.name}{where}: {error_kind(e)}: {one_line(e)}"
                if not retryable(e) or attempt == retries:
                    tries = f" (after {attempt + 1} attempts)" if attempt else ""
                    raise self._count_failed(call, msg + tries) from None
                delay = min(self.retry_max_delay_s, self.retry_base_delay_s * 2**attempt) * (0.5 + random.random() / 2)
                with self._lock:
                    self.usage.retries += 1
                self._log({"type": "llm_retry", "call": call, "attempt": attempt + 1, "error": msg, "delay_s": round(delay, 3)})
                if self._closed.wait(delay):
                    raise self._count_failed(call, "the gateway was closed during the call") from None
        message = raw.choices[0].message
        u = getattr(raw, "usage", None)
        cost, priced = self._cost(litellm, choice, raw)
        call_usage = CallUsage(int(getattr(u, "prompt_tokens", 0) or 0), int(getattr(u, "completion_tokens", 0) or 0), cost, priced)
        with self._lock:
            self.usage.add(call_usage)
            if not self._budget_hit:
                self._status = STATUS_OK
                self.last_error = None
        text = message.content or ""
        record: dict[str, Any] = {"type": "llm_response", "call": call, "source": source, "text": text,
                                  "finish_reason": raw.choices[0].finish_reason, "usage": call_usage.to_dict(),
                                  "duration_s": round(time.monotonic() - started, 3), "attempts": attempt + 1}  # fmt: skip
        if stats is not None:
            record["stream"] = stats.to_dict()
        if getattr(message, "tool_calls", None):
            record["tool_calls"] = [tc.model_dump() if hasattr(tc, "model_dump") else tc for tc in message.tool_calls]
        self._log(record)
        return Completion(text, call_usage, raw, choice.name, raw.choices[0].finish_reason, call)

    def _stream_local(self, litellm, choice: ModelChoice, call: int, messages: list[dict[str, Any]], params: dict[str, Any]):
        """One streamed attempt at the local server; progress goes to the trajectory and `on_progress`."""
        from selfcoder.llm.streaming import stream_completion

        last = [time.monotonic()]

        def progress(stats) -> None:
            now = time.monotonic()
            if stats.tokens == 1 or now - last[0] >= PROGRESS_EVERY_S:
                last[0] = now
                self._log({"type": "llm_progress", "call": call, "tokens": stats.tokens,
                           "first_token_s": stats.first_token_s})  # fmt: skip
                if self.on_progress is not None:
                    try:
                        self.on_progress(call, stats.to_dict())
                    except Exception:  # noqa: BLE001 - a broken display must not break the call
                        pass

        return stream_completion(litellm, model=choice.litellm_model, messages=messages, api_base=choice.api_base or "",
                                 api_key=choice.api_key, params=params, metadata=self._metadata,
                                 stall_timeout_s=self.stall_timeout_s, closed=self._closed, on_token=progress,
                                 server_pid=self._lease.state.server_pid if self._lease else None)  # fmt: skip

    def _local_crash(self) -> str | None:
        """One line about the local server's death when it is dead, else None."""
        if self._lease is None:
            return None
        from selfcoder.llm import local_state

        pid = self._lease.state.server_pid
        if local_state.alive(pid):
            return None
        record = local_state.crash_of(pid)
        if record is not None:
            return local_state.crash_message(record)
        return (f"the local model server (pid {pid}) is gone — see {local_state.state_dir() / 'server.log'}; "
                "start it again with `selfcoder model serve`, or let the next run start it")  # fmt: skip

    def _count_failed(self, call: int, message: str) -> ModelError:
        with self._lock:
            self.usage.failed_calls += 1
        return self._fail(message, call=call)

    # -- endpoint and lifetime -------------------------------------------------------------
    @contextmanager
    def serve(self, socket_path: Path | str, owner_uid: int | None = None) -> Iterator[Any]:
        """Serve this gateway at `socket_path` (OpenAI-compatible, over a unix socket) while the
        block runs; the socket file is removed on exit. The socket is 0600, owned by `owner_uid`
        (the sandbox's uid) when given. Yields the `SocketEndpoint`."""
        from selfcoder.llm.socket_server import SocketEndpoint

        endpoint = SocketEndpoint(self, Path(socket_path), owner_uid)
        endpoint.start()
        self._endpoints.append(endpoint)
        try:
            yield endpoint
        finally:
            endpoint.stop()
            self._endpoints.remove(endpoint)

    def summary(self) -> dict[str, Any]:
        """Status, usage and budget, as the run's result.json records them."""
        return {"status": self.status, "model": self.model_name, "usage": self.usage.to_dict(),
                "budget": self.budget.to_dict(), "error": self.last_error}  # fmt: skip

    def close(self) -> None:
        """Stop endpoints, abandon retries, release the local model server. Idempotent."""
        if self._closed.is_set():
            return
        self._closed.set()
        for endpoint in list(self._endpoints):
            endpoint.stop()
        if self._lease is not None:
            self._lease.release()
            self._lease = None
        self._log({"type": "llm_summary", **self.summary()})

    def __enter__(self) -> "Gateway":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
