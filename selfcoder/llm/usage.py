"""Token, cost and call counters for one run (the budget they draw from is in budget.py).

Limits live in `selfcoder.llm.budget.Budget`, which reserves each call's worst case before it
is sent and may be shared by many runs; `Usage` is what this one run used.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass
class CallUsage:
    """What one model call used."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    priced: bool = True  # False: litellm has no price for this model, cost counted as 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def to_dict(self) -> dict:
        return {**asdict(self), "total_tokens": self.total_tokens}

    to_json = to_dict


@dataclass
class Usage:
    """Running totals of one run."""

    calls: int = 0  # model calls started (a call with retries counts once)
    failed_calls: int = 0  # calls that ended in an error after their retries
    retries: int = 0  # extra attempts after rate limits, timeouts, server errors
    unpriced_calls: int = 0  # successful calls whose cost litellm could not price
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def add(self, call: CallUsage) -> None:
        self.prompt_tokens += call.prompt_tokens
        self.completion_tokens += call.completion_tokens
        self.cost_usd += call.cost_usd
        if not call.priced:
            self.unpriced_calls += 1

    def to_dict(self) -> dict:
        d = asdict(self)
        d["cost_usd"] = round(self.cost_usd, 8)
        d["total_tokens"] = self.total_tokens
        return d

    to_json = to_dict  # the runner's name for it (result.json "usage")
