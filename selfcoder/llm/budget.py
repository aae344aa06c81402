"""A budget of tokens, dollars and calls that one run, or many runs at once, draw from.

Why reservations: the limits used to be checked against what earlier calls had *used*, so 40
calls sent at the same moment (an agent's threads, or evolve's parallel runs sharing one
`--max-usd`) all saw an unspent budget and were all sent: 4 M tokens and $40 against 150 k
tokens and $1.50. Now a call first *reserves* its worst case (its prompt's estimated tokens plus
its `max_tokens`, and their price where the model's price is known), and a reservation that
does not fit is not sent; when the reply arrives the reservation is replaced by what the call
really used. A call that cannot fit *yet* because calls in flight hold the room waits for them
(they usually use far less than their worst case); one that could not fit even if every call
in flight used nothing is refused with `BudgetExceeded`.

The estimate (`estimate_prompt_tokens`: one token per 3 UTF-8 bytes; BPE tokenizers give 3.5-4.5
characters per token on English and code) is not trusted either: a provider may report far more
prompt tokens than that (one reported 100 k per call against a ~10-token estimate, and 4 calls at
once spent 400 k of a 150 k budget). So every report teaches the budget how far off the estimate
was (`prompt_ratio`, which only grows) and later estimates are scaled by it; until the first report
has arrived only one call is in flight at a time, so a wrong estimate costs at most one call; and
the gateway stops the run at the first report that took usage past a limit (`overrun`).

One `Budget` is thread-safe and may be shared by any number of gateways (`Gateway(budget=)`,
`selfcoder.solve.runner.run(budget=)`); each gateway keeps its own run's `Usage` as well.
"""

from __future__ import annotations

import json
import math
import threading
from dataclasses import dataclass
from typing import Any, Callable

from selfcoder.core.errors import BudgetExceeded, ConfigError

MESSAGE_OVERHEAD_TOKENS = 8  # role markers and separators a chat template adds per message
WAIT_SLICE_S = 0.25  # how often a waiting reservation checks whether its caller gave up
UNBOUNDED = 10**12  # tokens or calls of a shared budget that only limits dollars


def estimate_prompt_tokens(messages: list[dict[str, Any]], tools: Any = None) -> int:
    """An over-estimate of a prompt's tokens: one per 3 UTF-8 bytes of its text, plus a few per message."""
    total = 0
    for m in messages:
        content = m.get("content")
        text = content if isinstance(content, str) else json.dumps(content, ensure_ascii=False, default=str)
        extra = {k: v for k, v in m.items() if k not in ("role", "content") and v}
        if extra:
            text += json.dumps(extra, ensure_ascii=False, default=str)
        total += math.ceil(len(text.encode("utf-8", "replace")) / 3) + MESSAGE_OVERHEAD_TOKENS
    if tools:
        total += math.ceil(len(json.dumps(tools, ensure_ascii=False, default=str).encode()) / 3)
    return total + MESSAGE_OVERHEAD_TOKENS


def price_per_token(litellm, model: str, cache: dict) -> tuple[float, float] | None:
    """(USD per prompt token, USD per completion token) of a litellm model, or None when litellm
    has no price for it; asked once per `cache`."""
    if model not in cache:
        info = litellm.model_cost.get(model)
        if info is None:
            try:
                info = litellm.get_model_info(model)
            except Exception:
                info = None
        price = None
        if info and (info.get("input_cost_per_token") is not None or info.get("output_cost_per_token") is not None):
            price = (float(info.get("input_cost_per_token") or 0.0), float(info.get("output_cost_per_token") or 0.0))
        cache[model] = price
    return cache[model]


def check_max_usd(max_usd: float | None) -> None:
    """`--max-usd`, when given, must be positive; commands check it before they write anything."""
    if max_usd is not None and max_usd <= 0:
        raise ConfigError("--max-usd must be greater than 0")


@dataclass
class Reservation:
    """Room held for one call in flight; `max_tokens` is the completion size it was granted."""

    tokens: int
    cost_usd: float
    max_tokens: int
    open: bool = True
    parent: "Reservation | None" = None  # the same call's hold on the shared budget above this one
    estimate: int = 0  # the prompt's unscaled estimate, to compare with what the provider reports


