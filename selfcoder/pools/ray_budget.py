"""One shared `Budget` for jobs on many machines: the Budget lives in a Ray actor, every process
(the driver and each worker's gateway) draws on it through a `SharedBudget` proxy.

Why an actor and not "each job gets the remaining money as its cap": with N jobs in flight each
would see the whole remainder and together they could spend N times it. The actor holds the one
`selfcoder.llm.budget.Budget`, so reservations, waits and refusals are exactly those of a local
run's shared budget: a run's own budget draws on the proxy as its `parent`
(`Budget.from_settings(settings.budget, parent=proxy)`), which uses only `exceeded`, `reserve`
and `settle`. A reservation that has to wait for calls in flight waits in short slices, so the
caller's `gave_up` is still honoured and no actor thread is held for long.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass
from typing import Any, Callable

from selfcoder.core.errors import BudgetExceeded
from selfcoder.llm.budget import Budget, Reservation

SLICE_S = 0.5  # one wait inside the actor; the proxy loops, checking gave_up between slices


@dataclass
class RemoteReservation(Reservation):
    remote_id: int = 0


class BudgetKeeper:
    """The actor's body (`ray.remote(max_concurrency=...)(BudgetKeeper)`): a Budget and its open grants."""

    def __init__(self, limits: dict, used: dict):
        self.budget = Budget(limits["max_tokens"], limits["max_cost_usd"], limits["max_calls"])
        self.budget.calls, self.budget.used_tokens = used["calls"], used["tokens"]
        self.budget.used_cost_usd = used["cost_usd"]
        self.open: dict[int, Reservation] = {}
        self.ids = itertools.count(1)  # next() is atomic: the actor's threads share it

    def exceeded(self) -> str | None:
        return self.budget.exceeded()

    def reserve(self, prompt_tokens: int, max_tokens: int, price) -> tuple | str | None:
        """(id, tokens, cost, max_tokens), None (not yet: try again), or a refusal message."""
        deadline = time.monotonic() + SLICE_S
        try:
            grant = self.budget.reserve(prompt_tokens, max_tokens, price, gave_up=lambda: time.monotonic() > deadline)
        except BudgetExceeded as e:
            return str(e)
        if grant is None:
            return None
        key = next(self.ids)
        self.open[key] = grant
        return key, grant.tokens, grant.cost_usd, grant.max_tokens

    def settle(self, key: int, tokens: int, cost_usd: float, prompt_tokens: int | None = None) -> None:
        grant = self.open.pop(key, None)
        if grant is not None:
            self.budget.settle(grant, tokens, cost_usd, prompt_tokens)

    def to_dict(self) -> dict:
        return self.budget.to_dict()


class SharedBudget:
    """A picklable stand-in for the driver's Budget; every call goes to the keeper actor."""

    def __init__(self, actor: Any):
        self.actor = actor

    @classmethod
    def create(cls, budget: Budget) -> "SharedBudget":
        import ray

        state = budget.to_dict()
        keeper = ray.remote(num_cpus=0, max_concurrency=64)(BudgetKeeper)
        limits = {k: state[k] for k in ("max_tokens", "max_cost_usd", "max_calls")}
        return cls(keeper.remote(limits, state["used"]))

    def _get(self, ref):
        import ray

        return ray.get(ref)

    def exceeded(self) -> str | None:
        return self._get(self.actor.exceeded.remote())

    def check(self) -> None:
        reason = self.exceeded()
        if reason:
            raise BudgetExceeded(f"budget exceeded: {reason}")

    def reserve(self, prompt_tokens: int, max_tokens: int, price=None, *,
                gave_up: Callable[[], bool] = lambda: False) -> Reservation | None:
        while True:
            answer = self._get(self.actor.reserve.remote(prompt_tokens, max_tokens, price))
            if isinstance(answer, str):
                raise BudgetExceeded(answer)
            if answer is not None:
                key, tokens, cost, granted = answer
                return RemoteReservation(tokens=tokens, cost_usd=cost, max_tokens=granted, remote_id=key)
            if gave_up():
                return None

    def settle(self, reservation: Reservation, tokens: int = 0, cost_usd: float = 0.0,
               prompt_tokens: int | None = None) -> None:
        if isinstance(reservation, RemoteReservation) and reservation.open:
            reservation.open = False
            self._get(self.actor.settle.remote(reservation.remote_id, int(tokens), float(cost_usd), prompt_tokens))

    def to_dict(self) -> dict:
        return self._get(self.actor.to_dict.remote())

    to_json = to_dict

    def close(self) -> None:
        import ray

        try:
            ray.kill(self.actor)
        except Exception:  # noqa: BLE001 - the cluster may already be gone
            pass