class Budget:
    """Limits (every one must be positive) plus what all calls drawing from it used and hold."""

    def __init__(self, max_tokens: int, max_cost_usd: float, max_calls: int, *, parent: "Budget | None" = None):
        for name, value in (("max_tokens", max_tokens), ("max_cost_usd", max_cost_usd), ("max_calls", max_calls)):
            if not value or value <= 0:
                raise ConfigError(f"budget.{name} = {value!r}: must be greater than 0")
        self.max_tokens, self.max_cost_usd, self.max_calls = int(max_tokens), float(max_cost_usd), int(max_calls)
        self.calls = 0  # calls started (each counts once, whether it succeeds or fails)
        self.used_tokens = 0
        self.used_cost_usd = 0.0
        self.reserved_tokens = 0
        self.reserved_cost_usd = 0.0
        self.in_flight = 0  # open reservations
        self.prompt_ratio = 1.0  # the most any report's prompt tokens exceeded their estimate by
        self.reported = False  # whether any call has reported its usage yet
        self.parent = parent  # a shared budget (eval's or evolve's --max-usd) that every call also draws on
        self._cond = threading.Condition()

    @classmethod
    def from_settings(cls, s, parent: "Budget | None" = None) -> "Budget":  # s: selfcoder.core.config.BudgetSettings
        """A run's own budget; with `parent`, each call must also fit the shared budget (both limits hold)."""
        return cls(max_tokens=s.max_tokens, max_cost_usd=s.max_cost_usd, max_calls=s.max_calls, parent=parent)

    @classmethod
    def for_runs(cls, limits, runs: int | None, max_usd: float | None, *, spent_usd: float = 0.0) -> "Budget":
        """The budget many runs share (`limits`: one run's `BudgetSettings`): `runs` runs' tokens and
        calls (unbounded when the number of runs is not known ahead, as in evolve), and `max_usd`
        dollars (`--max-usd`; None: `runs` runs' dollars) less `spent_usd`, what earlier work spent."""
        check_max_usd(max_usd)
        n = max(1, runs or 0)
        if max_usd is None:
            max_usd = limits.max_cost_usd * n
        if max_usd - spent_usd <= 0:
            raise ConfigError(f"already spent ${spent_usd:.4f} of --max-usd ${max_usd:.4f}: raise --max-usd to go on")
        if runs is None:
            return cls(max_tokens=UNBOUNDED, max_cost_usd=max_usd - spent_usd, max_calls=UNBOUNDED)
        return cls(max_tokens=limits.max_tokens * n, max_cost_usd=max_usd - spent_usd, max_calls=limits.max_calls * n)

    # -- the questions -------------------------------------------------------------------------
    def exceeded(self) -> str | None:
        """Why no further call may start (by what was *used*, here or in the shared parent), or None."""
        with self._cond:
            reason = self._spent()
        if reason is None and self.parent is not None:
            shared = self.parent.exceeded()
            reason = f"shared {shared}" if shared else None
        return reason

    def _spent(self) -> str | None:
        if self.calls >= self.max_calls:
            return f"call budget used: {self.calls} of {self.max_calls} calls"
        if self.used_tokens >= self.max_tokens:
            return f"token budget used: {self.used_tokens} of {self.max_tokens} tokens"
        if self.used_cost_usd >= self.max_cost_usd:
            return f"cost budget used: ${self.used_cost_usd:.4f} of ${self.max_cost_usd:.4f}"
        return None

    def overrun(self) -> str | None:
        """Why usage is already *past* a limit (a report exceeded its reservation), here or in the parent."""
        with self._cond:
            reason = None
            if self.used_tokens > self.max_tokens:
                reason = f"{self.used_tokens} tokens used of {self.max_tokens}"
            elif self.used_cost_usd > self.max_cost_usd:
                reason = f"${self.used_cost_usd:.4f} used of ${self.max_cost_usd:.4f}"
        shared = getattr(self.parent, "overrun", None)
        if reason is None and shared is not None:
            reason = shared()
            reason = f"shared budget {reason}" if reason else None
        return reason

    def check(self) -> None:
        """Raise `BudgetExceeded` (one line) when no further call may start."""
        reason = self.exceeded()
        if reason:
            raise BudgetExceeded(f"budget exceeded: {reason}")

    # -- reserving -----------------------------------------------------------------------------
    def reserve(
        self,
        prompt_tokens: int,
        max_tokens: int,
        price: tuple[float, float] | None = None,
        *,
        gave_up: Callable[[], bool] = lambda: False,
    ) -> Reservation | None:
        """Hold room for a call of `prompt_tokens` (estimated) and up to `max_tokens` completion tokens.

        `price` is (USD per prompt token, USD per completion token), None when unknown (then only
        the tokens and calls are reserved). The grant's `max_tokens` may be smaller than asked when
        that is all the budget has left. Waits while calls in flight hold the room it needs (returns
        None if `gave_up()` turns true meanwhile); raises `BudgetExceeded` when it cannot fit.
        With a parent, the call holds room in both (the smaller grant wins)."""
        own = self._reserve_here(prompt_tokens, max_tokens, price, gave_up)
        if own is None or self.parent is None:
            return own
        try:
            shared = self.parent.reserve(prompt_tokens, own.max_tokens, price, gave_up=gave_up)
        except BudgetExceeded as e:
            self._undo(own)
            raise BudgetExceeded(str(e).replace("budget exceeded: ", "budget exceeded: shared ", 1)) from None
        if shared is None:
            self._undo(own)
            return None
        own.parent, own.max_tokens = shared, min(own.max_tokens, shared.max_tokens)
        return own

    def _undo(self, reservation: Reservation) -> None:
        """Take back a grant whose call never starts (the parent refused it): no call is counted."""
        self.settle(reservation)
        with self._cond:
            self.calls -= 1

    def _reserve_here(self, prompt_tokens: int, max_tokens: int, price, gave_up) -> Reservation | None:
        with self._cond:
            while True:
                reason = self._spent()
                if reason is None:
                    grant = self._try(math.ceil(prompt_tokens * self.prompt_ratio), max_tokens, price)
                    if isinstance(grant, Reservation):
                        grant.estimate = prompt_tokens
                        self.calls += 1
                        self.in_flight += 1
                        self.reserved_tokens += grant.tokens
                        self.reserved_cost_usd += grant.cost_usd
                        return grant
                    reason = grant
                if reason != "wait":
                    raise BudgetExceeded(f"budget exceeded: {reason}")
                if gave_up():
                    return None
                self._cond.wait(WAIT_SLICE_S)

    def _try(self, prompt: int, want: int, price: tuple[float, float] | None) -> Reservation | str:
        """A grant, a refusal reason, or "wait" (the whole grant fits once calls in flight settle)."""
        tokens_left = self.max_tokens - self.used_tokens
        if prompt + 1 > tokens_left:
            return (f"token budget: this call needs ~{prompt + 1} tokens and only {tokens_left} of "
                    f"{self.max_tokens} are left")  # fmt: skip
        grant = min(want, tokens_left - prompt)  # what fits if the calls in flight used nothing
        now = min(grant, tokens_left - self.reserved_tokens - prompt)  # what fits beside them
        if price is not None:
            per_in, per_out = price
            cost_left = self.max_cost_usd - self.used_cost_usd
            if prompt * per_in + per_out > cost_left:
                return (f"cost budget: this call costs at least ${prompt * per_in + per_out:.4f} and only "
                        f"${cost_left:.4f} of ${self.max_cost_usd:.4f} is left")  # fmt: skip
            room_now = cost_left - self.reserved_cost_usd - prompt * per_in
            if per_out > 0:
                grant = min(grant, int((cost_left - prompt * per_in) / per_out))
                now = min(now, int(room_now / per_out) if room_now > 0 else 0)
            elif room_now < 0:
                now = 0
        if grant < 1:
            return "cost budget: nothing left for a reply"
        if self.in_flight and (now < grant or not self.reported):
            return "wait"  # only calls in flight can hold room; before any report, one call at a time
        cost = prompt * price[0] + grant * price[1] if price is not None else 0.0
        return Reservation(tokens=prompt + grant, cost_usd=cost, max_tokens=grant)

    def settle(self, reservation: Reservation, tokens: int = 0, cost_usd: float = 0.0,
               prompt_tokens: int | None = None) -> None:
        """Replace `reservation` with what the call really used (0 for a call that failed);
        `prompt_tokens`, the provider's count of the prompt, corrects later estimates."""
        if reservation.parent is not None and self.parent is not None:
            self.parent.settle(reservation.parent, tokens, cost_usd, prompt_tokens)
        with self._cond:
            if not reservation.open:
                return
            reservation.open = False
            self.in_flight -= 1
            self.reserved_tokens -= reservation.tokens
            self.reserved_cost_usd -= reservation.cost_usd
            if self.in_flight == 0:  # no float dust may hold room that nobody holds
                self.reserved_tokens, self.reserved_cost_usd = 0, 0.0
            self.used_tokens += int(tokens)
            self.used_cost_usd += float(cost_usd)
            if tokens or prompt_tokens is not None:
                self.reported = True
            if prompt_tokens and reservation.estimate > 0:
                self.prompt_ratio = max(self.prompt_ratio, int(prompt_tokens) / reservation.estimate)
            self._cond.notify_all()

    # -- records -------------------------------------------------------------------------------
    def to_dict(self) -> dict:
        """The limits and what was used so far (the gateway's summary and result.json show it)."""
        with self._cond:
            return {"max_tokens": self.max_tokens, "max_cost_usd": self.max_cost_usd, "max_calls": self.max_calls,
                    "used": {"calls": self.calls, "tokens": self.used_tokens, "cost_usd": round(self.used_cost_usd, 8)},
                    "reserved": {"tokens": self.reserved_tokens, "cost_usd": round(self.reserved_cost_usd, 8)},
                    "prompt_ratio": round(self.prompt_ratio, 3)}  # fmt: skip

    to_json = to_dict

    def __repr__(self) -> str:
        return (f"Budget(max_tokens={self.max_tokens}, max_cost_usd={self.max_cost_usd}, max_calls={self.max_calls}, "
                f"used_tokens={self.used_tokens}, used_cost_usd={self.used_cost_usd:.4f}, calls={self.calls})")  # fmt: skip
